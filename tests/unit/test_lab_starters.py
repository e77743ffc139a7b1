"""Starter generation and the lab catalogue, without a database: fast checks that run first."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fintech_core.cli import context
from fintech_core.labs import registry
from fintech_core.labs.cli import app
from fintech_core.labs.criteria import criteria
from fintech_core.labs.starter import MarkerError, generate, generate_file
from phases import REGISTRY, composition

SOLUTION = '''\
def add(a, b):
    """Given."""
    # --- solution begin
    # hint: return the sum
    total = a + b
    return total
    # --- solution end
'''

context.install(REGISTRY)  # the lab commands read the registry's labs, as under the real CLI
LABS = composition().labs


def test_region_becomes_stub_with_hint_kept() -> None:
    starter = generate(SOLUTION, 7)
    assert "total = a + b" not in starter
    assert '    """Given."""\n    # TODO (lab 7): write this part.\n    # hint: return the sum\n' \
           '    raise NotImplementedError(' in starter
    namespace: dict[str, object] = {}
    exec(starter, namespace)
    with pytest.raises(NotImplementedError, match="lab 7"):
        namespace["add"](1, 2)  # type: ignore[operator]


@pytest.mark.parametrize("broken", [
    SOLUTION.replace("    # --- solution end\n", ""),
    SOLUTION.replace("    # --- solution begin\n", ""),
    SOLUTION.replace("    total", "    # --- solution begin\n    total"),
    "def f():\n    return 1\n",
])
def test_bad_markers_are_errors(broken: str) -> None:
    with pytest.raises(MarkerError):
        generate(broken, 1)


@pytest.mark.parametrize("spec", LABS, ids=lambda s: s.slug)
def test_committed_starter_equals_fresh_generation(spec: registry.LabSpec) -> None:
    assert spec.starter.read_text(encoding="utf-8") == generate_file(spec.solution, spec.number), (
        f"{spec.starter} is stale: run `./fcl lab generate`")


@pytest.mark.parametrize("spec", LABS, ids=lambda s: s.slug)
def test_readme_lists_every_acceptance_criterion(spec: registry.LabSpec) -> None:
    readme = " ".join(spec.readme.read_text(encoding="utf-8").split())
    found = criteria(spec.tests_dir)
    assert len(found) >= 5
    missing = [c.text for c in found if c.text not in readme]
    assert not missing, f"{spec.readme} does not list these criteria: {missing}"
    for section in ("## Goal", "## What to change", "## Acceptance criteria", "## Hints",
                    "## Discussion questions", "Expected time"):
        assert section in readme
    assert f"{spec.minutes} minutes" in readme


def test_labs_index_lists_ready_and_planned_labs() -> None:
    index = (registry.LABS_ROOT / "README.md").read_text(encoding="utf-8")
    rows = {int(m.group(1)): m.group(0) for m in re.finditer(r"^\| (\d+) \|.*$", index, re.M)}
    assert sorted(rows) == sorted([s.number for s in LABS] +
                                  [p.number for p in registry.PLANNED])
    for spec in LABS:
        assert f"{spec.folder_name}/README.md" in rows[spec.number] and "ready" in rows[spec.number]
    for planned in registry.PLANNED:
        assert "planned" in rows[planned.number] and planned.depends_on in rows[planned.number]


def test_start_copies_starter_and_refuses_to_overwrite(tmp_path: Path) -> None:
    runner = CliRunner()
    dest = tmp_path / "mine"
    first = runner.invoke(app, ["start", "1", "--path", str(dest)])
    assert first.exit_code == 0, first.output
    copy = dest / registry.find(LABS, 1).module
    assert copy.read_text() == registry.find(LABS, 1).starter.read_text()
    copy.write_text("# an hour of work\n")
    again = runner.invoke(app, ["start", "1", "--path", str(dest)])
    assert again.exit_code == 1 and "--force" in again.output
    assert copy.read_text() == "# an hour of work\n"
    forced = runner.invoke(app, ["start", "1", "--path", str(dest), "--force"])
    assert forced.exit_code == 0 and copy.read_text() == registry.find(LABS, 1).starter.read_text()


def test_planned_and_unknown_labs_are_refused_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "PLANNED", (registry.PlannedLab(
        9, "A lab still to write", "phase 9 (not built yet)"),))
    runner = CliRunner()
    planned = runner.invoke(app, ["start", "9"])
    assert planned.exit_code == 2 and "phase 9" in planned.output
    assert runner.invoke(app, ["check", "99"]).exit_code == 2


def test_generate_check_passes_on_the_committed_tree() -> None:
    result = CliRunner().invoke(app, ["generate", "--check"])
    assert result.exit_code == 0, result.output
