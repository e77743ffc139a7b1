"""The drill machinery without I/O: registry, checks, verdicts, CLI exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from fintech_core.cli.main import build_cli
from fintech_core.drills import checks, dbfaults
from fintech_core.drills.drill import Ctx, Drill, DrillSkipped
from fintech_core.drills.ledger import LedgerFacts
from fintech_core.drills.registry import get, names
from fintech_core.drills.report import Check, DrillReport, SideReport
from fintech_core.drills.timeline import Timeline
from fintech_core.drills.wording import Attempt, describe_error
from fintech_core.settings import Settings
from fintech_core.stack.lab import Lab
from phases import REGISTRY, composition

DRILLS = composition().drills
app = build_cli(REGISTRY)


def test_registry_lists_the_drills_in_order_with_their_story() -> None:
    phase0 = ["response-lost", "new-key-on-retry", "concurrent-retries", "key-reuse",
              "killed-mid-transfer", "last-funds", "slow-mail", "db-restart"]
    phase3 = ["provider-timeout-after-charge", "webhook-delivered-thrice", "webhooks-out-of-order",
              "forged-signature", "lost-webhook", "crash-between-hold-and-provider-call",
              "payout-declined"]
    assert names(composition(0).drills) == phase0  # phase 0 declares them; later phases keep them
    assert names(composition(3).drills) == phase0 + phase3  # phase 3 appends its seven
    attacks = ["bola", "self-assigned-credit-limit", "forged-token", "refresh-token-replay"]
    limits = ["burst-over-rate-limit", "daily-limit-race", "redis-down"]
    assert names(composition(4).drills) == (  # phase 4: the attacker's drills, then the limits'
        phase0 + phase3 + attacks + limits)
    assert len(set(names(DRILLS))) == len(DRILLS)
    for d in DRILLS:
        assert all((d.title, d.question, d.fault, d.client, d.invariant, d.lesson)), d.name
    with pytest.raises(KeyError, match="one of"):
        get(DRILLS, "no-such-drill")


def ctx(**start: float) -> Ctx:
    c = Ctx(stage=None, target=None, timeline=Timeline(), proxy=None)  # type: ignore[arg-type]
    c.start = dict(start)
    return c


def test_checks_read_the_numbers_they_report() -> None:
    c = ctx(alice=1000, bob=0)
    twice = LedgerFacts({"alice": 800, "bob": 100})
    moved = checks.moved(c, twice, "alice", 100)
    assert (moved.held, moved.detail, c.headline["debits"]) == (False, "alice lost 200 = 2 × 100", 2)
    assert checks.conserved(c, twice).detail == "total 1000 → 900: 100 destroyed"
    assert checks.non_negative(c, LedgerFacts({"alice": -1, "bob": 0})).held is False
    assert checks.reconciles(c, twice).held is False  # nothing recorded
    recorded = LedgerFacts({"alice": 900, "bob": 100}, {"alice": 900, "bob": 100})
    assert checks.reconciles(c, recorded).held and checks.moved(c, recorded, "alice", 100).held


def side(kind: str, held: bool, binding: bool = True) -> SideReport:
    s = SideReport(kind, kind, must_hold=kind == "phase")  # type: ignore[arg-type]
    s.checks = [Check("money moved exactly once", held, "", binding)]
    return s


def report(*sides: SideReport) -> DrillReport:
    return DrillReport("d", "t", "q", "f", "c", "i", "l", 0, list(sides))


def test_a_broken_baseline_is_the_lesson_a_broken_phase_is_a_bug() -> None:
    assert report(side("naive", False), side("phase", True)).ok
    assert not report(side("naive", False), side("phase", False)).ok
    assert side("naive", True).verdict.startswith("held this time")
    assert side("phase", False, binding=False).outcome == "held"  # observations never break
    skipped = side("phase", False)
    skipped.skipped = "external database"
    assert skipped.outcome == "skipped" and report(skipped).ok
    data = json.loads(report(side("phase", True)).to_json())
    assert data["ok"] and data["sides"][0]["verdict"] == "held"


@pytest.mark.parametrize(("phase_held", "code"), [(True, 0), (False, 1)])
def test_cli_exit_code_follows_the_phase(monkeypatch: pytest.MonkeyPatch,
                                         phase_held: bool, code: int) -> None:
    monkeypatch.setattr("fintech_core.drills.runner.run", lambda *a, **k: report(
        side("naive", False), side("phase", phase_held)))
    result = CliRunner().invoke(app, ["drill", "run", "response-lost", "--json"])
    assert result.exit_code == code, result.output
    assert json.loads(result.output)["ok"] is phase_held


def test_cli_refuses_unknown_drills_and_sides() -> None:
    assert CliRunner().invoke(app, ["drill", "run", "nope"]).exit_code == 2
    assert CliRunner().invoke(app, ["drill", "run", "key-reuse", "--against", "x"]).exit_code == 2
    listing = CliRunner().invoke(app, ["drill", "list"])
    assert listing.exit_code == 0 and "db-restart" in listing.output


def test_client_words_for_what_it_cannot_know() -> None:
    assert describe_error(httpx.ReadTimeout("t")) == "timed out, no answer"
    assert describe_error(httpx.RemoteProtocolError(
        "Server disconnected without sending a response.")) == "connection closed without an answer"
    assert describe_error(httpx.ReadError("[Errno 104] Connection reset by peer")) == \
        "connection reset"
    assert Attempt(409, None, 3.0).definitive is False and Attempt(422, None, 1).definitive
    assert Attempt(201, None, 12.4, {"id": "x"}, True).summary() == \
        "201 (Idempotent-Replayed) in 12 ms"


def test_restarting_an_external_database_is_skipped_not_attempted() -> None:
    lab = Lab(Settings(database_url="postgresql://x@127.0.0.1:1/db"))
    with pytest.raises(DrillSkipped, match="external"):
        dbfaults.restart_postgres(lab, Timeline())


def test_restarting_a_postgres_from_another_lab_directory_is_skipped(tmp_path: Path) -> None:
    lab = Lab(Settings(lab_dir=tmp_path, pg_port=54399, database_url=None))
    (tmp_path / "postgres" / "data").mkdir(parents=True)
    (tmp_path / "postgres" / "data" / "postmaster.pid").write_text("1\n/x\n0\n54398\n")
    with pytest.raises(DrillSkipped, match="not this lab's"):
        dbfaults.restart_postgres(lab, Timeline())


@pytest.mark.parametrize("drill", DRILLS, ids=lambda d: d.name)
def test_the_drill_header_shows_its_whole_story_at_80_columns(drill: Drill) -> None:
    from rich.console import Console

    from fintech_core.drills.render import header

    console = Console(width=80, record=True, color_system=None)
    console.print(header(DrillReport(drill.name, drill.title, drill.question, drill.fault,
                                     drill.client, drill.invariant, drill.lesson, 1, [])))
    seen = " ".join(re.sub(r"[│╭╮╰╯─]", " ", console.export_text()).split())
    for text in (drill.title, drill.question, drill.fault, drill.client, drill.invariant):
        assert " ".join(text.split()) in seen, f"{drill.name}: cut at 80 columns: {text!r}"


def test_every_route_a_drill_names_is_a_route_of_the_api() -> None:
    """A prompt that says `POST /transfer` sends the reader to a route that does not exist."""
    from fintech_core.api.app import build_app
    from fintech_core.bootstrap import bootstrap

    settings = Settings(phase=REGISTRY.latest(), naive_baseline=True)
    api = build_app(bootstrap(settings, composition(), uow_factory=object()))  # type: ignore[arg-type]
    routes = {(m, "^" + re.sub(r"\{[^}]+\}", "[^/]+", p) + "$")
              for p, ops in api.openapi()["paths"].items() for m in ops}
    named = [(d.name, m.group(1), m.group(2).rstrip(".,:;)")) for d in DRILLS
             for text in (d.title, d.question, d.fault, d.client, d.invariant, d.lesson)
             for m in re.finditer(r"\b(GET|POST|PUT|PATCH|DELETE) (/\S*)", text)]
    assert named, "no drill names a route: nothing was checked"
    for drill, method, path in named:
        assert any(m == method.lower() and re.match(rx, path) for m, rx in routes), (
            f"{drill} names {method} {path}, which is not a route")


def test_group_commit_is_on_by_default_and_switchable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 19: batching won the quiet-machine bench, so it is the default; the one-transaction-
    per-request path stays one flag away, as the baseline."""
    from fintech_core.bootstrap import bootstrap

    monkeypatch.delenv("FINCORE_GROUP_COMMIT", raising=False)
    default = Settings(phase=REGISTRY.latest(), drill_mode=True)
    assert default.group_commit is True
    assert bootstrap(default, composition(), uow_factory=object()).group_commit is not None  # type: ignore[arg-type]
    monkeypatch.setenv("FINCORE_GROUP_COMMIT", "false")
    baseline = Settings(phase=REGISTRY.latest(), drill_mode=True)
    assert bootstrap(baseline, composition(), uow_factory=object()).group_commit is None  # type: ignore[arg-type]


