"""The site builds offline with `mkdocs build --strict`, and its generated pages match the
registries they come from (phases, drills, problem types, the OpenAPI of the latest phase).

A phase whose README.md (or notebook) is not merged yet is given the fixture article in
tests/site/fixtures/, read from a temporary copy of its folder; the phases' own files are used
as soon as they exist. The fixture notebook is stored as .json so that `pytest --nbval-lax`
does not collect and execute it.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from fintech_core.phase import Phase
from fintech_core.settings import REPO_ROOT as REPO
from fintech_core.sitegen import benchmarks, drills, offline
from fintech_core.sitegen.build import Sources, generate
from fintech_core.sitegen.openapi import METHODS, openapi_spec
from phases import REGISTRY, composition
from tests.browser import chromium_path, offline_chromium
from tests.offline import css_off_machine_refs, loaded_urls, off_machine_refs

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    tmp = tmp_path_factory.mktemp("site")
    overlay = tmp / "phase-fixtures"

    def folder_of(phase: Phase) -> Path:
        if all((phase.folder / name).is_file() for name in ("README.md", "notebook.ipynb")):
            return phase.folder  # an article merged before its notebook still gets the fixture
        copy = overlay / phase.folder.name
        shutil.copytree(phase.folder, copy, dirs_exist_ok=True)
        for fixture, name in (("README.md", "README.md"), ("notebook.json", "notebook.ipynb")):
            if not (copy / name).exists():
                shutil.copyfile(FIXTURES / fixture, copy / name)
        return copy

    config = generate(tmp / "out", Sources(REGISTRY, folder_of=folder_of,
                                               results_dir=tmp / "results"))
    out_html = tmp / "html"
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(out_html)],
        capture_output=True, text=True, timeout=180,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    yield tmp


def _html(built: Path, page: str) -> str:
    return (built / "html" / page).read_text(encoding="utf-8")


def test_every_registered_phase_has_its_article_and_notebook(built: Path) -> None:
    for phase in REGISTRY.phases:
        page = _html(built, f"phases/phase-{phase.number:02d}/index.html")
        own = (phase.folder / "README.md").is_file()
        readme = phase.folder / "README.md" if own else FIXTURES / "README.md"
        title = next(line[2:].strip() for line in readme.read_text().splitlines()
                     if line.startswith("# "))
        assert title.split()[0] in page
        notebook = (phase.folder / "notebook.ipynb" if own else FIXTURES / "notebook.json")
        if notebook.is_file():
            rendered = _html(built, f"phases/phase-{phase.number:02d}/notebook.html")
            outputs = [o for c in json.loads(notebook.read_text())["cells"]
                       for o in c.get("outputs", []) if o.get("output_type") == "stream"]
            for output in outputs[:3]:  # committed outputs are shown as they were saved
                text = "".join(output["text"]).strip().splitlines()[0]
                assert text in rendered


def test_notebooks_are_rendered_not_executed(built: Path) -> None:
    """The fixture cell prints 42 when run; its saved output says otherwise."""
    rendered = "".join(_html(built, f"phases/phase-{p.number:02d}/notebook.html")
                       for p in REGISTRY.phases
                       if (built / "html" / f"phases/phase-{p.number:02d}/notebook.html").exists())
    if not any(not (p.folder / "notebook.ipynb").exists() for p in REGISTRY.phases):
        pytest.skip("every phase has its own notebook; the fixture is not used")
    assert "fixture-output-42" in rendered


def test_drills_page_matches_the_registry(built: Path) -> None:
    entries = drills.drill_entries(composition().drills)
    samples = {p.stem for p in (REPO / "site/samples/drills").glob("*.json")} - {"about"}
    assert (built / "out/docs/drills.md").read_text() == drills.drills_page(entries, samples)
    page = _html(built, "drills.html")
    if entries is None:
        assert "issue 5" in page
    else:
        for entry in entries:
            assert f"<code>{entry.name}</code>" in page


def test_problem_types_page_lists_every_code(built: Path) -> None:
    page = _html(built, "problems.html")
    for code, ptype in composition().problems.items():
        assert f'id="{code}"' in page, code
        assert ptype.title.split()[0] in page


def test_api_reference_covers_every_operation(built: Path) -> None:
    spec = openapi_spec(composition())
    served = json.loads((built / "html/api/openapi.json").read_text())
    assert served == json.loads(json.dumps(spec))
    page = (built / "out/docs/api/index.md").read_text()
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                assert f"### {method.upper()} {path}\n" in page
    headings = [line for line in page.splitlines() if line.startswith("### ")]
    assert not [h for h in headings if "/naive" in h or "/_drill" in h]


def test_built_site_loads_nothing_from_the_network(built: Path) -> None:
    """No page names an off-machine script, stylesheet, icon or font, in a tag or in inline
    code (nbconvert's notebook template imports mermaid from a CDN unless the hook rewrites it),
    and no stylesheet pulls web fonts (Material's Google Fonts are off: theme.font false)."""
    site = built / "html"
    offenders = {str(p.relative_to(site)): found[:3] for p in site.rglob("*.html")
                 if (found := off_machine_refs(p.read_text(encoding="utf-8")))}
    offenders |= {str(p.relative_to(site)): found[:3] for p in site.rglob("*.css")
                  if (found := css_off_machine_refs(p.read_text(encoding="utf-8")))}
    assert not offenders
    for page in site.rglob("*.html"):  # and what they do load is in the build
        for url in loaded_urls(page.read_text(encoding="utf-8")):
            if url and not url.startswith(("data:", "#")):
                path = urlsplit(url).path  # 404.html is served at any depth: root-relative
                target = (site / path[1:] if path.startswith("/") else page.parent / path).resolve()
                assert target.is_file(), f"{page.relative_to(site)} loads missing {url}"


def test_mermaid_is_shipped_with_the_site(built: Path) -> None:
    """Material imports mermaid from a CDN unless a global `mermaid` exists when a diagram is
    drawn: every page with a diagram loads the shipped browser build first."""
    script = built / "html" / offline.MERMAID_JS
    assert script.stat().st_size > 1_000_000  # the real library, not a stub
    assert 'globalThis["mermaid"]' in script.read_text(encoding="utf-8")[-500:]
    pages = [p for p in (built / "html").rglob("*.html") if 'class="mermaid"' in p.read_text()]
    assert pages  # the architecture page has three diagrams
    for page in pages:
        loads = [urlsplit(u).path for u in loaded_urls(page.read_text(encoding="utf-8"))]
        assert any((page.parent / u).resolve() == script.resolve() for u in loads), page


def test_labs_and_guides_are_published(built: Path) -> None:
    from fintech_core.labs.registry import PLANNED

    LABS = composition().labs

    index = _html(built, "labs/index.html")
    for spec in LABS:
        assert spec.title in index
        if (spec.folder / "schema.sql").is_file():  # a lab without a database has no schema
            assert 'id="the-schema"' in _html(built, f"labs/lab-{spec.number:02d}.html")
    for planned in PLANNED:
        assert planned.title in index
    for page in ("instructor.html", "architecture.html", "benchmarks.html", "index.html"):
        assert (built / "html" / page).is_file()
    assert 'class="mermaid"' in _html(built, "architecture.html")


# What a reader meets on a fresh clone: executed notebooks, a benchmark, sample drill timelines.


def test_phase_notebooks_are_committed_executed() -> None:
    """The site renders notebooks as committed (it has no servers to run them): a cell saved
    without running shows a bare `In [ ]:` there."""
    for phase in REGISTRY.phases:
        notebook = phase.folder / "notebook.ipynb"
        if notebook.is_file():
            code = [c for c in json.loads(notebook.read_text())["cells"]
                    if c["cell_type"] == "code"]
            unrun = [i for i, c in enumerate(code) if c.get("execution_count") is None]
            assert not unrun, f"{notebook}: code cells {unrun} were committed without running"


def test_benchmarks_page_shows_the_reference_run_without_a_local_one(built: Path,
                                                                    tmp_path: Path) -> None:
    reference = REPO / "site/samples/bench"
    about = json.loads((reference / "about.json").read_text())
    run = json.loads((reference / "bench.json").read_text())
    assert run["rows"] and all(r["checks"]["ok"] for r in run["rows"])  # a real, correct run
    page = _html(built, "benchmarks.html")  # the fixture's results/ is empty
    assert "No benchmark run on this machine yet" not in page
    for fact in (about["command"], about["date"], "quick"):
        assert fact in page
    assert f"<td>{run['rows'][0]['api']['per_second']}</td>" in page
    for plot in benchmarks.REFERENCE_PLOTS:
        assert (built / "html/samples/bench" / plot).is_file()
    # A local run, once there is one, is what the page shows.
    local = tmp_path / "results" / "x"
    local.mkdir(parents=True)
    (local / "bench.json").write_text(json.dumps({**run, "profile": "smoke"}))
    mine = benchmarks.benchmarks_page(tmp_path / "results", reference, "samples/bench")
    assert "Profile `smoke`" in mine and about["command"] not in mine


def test_every_drill_has_a_recorded_timeline(built: Path) -> None:
    catalogue = _html(built, "drills.html")
    for drill in composition().drills:
        sample = json.loads((REPO / f"site/samples/drills/{drill.name}.json").read_text())
        assert sample["name"] == drill.name and sample["ok"]
        assert {s["side"] for s in sample["sides"]} == {"naive", "phase"}  # --against both
        page = _html(built, f"drills/{drill.name}.html")
        assert f'href="drills/{drill.name}.html"' in catalogue
        for side in sample["sides"]:
            assert f"{side['label']}: timeline" in page
            for event in side["events"][:3]:
                assert html.escape(event["text"], quote=False) in page
        assert "Recorded on" in page


def test_performance_write_up_and_interview_notebook_are_published(built: Path) -> None:
    write_up = (REPO / "shared/fintech_core/bench/README.md").read_text()
    title = write_up.splitlines()[0].removeprefix("# ")
    assert html.escape(title.split(":")[0]) in _html(built, "more/performance.html")
    assert 'href="more/performance.html"' in _html(built, "benchmarks.html")
    interview = json.loads((REPO / "notebooks/interview.ipynb").read_text())
    heading = next("".join(c["source"]).splitlines()[0].lstrip("# ")
                   for c in interview["cells"] if c["cell_type"] == "markdown")
    assert html.escape(heading.split(":")[0], quote=False) in _html(built, "interview.html")


# In a real browser with no network: nothing is fetched off the machine, diagrams are drawn,
# and notebook tables fit their column.

needs_chromium = pytest.mark.skipif(chromium_path() is None,
                                    reason="chromium not installed (apt-get install chromium)")


@needs_chromium
def test_pages_in_a_browser_without_network(built: Path) -> None:
    html_dir = built / "html"
    pages = ["index.html", "architecture.html", "phases/phase-00/index.html",
             "phases/phase-00/notebook.html", "benchmarks.html", "drills/response-lost.html",
             "interview.html"]
    drawn = ("(() => { const d = [...document.querySelectorAll('.mermaid')];"
             " return d.every(e => e.textContent.trim() === '' && e.offsetHeight > 50); })()")
    with offline_chromium() as open_page:
        for name in pages:
            with open_page((html_dir / name).as_uri()) as page:
                diagrams = page.evaluate("document.querySelectorAll('.mermaid').length")
                if diagrams:  # the source text is replaced by the drawing
                    assert page.wait_for(drawn, timeout=30), f"{name}: diagrams not drawn"
                fetched = [u for u in page.requests if not u.startswith(("file:", "data:"))]
                assert fetched == [], name
                if name == "phases/phase-00/notebook.html":
                    # right edges of each Markdown table and of its cell: past it is cut off
                    edges = page.evaluate(
                        "[...document.querySelectorAll('.jp-RenderedMarkdown table')].map(t =>"
                        " [t.getBoundingClientRect().right,"
                        "  t.closest('.jp-RenderedMarkdown').getBoundingClientRect().right])")
                    assert edges and all(t <= c + 1 for t, c in edges), edges
