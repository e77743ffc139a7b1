"""Assemble the docs folder and a generated mkdocs config; see the package docstring.

Layout written under `out`:
    out/docs/...                 every page (wiped and rewritten on each run)
    out/mkdocs.generated.yml     INHERITs site/mkdocs.yml, adds docs_dir, site_dir and the nav
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fintech_core.labs import registry as lab_registry
from fintech_core.phase import Composition, Phase, Registry, SitePage
from fintech_core.settings import REPO_ROOT
from fintech_core.sitegen import (
    benchmarks,
    drill_samples,
    drills,
    home,
    labs,
    offline,
    openapi,
    problems,
)
from fintech_core.sitegen.markdown import rewrite_links
from fintech_core.sitegen.phases import PhaseDoc, phase_docs

CONFIG_NAME = "mkdocs.generated.yml"
# Hand-written pages in site/pages/ and where they go in the docs folder.
HAND_WRITTEN = {"architecture.md": "architecture.md", "instructor.md": "instructor.md",
                "labs.md": "labs/index.md"}
INTERVIEW = "interview.ipynb"
# The performance write-up; the phase that publishes it (a SitePage) is linked from Benchmarks.
BENCH_WRITE_UP = REPO_ROOT / "shared" / "fintech_core" / "bench" / "README.md"


@dataclass
class Sources:
    """What the site is built from. `registry` comes from above the core (site/build.py)."""

    registry: Registry
    repo_root: Path = REPO_ROOT
    folder_of: Callable[[Phase], Path] = lambda p: p.folder
    results_dir: Path = REPO_ROOT / "results"

    @property
    def site_dir(self) -> Path:
        return self.repo_root / "site"

    @property
    def phases(self) -> Sequence[Phase]:
        return self.registry.phases

    @property
    def latest(self) -> Composition:
        return self.registry.composition(self.registry.latest())

    @property
    def samples_dir(self) -> Path:
        """Committed real runs (a benchmark, one per drill) shown when there is no local one."""
        return self.site_dir / "samples"

    @property
    def interview(self) -> Path:
        return self.repo_root / "notebooks" / "interview.ipynb"


class _Writer:
    def __init__(self, docs: Path, sources: Sources, pages: dict[Path, Path]) -> None:
        self.docs, self.sources, self.pages = docs, sources, pages
        self.assets: dict[Path, Path] = {}

    def text(self, rel: str, content: str) -> None:
        path = self.docs / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")

    def markdown_file(self, source: Path, rel: str, extra: str = "",
                      links_from: Path | None = None) -> None:
        dest = self.docs / rel
        text = rewrite_links(source.read_text(encoding="utf-8"),
                             (links_from or source.parent).resolve(),
                             dest.parent, self.sources.repo_root.resolve(), self.pages,
                             self.assets)
        self.text(rel, text + extra)

    def copy_assets(self) -> None:
        for source, dest in self.assets.items():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)


def _page_map(docs: Path, sources: Sources, phase_pages: list[PhaseDoc]) -> dict[Path, Path]:
    """Repository files that the site publishes, and where: the target of README links."""
    pages = {(sources.site_dir / "pages" / name).resolve(): docs / dest
             for name, dest in HAND_WRITTEN.items()}
    pages[(lab_registry.LABS_ROOT / "README.md").resolve()] = docs / "labs" / "index.md"
    for spec in sources.latest.labs:
        pages[spec.readme.resolve()] = docs / labs.lab_page_name(spec)
    for page in sources.latest.site_pages:
        pages[page.source.resolve()] = docs / _site_page_name(page)
    for doc in phase_pages:
        pages[(doc.home / "README.md").resolve()] = docs / doc.page
        if doc.notebook:
            pages[(doc.home / "notebook.ipynb").resolve()] = docs / doc.notebook_page
    pages[sources.interview.resolve()] = docs / INTERVIEW
    return pages


def _site_page_name(page: SitePage) -> str:
    return "more/" + "-".join(page.title.lower().split()) + ".md"


def _nav(phase_pages: list[PhaseDoc], has_drills: bool, sources: Sources,
         samples: list[str]) -> list[Any]:
    phase_nav: list[Any] = []
    for doc in phase_pages:
        entries: list[Any] = [{"Article": doc.page}]
        if doc.notebook:
            entries.append({"Notebook": doc.notebook_page})
        phase_nav.append({f"Phase {doc.number}: {doc.title}": entries})
    lab_nav: list[Any] = [{"Running the labs": "labs/index.md"}]
    lab_nav += [{f"Lab {s.number}: {s.title}": labs.lab_page_name(s)}
                for s in sources.latest.labs]
    more = [{p.title: _site_page_name(p)} for p in sources.latest.site_pages]
    return [
        {"Home": "index.md"},
        {"Phases": phase_nav},
        {"Labs": lab_nav},
        {"Instructor guide": "instructor.md"},
        {"Drills" if has_drills else "Drills (coming)": [
            {"Catalogue": "drills.md"},
            *[{f"Sample run: {name}": drill_samples.page_name(name)} for name in samples]]},
        {"Interview notebook": INTERVIEW},
        {"Architecture": "architecture.md"},
        {"API reference": "api/index.md"},
        {"Problem types": "problems.md"},
        {"Benchmarks": "benchmarks.md"},
        *([{"More": more}] if more else []),
    ]


def generate(out: Path, sources: Sources) -> Path:
    """Write every page and the generated config under `out`; return the config's path."""
    latest = sources.latest
    phase_pages = phase_docs(sources.phases, sources.folder_of)  # fails early on a missing README
    docs = out / "docs"
    shutil.rmtree(docs, ignore_errors=True)
    docs.mkdir(parents=True)
    w = _Writer(docs, sources, _page_map(docs, sources, phase_pages))

    w.text("index.md", home.home_page(phase_pages))
    for doc in phase_pages:
        w.markdown_file(doc.readme, doc.page, links_from=doc.home)
        if doc.notebook:
            shutil.copyfile(doc.notebook, docs / doc.notebook_page)
    for name, dest in HAND_WRITTEN.items():
        extra = ("\n" + labs.labs_table(latest.labs, lab_registry.PLANNED)
                 if dest == "labs/index.md" else "")
        w.markdown_file(sources.site_dir / "pages" / name, dest, extra)
    for spec in latest.labs:
        w.markdown_file(spec.readme, labs.lab_page_name(spec), labs.lab_schema_section(spec))
    for page in latest.site_pages:
        w.markdown_file(page.source, _site_page_name(page))
    entries = drills.drill_entries(latest.drills)
    samples = drill_samples.load_samples(sources.samples_dir / "drills",
                                         [e.name for e in entries or []])
    about = drill_samples.read_about(sources.samples_dir / "drills")
    for sample in samples:
        w.text(drill_samples.page_name(sample.name), drill_samples.sample_page(sample, about))
    w.text("drills.md", drills.drills_page(entries, {s.name for s in samples}))
    shutil.copyfile(sources.interview, docs / INTERVIEW)
    w.text("problems.md", problems.problems_page(latest.problems))
    contract = openapi.openapi_spec(latest)
    w.text("api/openapi.json", json.dumps(contract, indent=2) + "\n")
    w.text("api/index.md", openapi.reference_page(contract, latest.problems))
    reference = sources.samples_dir / "bench"
    write_up = next((_site_page_name(p) for p in latest.site_pages
                     if p.source.resolve() == BENCH_WRITE_UP.resolve()), None)
    w.text("benchmarks.md", benchmarks.benchmarks_page(sources.results_dir, reference,
                                                       "samples/bench", write_up))
    for plot in benchmarks.REFERENCE_PLOTS:
        if (reference / plot).is_file():
            (docs / "samples/bench").mkdir(parents=True, exist_ok=True)
            shutil.copyfile(reference / plot, docs / "samples/bench" / plot)
    w.copy_assets()
    offline.copy_mermaid(docs)
    shutil.copytree(sources.site_dir / "stylesheets", docs / "stylesheets")

    config = out / CONFIG_NAME
    base = os.path.relpath(sources.site_dir / "mkdocs.yml", out)
    site_dir = os.path.relpath(sources.site_dir / "build", out)
    # Hook paths resolve against the generated config, not the inherited one: set them here.
    hooks = [os.path.relpath(Path(offline.__file__), out)]
    config.write_text(
        "# GENERATED by site/build.py: the base config is site/mkdocs.yml.\n"
        + json.dumps({"INHERIT": base, "docs_dir": "docs", "site_dir": site_dir, "hooks": hooks,
                      "nav": _nav(phase_pages, entries is not None, sources,
                                  [s.name for s in samples])}, indent=2)
        + "\n",
        encoding="utf-8")
    return config
