"""The site generator's pieces, without mkdocs: link rewriting, registries, placeholders."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from fintech_core.sitegen import benchmarks, drills, home
from fintech_core.sitegen.markdown import rewrite_links
from fintech_core.sitegen.phases import MissingReadme, phase_docs
from phases import REGISTRY, composition


def test_links_to_published_pages_are_kept_and_others_become_paths(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    src = repo / "phases" / "p0"
    (src / "img").mkdir(parents=True)
    (src / "img" / "flow.png").write_bytes(b"png")
    docs_page_dir = tmp_path / "docs" / "phases" / "phase-00"
    pages = {(repo / "labs" / "README.md").resolve(): tmp_path / "docs" / "labs" / "index.md"}
    assets: dict[Path, Path] = {}
    text = ("See [the labs](../../labs/README.md#start), [code](../../shared/x.py), "
            "[web](https://example.org), [here](#top) and ![flow](img/flow.png).\n"
            "```\n[not a link](../../shared/y.py)\n```\n")
    out = rewrite_links(text, src.resolve(), docs_page_dir, repo.resolve(), pages, assets)
    assert "[the labs](../../labs/index.md#start)" in out
    assert "code (`shared/x.py`)" in out
    assert "[web](https://example.org)" in out and "[here](#top)" in out
    assert "![flow](img/flow.png)" in out
    assert assets == {(src / "img" / "flow.png").resolve(): docs_page_dir / "img" / "flow.png"}
    assert "[not a link](../../shared/y.py)" in out  # fenced code is left alone


def test_a_registered_phase_without_readme_is_an_error(tmp_path: Path) -> None:
    phase = replace(REGISTRY.phases[0], folder=tmp_path)
    with pytest.raises(MissingReadme, match=r"README\.md"):
        phase_docs([phase])
    (tmp_path / "README.md").write_text("# P\n")
    (doc,) = phase_docs([phase])
    assert doc.notebook is None


def test_drills_page_lists_the_composed_drills() -> None:
    drills_ = composition().drills
    entries = drills.drill_entries(drills_)
    assert entries is not None and [e.name for e in entries] == [d.name for d in drills_]
    page = drills.drills_page(entries)
    assert "`response-lost`" in page and f"{len(drills_)} drills" in page


def test_drills_page_says_when_a_composition_has_no_drills() -> None:
    assert drills.drill_entries(()) is None
    assert "issue 5" in drills.drills_page(None)


def test_benchmarks_placeholder_then_latest_result(tmp_path: Path) -> None:
    assert "make bench" in benchmarks.benchmarks_page(tmp_path)
    (tmp_path / "old.json").write_text(json.dumps({"tps": 1}))
    newest = tmp_path / "run" / "new.json"
    newest.parent.mkdir()
    newest.write_text(json.dumps([{"scenario": "hot-account", "tps": 812, "p99_ms": 41}]))
    page = benchmarks.benchmarks_page(tmp_path)
    assert "results/run/new.json" in page and "| hot-account | 812 | 41 |" in page


def test_benchmarks_page_reads_the_fincore_bench_format(tmp_path: Path) -> None:
    row = {"workload": "hot", "clients": 16, "ratio": 0.21, "checks": {"ok": True},
           "api": {"per_second": 300.5, "latency_ms": {"p50": 40.1, "p99": 90.2}},
           "pgbench": {"script": "hot-account", "tps": 1431.0}}
    (tmp_path / "bench.json").write_text(json.dumps(
        {"profile": "quick", "phase": 1, "api_workers": 2, "client_ceiling_rps": 5000.0,
         "started_at": "x", "rows": [row]}))
    page = benchmarks.benchmarks_page(tmp_path)
    assert "| hot | 16 | 300.5 | 1431 | 0.21 | 40.1 | 90.2 | ok |" in page  # tps: whole numbers


def test_home_marks_only_registered_phases_as_built() -> None:
    docs = phase_docs([replace(REGISTRY.phases[0], folder=Path(__file__).parents[1] / "site" /
                               "fixtures")])
    page = home.home_page(docs)
    rows = [line for line in page.splitlines() if line.startswith("| ")]
    built = [r for r in rows if "**built**" in r]
    assert len(built) == 1 and built[0].startswith("| 0 |")
    assert sum("| planned |" in r for r in rows) == len(home.ROADMAP) - 1
