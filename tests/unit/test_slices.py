"""A phase is a self-contained slice: the core never names a phase, and a phase declared outside
the core gets every contribution wired (worker, CLI, problem type, drill, chaos hook and fault,
site page) without editing a core file."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fintech_core.api.app import build_app
from fintech_core.bootstrap import bootstrap
from fintech_core.chaos.env import ChaosEnv
from fintech_core.chaos.faults import registry
from fintech_core.chaos.runner import select_faults
from fintech_core.cli.main import build_cli
from fintech_core.drills.registry import get
from fintech_core.settings import Settings
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import wait_until
from phases import REGISTRY
from tests.throwaway_phase import (
    BEEP_DRILL,
    BEEP_FAULT,
    THROWAWAY,
    THROWAWAY_REGISTRY,
    BeepFault,
    beep_hook,
)

CORE = Path(__file__).resolve().parents[2] / "shared" / "fintech_core"


def _imports(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules.add(node.module)
    return modules


def test_no_core_module_imports_the_phases_package() -> None:
    offenders = {str(p.relative_to(CORE)): sorted(m for m in _imports(p)
                                                  if m == "phases" or m.startswith("phases."))
                 for p in CORE.rglob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_scan_sees_a_lazy_import(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("def f():\n    from phases import latest\n    import phases.phase00_monolith\n")
    assert _imports(sample) == {"phases", "phases.phase00_monolith"}


COMPARISON = re.compile(r"\b(phase|number)\s*(<|>|<=|>=)\s*\d")


def test_no_core_code_compares_phase_numbers() -> None:
    found = [f"{p.relative_to(CORE)}:{n}: {line.strip()}"
             for p in CORE.rglob("*.py")
             for n, line in enumerate(p.read_text().splitlines(), 1)
             if COMPARISON.search(line.split("#")[0])]
    assert found == []


def test_a_throwaway_phase_gets_its_cli_commands_and_groups() -> None:
    cli = build_cli(THROWAWAY_REGISTRY)
    try:
        beeped = CliRunner().invoke(cli, ["beep", "--times", "3"])
        assert beeped.exit_code == 0 and beeped.output.strip() == "beep beep beep", beeped.output
        grouped = CliRunner().invoke(cli, ["beeps", "count"])
        assert grouped.exit_code == 0 and "0 beeps" in grouped.output
        listed = CliRunner().invoke(cli, ["drill", "list"])
        assert listed.exit_code == 0 and "beep-drill" in listed.output, listed.output
    finally:
        build_cli(REGISTRY)  # the process-wide CLI context goes back to the real registry
    assert "beep" not in CliRunner().invoke(build_cli(REGISTRY), ["--help"]).output


def test_a_throwaway_phase_gets_its_route_and_problem_type_served() -> None:
    composed = THROWAWAY_REGISTRY.composition(THROWAWAY.number)
    app = build_app(bootstrap(Settings(phase=THROWAWAY.number), composed,
                              uow_factory=object()))  # type: ignore[arg-type]
    with TestClient(app) as http:
        refused = http.get("/beep")
        assert refused.status_code == 418
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "beep-refused"
        described = http.get("/problems/beep-refused")
        assert described.status_code == 200 and described.json()["status"] == 418
        # Earlier phases' problem types are still served beside it.
        assert http.get("/problems/insufficient-funds").status_code == 200


def test_a_throwaway_phase_gets_its_drill_chaos_hook_and_site_page() -> None:
    composed = THROWAWAY_REGISTRY.composition(THROWAWAY.number)
    assert get(composed.drills, "beep-drill") is BEEP_DRILL
    assert composed.drills[:-1] == REGISTRY.composition(REGISTRY.latest()).drills
    assert composed.chaos_hooks[-1] is beep_hook
    assert [p.title for p in composed.site_pages][-1] == "Beeps"
    # The money facts of the ledger still win: the throwaway phase declares none.
    assert composed.money_facts is REGISTRY.composition(REGISTRY.latest()).money_facts


def test_a_throwaway_phase_gets_its_chaos_fault_selected_by_the_run() -> None:
    composed = THROWAWAY_REGISTRY.composition(THROWAWAY.number)
    assert composed.chaos_faults[-1] is BEEP_FAULT
    latest = REGISTRY.composition(REGISTRY.latest())
    assert composed.chaos_faults[:-1] == latest.chaos_faults  # earlier phases' faults kept
    # `--faults all` is the registry's names: the core's, then every declared one.
    assert list(registry(None, composed.chaos_faults))[-1] == "beep-fault"
    env = ChaosEnv(api=None, database_url="", postgres=None,  # type: ignore[arg-type]
                   phase=THROWAWAY.number, faults=composed.chaos_faults)
    active, skipped = select_faults(("api-kill", "beep-fault"), env, None)
    assert [f.name for f in active] == ["api-kill", "beep-fault"] and skipped == {}
    assert active[-1].inject(env, None) == "beeped at the stack"  # type: ignore[arg-type]
    # Without the phase, the run refuses the name instead of ignoring it.
    with pytest.raises(ValueError, match="unknown fault 'beep-fault'"):
        select_faults(("beep-fault",), ChaosEnv(None, "", None, 0), None)  # type: ignore[arg-type]


def test_a_phase_fault_may_not_shadow_a_core_fault() -> None:
    shadow = BeepFault()
    shadow.name = "api-kill"
    with pytest.raises(ValueError, match="api-kill"):
        registry(None, (shadow,))


def test_a_throwaway_phase_worker_is_started_and_stopped_by_the_lab(server_dir: Path) -> None:
    """`up` starts what the composition declares and `down` stops it: a real child process
    through the throwaway registry's own CLI entry point."""
    lab = Lab(Settings(lab_dir=server_dir, database_url="postgresql://unused@127.0.0.1:9/x",
                       redis_url="redis://127.0.0.1:9/0", kafka_bootstrap="127.0.0.1:9"))
    composed = THROWAWAY_REGISTRY.composition(THROWAWAY.number)
    workers = {w.spec.name: w for w in lab.workers(composed)}
    assert set(workers) == {"relay", "consume", "provider", "payments", "beeper"}
    beeper = workers["beeper"]
    beeper.start()
    try:
        mark = server_dir / "beeper.mark"
        assert wait_until(mark.exists, 30, 0.1), beeper.log.read_text()
        assert int(mark.read_text()) == beeper.running_pid()
    finally:
        lab.down()  # what `fcl down` runs: every worker's pid file, any phase
    assert beeper.running_pid() is None