# The drills that hold one request mid-transaction to show what its neighbours see: with group
# commit the neighbours would queue behind the held batch instead (transfers/group_commit.py).
PINNED_PER_REQUEST = {"concurrent-retries", "last-funds", "db-restart", "daily-limit-race"}


def test_drills_that_teach_one_transaction_per_request_pin_it() -> None:
    from fintech_core.drills.drill import PER_REQUEST

    pinned = {d.name for d in DRILLS if d.api_flags.get("group_commit") is False}
    assert pinned == PINNED_PER_REQUEST
    assert all(dict(PER_REQUEST).items() <= dict(get(DRILLS, n).api_flags).items()
               for n in pinned)


def test_a_pinned_drill_gets_its_own_api_unless_the_session_runs_in_its_mode(
        tmp_path: Path) -> None:
    """runner.runs_with: what the API's environment says, else the setting's default (on)."""
    from fintech_core.drills.drill import PER_REQUEST
    from fintech_core.drills.runner import runs_with
    from fintech_core.stack.api_server import ApiServer

    def api(**env: str) -> ApiServer:
        return ApiServer(tmp_path, "127.0.0.1", 1, env, app="")

    assert not runs_with(api(), PER_REQUEST)  # the default is batching: a dedicated API
    assert runs_with(api(FINCORE_GROUP_COMMIT="false"), PER_REQUEST)
    assert not runs_with(api(FINCORE_GROUP_COMMIT="true"), PER_REQUEST)
    assert runs_with(api(), {"group_commit": True}) and runs_with(api(), {})
    assert not runs_with(api(FINCORE_GROUP_COMMIT="false"), {"mail_fail": True})
