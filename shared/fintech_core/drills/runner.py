"""`run(name)`: play one drill against the naive baseline and/or a phase, and report.

Each side gets a fresh timeline, a fresh fault proxy in front of the API, fresh accounts, and
its faults cleared before and after, so sides and runs never leak into each other. A drill with
`api_flags` (e.g. a slow mail server, or one transaction per request: drill.PER_REQUEST) gets its
own API process with that environment for the run, unless the session's API already runs with
those flags; every other drill uses the session's API. A drill run without a session starts one
with its flags, so it starts one API, not two.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from fintech_core.drills.drill import Ctx, Drill, DrillSkipped, Stage
from fintech_core.drills.proxy import FaultProxy
from fintech_core.drills.registry import get
from fintech_core.drills.report import Against, DrillReport, SideReport
from fintech_core.drills.target import Target
from fintech_core.drills.targets import NaiveTarget, PhaseTarget
from fintech_core.drills.timeline import Timeline
from fintech_core.phase import Composition
from fintech_core.settings import Settings
from fintech_core.stack.api_server import ApiServer
from fintech_core.stack.processes import free_port
from fintech_core.stack.session import LabSession

SIDES: dict[str, tuple[type[Target], ...]] = {
    "naive": (NaiveTarget,), "phase": (PhaseTarget,), "both": (NaiveTarget, PhaseTarget),
}


def run(name: str, composition: Composition | None = None, against: Against = "both",
        session: LabSession | None = None) -> DrillReport:
    """Play drill `name` of `composition` (or of the session's). Without a session, one is
    started (on servers of its own) and closed afterwards; notebooks and tests pass theirs
    to pay the start-up once."""
    if session is not None:
        if composition is not None and composition.number != session.phase:
            raise ValueError(f"the session runs phase {session.phase}, not {composition.number}")
        composition = session.composition
    if composition is None:
        raise ValueError("give the composition to play against, or a session")
    drill = get(composition.drills, name)
    if against not in SIDES:
        raise ValueError(f"against must be one of {sorted(SIDES)}, not {against!r}")
    own = session is None
    if session is None:
        flags: dict[str, Any] = dict(drill.api_flags)  # FINCORE_* flags, never a named option
        session = LabSession(composition, **flags)
    try:
        with _stage(session, drill) as stage:
            report = DrillReport(drill.name, drill.title, drill.question, drill.fault,
                                 drill.client, drill.invariant, drill.lesson, stage.phase)
            report.sides = [play_side(drill, stage, target) for target in SIDES[against]]
        return report
    finally:
        if own:
            session.close()


@contextlib.contextmanager
def _stage(session: LabSession, drill: Drill) -> Iterator[Stage]:
    if runs_with(session.api, drill.api_flags):
        yield Stage(session.lab, session.api, session.database_url, session.composition)
        return
    api = session.lab.api(session.composition, port=free_port(), host="127.0.0.1",
                          naive_baseline=True, drill_mode=True, **drill.api_flags)
    api.start()
    try:
        yield Stage(session.lab, api, session.database_url, session.composition)
    finally:
        api.stop()


def runs_with(api: ApiServer, flags: Mapping[str, object]) -> bool:
    """Whether `api` already runs with `flags`: its FINCORE_* environment says so, or, for a
    flag it does not set, the setting's default does (Settings)."""
    for name, wanted in flags.items():
        actual = api.env.get(f"FINCORE_{name.upper()}")
        if actual is None:
            actual = _env_text(Settings.model_fields[name].default)
        if actual.lower() != _env_text(wanted).lower():
            return False
    return True


def _env_text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)  # as Lab.env writes it


def play_side(drill: Drill, stage: Stage, target_type: type[Target]) -> SideReport:
    timeline = Timeline()

    def heard(mode: str, text: str) -> None:
        timeline.log("proxy", "fault", text)

    with FaultProxy(stage.api.host, stage.api.port, listener=heard) as proxy:
        target = target_type(stage, timeline, proxy.url)
        ctx = Ctx(stage, target, timeline, proxy)
        side = SideReport(target.side, target.label, must_hold=target.side == "phase")  # type: ignore[arg-type]
        try:
            target.clear_faults()
            drill.play(ctx)
            facts = ctx.facts()
            side.checks = drill.check(ctx, facts)
            side.ledger, side.ledger_text = dataclasses.asdict(facts), facts.describe()
        except DrillSkipped as skipped:
            side.skipped = str(skipped)
            timeline.log("drill", "note", f"skipped: {skipped}")
        finally:
            with contextlib.suppress(httpx.HTTPError):
                target.clear_faults()
    side.events = timeline.events()
    side.accounts = {label: str(i) for label, i in target.accounts.items()}
    side.client_saw = [a.summary() for a in target.attempts]
    side.headline = ctx.headline
    return side
