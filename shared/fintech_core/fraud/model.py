"""The fraud slice's vocabulary, shared by the sync step, the async rules and the backtest. Pure.

An `Attempt` is what the engine observes of one transfer; `Features` is what a rule may test
(flat names: the rule language reads them as plain symbols); a `Decision` is what it answers,
with every rule that fired, so the answer can be explained and audited.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID


class Verdict(StrEnum):
    ALLOW = "allow"
    REVIEW = "review"
    BLOCK = "block"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {Verdict.ALLOW: 0, Verdict.REVIEW: 1, Verdict.BLOCK: 2}


@dataclass(frozen=True)
class Attempt:
    """One transfer as the engine sees it, at the moment it is decided."""

    transfer_id: UUID
    kind: str  # TRANSFER, DEPOSIT, WITHDRAWAL (transfers.domain.TransferKind values)
    source_id: UUID | None
    destination_id: UUID | None
    amount: int  # minor units
    currency: str
    at: datetime  # UTC
    principal: str  # the caller's subject
    client_ip: str | None = None
    device_id: str | None = None
    caller_kind: str = "user"  # user, service, external, self-declared (auth.principals.ClientKind)


@dataclass(frozen=True)
class Features:
    """What a rule may test. Windows count the attempts decided *before* this one (this one is
    then counted); the profile (history count, average, known beneficiaries) learns only from
    transfers the engine let through. Amounts are integer minor units; only the average is a
    float, and it is never money that moves."""

    amount: int
    kind: str
    # Rules are about people's money: the lab's own machine clients (the bench, chaos and drill
    # driver, the payments worker) are "service" callers, and every v1 rule is scoped to others.
    caller_kind: str = "user"
    src_out_count_10m: int = 0       # transfers and payouts out of the source, last 10 minutes
    src_out_sum_10m: int = 0
    src_out_count_1h: int = 0
    src_out_sum_1h: int = 0
    src_in_sum_1h: int = 0           # credited to the source in the last hour (in, then out: mule)
    src_withdrawal_count_1h: int = 0  # money leaving the lab from the source, last hour
    src_new_beneficiaries_1h: int = 0  # distinct first-time destinations, last hour
    src_history_count: int = 0       # transfers out of the source the engine let through, ever
    src_avg_amount: float = 0.0      # their mean amount (0.0 with no history)
    new_beneficiary: bool = False    # the source never sent to this destination before
    dst_in_count_1h: int = 0         # transfers into the destination, last hour
    dst_distinct_sources_1h: int = 0  # distinct sources paying the destination, last hour
    ip_out_count_10m: int = 0        # transfers from the client's IP, last 10 minutes
    device_sources_1h: int = 0       # distinct source accounts sent from this device, last hour

    def as_facts(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RuleHit:
    """A rule that fired: who (id, version), what it says, and the stable reason code."""

    rule_id: str
    version: int
    verdict: Verdict
    score: int
    reason_code: str


@dataclass(frozen=True)
class Decision:
    ruleset: str  # e.g. "v1"
    verdict: Verdict
    score: int  # the sum of the fired rules' scores
    hits: tuple[RuleHit, ...] = ()
    # Set when the engine did not answer in its budget (or failed) and the configured fallback
    # verdict was applied instead: "budget-exceeded" or "engine-error".
    fallback: str | None = None

    @property
    def reason_codes(self) -> list[str]:
        return [h.reason_code for h in self.hits]
