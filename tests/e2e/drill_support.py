"""What every drill test asks first: both sides played, the naive baseline broken, the phase held."""

from __future__ import annotations

from fintech_core.drills.report import SideReport
from fintech_core.drills.runner import run
from fintech_core.stack.session import LabSession


def play(s: LabSession, name: str) -> tuple[SideReport, SideReport]:
    """Play drill `name` against both sides of `s`; return (naive, phase) once the naive side
    broke and the phase held (the verdicts the tests then check with their own SQL)."""
    report = run(name, session=s)
    naive, phase = report.side("naive"), report.side("phase")
    assert not (naive.skipped or phase.skipped), (naive.skipped, phase.skipped)
    assert report.ok, phase.verdict
    assert (naive.outcome, phase.outcome) == ("broken", "held"), (naive.verdict, phase.verdict)
    return naive, phase
