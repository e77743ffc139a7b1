"""The shape of a drill: what it is (for the CLI and the notebook), how to play it against a
target, and which invariants to check from the database afterwards.

One `play` function serves both sides: it talks to a `Target` (the naive baseline or the phase),
whose `transfer` and `arm` speak each side's own dialect (no key vs Idempotency-Key, naive fault
points vs transfer fault points). The drill never decides a verdict from what the client saw.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fintech_core.stack.client_auth import client_auth_for

if TYPE_CHECKING:
    from fintech_core.drills.ledger import LedgerFacts
    from fintech_core.drills.proxy import FaultProxy
    from fintech_core.drills.report import Check
    from fintech_core.drills.target import Target
    from fintech_core.drills.timeline import Timeline
    from fintech_core.phase import Composition
    from fintech_core.stack.api_server import ApiServer
    from fintech_core.stack.lab import Lab


class DrillSkipped(Exception):
    """This side cannot be played here (e.g. it would restart a database the lab does not own)."""


@dataclass
class Stage:
    """The running system a drill plays against: an API process and its phase database."""

    lab: Lab
    api: ApiServer
    database_url: str
    composition: Composition

    @property
    def phase(self) -> int:
        return self.composition.number

    @property
    def url(self) -> str:
        return self.api.url()

    @functools.cached_property
    def auth(self) -> Any:
        """httpx auth for the lab's driver (phase 4 on), None before: pass as `auth=`."""
        return client_auth_for(self.composition, self.lab.settings, self.url)


@dataclass
class Ctx:
    stage: Stage
    target: Target
    timeline: Timeline
    proxy: FaultProxy
    start: dict[str, float] = field(default_factory=dict)  # label -> balance at the start
    headline: dict[str, Any] = field(default_factory=dict)
    kept: dict[str, Any] = field(default_factory=dict)  # what `play` leaves for `check`

    def open(self, **funded: float) -> None:
        """Open fresh accounts (unique per run, so drills never see each other's money)."""
        self.start = dict(funded)
        self.target.open_accounts(funded)
        self.timeline.log("drill", "note", "opened " + ", ".join(
            f"{label} ({amount:g})" for label, amount in funded.items()))

    def facts(self) -> LedgerFacts:
        facts = self.target.facts()
        self.timeline.log("database", "fact", facts.describe())
        return facts


# The API flags of a drill whose lesson is one transaction per request (FINCORE_GROUP_COMMIT off).
# Group commit is on by default; in a batch the fault point `transfer.before_commit` fires once
# per batch and a delay there holds every transfer queued behind it (transfers/group_commit.py),
# so a drill that holds one request mid-transaction to show what its neighbours see (a 409 for a
# concurrent retry, two requests waiting on one row lock, N transactions rolled back by a
# restart) would teach batching instead. It pins the baseline mode it was written for.
PER_REQUEST: Mapping[str, object] = {"group_commit": False}

Play = Callable[[Ctx], None]
CheckFn = Callable[[Ctx, "LedgerFacts"], "list[Check]"]


@dataclass(frozen=True)
class Drill:
    name: str  # the CLI name, e.g. "response-lost"
    title: str
    question: str  # the interview question it answers
    fault: str  # what is broken, and where (network, server, database, broker)
    client: str  # what the client does about it
    invariant: str  # what must be true in the database afterwards
    lesson: str
    play: Play
    check: CheckFn
    # The API's FINCORE_* flags the drill needs (e.g. a slow mail server, PER_REQUEST): played
    # on an API process of its own unless the session's already runs with them (runner.py).
    api_flags: Mapping[str, object] = field(default_factory=dict)

    @property
    def description(self) -> str:
        """One line for catalogues (the site's drills page): the fault, then what to learn."""
        return f"{self.fault[0].upper()}{self.fault[1:]}. {self.lesson}"
