"""The site generator: assembles the mkdocs sources from the repository itself.

Nothing on the site is maintained twice. Phase pages are the phases' own README and notebook;
the drills, labs, problem types and API reference are generated from their registries and from
the app factory; benchmark results are read from results/. Real runs recorded once and committed
under site/samples/ (a benchmark, one timeline per drill) stand in where a fresh clone has none.
`build.generate()` writes a docs folder plus a small mkdocs.yml that inherits `site/mkdocs.yml`
and adds the navigation, and mkdocs (`--strict`) turns that into HTML. No step needs a network or
a running server.
"""
