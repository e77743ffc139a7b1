"""Every phase article has one shape, and its "what this phase adds" table cannot drift.

The sections come in the order the design brief gives (learn, problem, design, processes,
observe, commands, how it plugs in, tests); the table between the README's markers must be
exactly what `fintech_core.sitegen.phase_table` generates from the phase's `Phase` object
(`make phase-tables` rewrites it); relative links must point at files that exist.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from fintech_core.phase import Registry
from fintech_core.sitegen.phase_table import BEGIN, END, MissingMarkers, phase_table, with_table
from fintech_core.transfers.pipeline import InsertBefore, Step
from phases import REGISTRY
from phases.readme_tables import expected, main
from tests.throwaway_phase import THROWAWAY

SECTIONS = ["What you will learn", "The problem", "The design", "The processes",
            "What you will observe", "Commands", "How it plugs in", "Tests"]
_FENCE = re.compile(r"^\s*(```|~~~)")
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)[^)]*\)")


def _prose(readme: Path) -> list[str]:
    """The README's lines outside fenced code blocks."""
    lines, fenced = [], False
    for line in readme.read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def _readmes() -> list[Path]:
    return [p.folder / "README.md" for p in REGISTRY.phases]


@pytest.mark.parametrize("readme", _readmes(), ids=lambda p: p.parent.name)
def test_every_phase_article_has_the_sections_in_order(readme: Path) -> None:
    lines = _prose(readme)
    assert lines[0].startswith("# Phase "), "the article opens with its title"
    headings = [line[3:].strip() for line in lines if line.startswith("## ")]
    # Other `##` sections may sit between these (an article may need one more); these eight
    # must each appear once, in this order.
    present = [h for h in headings if h in SECTIONS]
    assert present == SECTIONS, f"{readme}: sections {headings}"


def test_every_phase_table_is_the_one_its_phase_object_generates() -> None:
    for readme, text in expected(REGISTRY).items():
        assert readme.read_text(encoding="utf-8") == text, (
            f"the table in {readme} differs from its Phase object: run `make phase-tables`")


@pytest.mark.parametrize("readme", _readmes(), ids=lambda p: p.parent.name)
def test_relative_links_in_phase_articles_point_at_files(readme: Path) -> None:
    targets = [m[1] for line in _prose(readme) for m in _LINK.finditer(line)]
    assert targets, "the article links to its code"
    broken = [t for t in targets if not t.startswith(("http://", "https://", "mailto:", "#"))
              and not (readme.parent / t.partition("#")[0]).exists()]
    assert broken == [], f"{readme} links to missing files: {broken}"


def _rows(table: str) -> dict[str, str]:
    cells = [line.strip("|").split(" | ", 1) for line in table.splitlines()[2:]]
    return {kind.strip(): what.strip() for kind, what in cells}


def test_the_table_has_one_row_per_kind_a_phase_declares_and_none_for_the_rest() -> None:
    rows = _rows(phase_table(THROWAWAY, REGISTRY.phases))
    assert list(rows) == ["Routes", "Workers", "CLI commands", "Problem types", "Drills",
                          "Chaos hooks", "Chaos faults", "Site pages"]
    assert rows["Routes"] == "`GET /beep`"
    assert rows["Workers"] == "`beeper`: runs `./fcl beep-worker`"
    assert rows["CLI commands"] == ("`./fcl beep`<br>`./fcl beep-worker`<br>"
                                    "`./fcl beeps` (count)")
    assert rows["Problem types"] == "`beep-refused` (418)"
    assert rows["Drills"] == "`beep-drill`"
    assert rows["Chaos hooks"] == "`tests.throwaway_phase.beep_hook`"
    assert rows["Chaos faults"] == "`beep-fault` (`tests.throwaway_phase.BeepFault`)"
    assert rows["Site pages"] == "Beeps (`tests/throwaway_phase.py`)"


async def _check_limits(ctx: object) -> None:
    pass


def test_an_inserted_step_is_named_with_its_anchor_and_its_place_in_the_pipeline() -> None:
    limits = replace(THROWAWAY, transfer_steps=(
        InsertBefore("post_ledger", Step("check_limits", "check", _check_limits)),))
    (*changes, result) = _rows(phase_table(limits, REGISTRY.phases))["Transfer pipeline"].split(
        "<br>")
    assert changes == ["InsertBefore `post_ledger`: `check_limits` "
                       f"(check, `{_check_limits.__module__}._check_limits`)"]
    assert "→ `check_limits` → `post_ledger`" in result  # right before its anchor


def test_the_table_names_what_a_phase_replaces_and_the_pipeline_it_results_in() -> None:
    phase0, phase1, phase2 = REGISTRY.phases[:3]
    one = _rows(phase_table(phase1, [phase0]))
    assert "`POST /accounts` (replaces phase 0's)" in one["Routes"].split("<br>")
    assert ("Replace `check_funds` → `check_ledger` (check, `ledger.steps.check_ledger`)"
            in one["Transfer pipeline"].split("<br>"))
    assert one["Transfer pipeline"].endswith(
        "Resulting pipeline: `lock_accounts` → `check_currency` → `check_status` → "
        "`check_ledger` → `post_ledger` → `record_ledger_transfer`")
    assert one["Migrations"].startswith("`p1_0001_ledger.py` (+ `.sql`, after `p0_0001`): ")
    two = _rows(phase_table(phase2, [phase0, phase1]))
    assert ("`ledger`: `events.outbox.sql_outbox_ledger` (replaces phase 1's "
            "`ledger.adapters.sql.SqlLedger`)") in two["Unit-of-work extensions"].split("<br>")
    assert two["Routes"].split("<br>") == ["`GET /accounts/{account_id}/activity`",
                                           "`GET /transfers/{transfer_id}/story`"]
    assert "`audit_trail`: `events.read_models.AuditTrail`" in two["SQLModel tables"]
    assert "SQLModel tables" not in one


def test_with_table_rewrites_only_between_the_markers() -> None:
    text = f"# P\n\nabove\n\n{BEGIN}\nold table\n{END}\n\nbelow\n"
    assert with_table(text, "| new |\n") == f"# P\n\nabove\n\n{BEGIN}\n| new |\n{END}\n\nbelow\n"
    for broken in ("# P\n", f"{BEGIN}\n{END}\n{BEGIN}\n{END}\n"):
        with pytest.raises(MissingMarkers):
            with_table(broken, "| new |\n")


def test_the_regeneration_command_checks_then_rewrites_a_stale_table(tmp_path: Path) -> None:
    copies = []  # every phase's folder copied, so the command never writes the real READMEs
    for phase in REGISTRY.phases:
        folder = tmp_path / phase.folder.name
        shutil.copytree(phase.folder, folder, ignore=shutil.ignore_patterns("*.ipynb"))
        copies.append(replace(phase, folder=folder))
    registry = Registry(tuple(copies), REGISTRY.entrypoints)
    readme = copies[-1].folder / "README.md"
    readme.write_text(with_table(readme.read_text(encoding="utf-8"), "| stale |\n"))
    assert main(["--check"], registry) == 1
    assert "| stale |" in readme.read_text(encoding="utf-8")  # --check changes nothing
    assert main([], registry) == 0
    assert main(["--check"], registry) == 0
    real = REGISTRY.phases[-1].folder / "README.md"
    assert readme.read_text(encoding="utf-8") == real.read_text(encoding="utf-8")
