"""The transfer request path as an explicit list of named steps, composed phase by phase.

Phase 0 declares the base steps; later phases insert (auth, limits, fraud, outbox) or replace
(phase 1 swaps the balance-column move for ledger postings) steps by name. A step is either a
*check* (reads, may reject) or an *effect* (writes). Composition refuses a check placed after an
effect, which is what guarantees that a rejected transfer has written nothing before it was
rejected: "bad input changes nothing" holds by construction, not by care.

A *record* step writes what must be kept whatever the outcome, as long as the transfer itself
is recorded (phase 5's fraud decision): it runs in order like an effect when the transfer goes
through, and again when a check's refusal is recorded as a FAILED transfer
(transfers/service.py). It must tolerate the checks that never ran. It moves no money.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar
from uuid import UUID

from fintech_core.accounts.domain import Account
from fintech_core.service.ports import UnitOfWork
from fintech_core.transfers.domain import Transfer, TransferCommand

Part = TypeVar("Part")


@dataclass
class TransferContext:
    """What the steps of one transfer share. Phase 0's fields are here; a later phase keeps its
    own state in a *part*, a dataclass of its own slice (e.g. ledger.steps.LedgerWork), read
    with `ctx.part(LedgerWork)`: typed, created empty on first use, and added without editing
    this class or any earlier phase. A caller seeds parts (a hold request) through `parts`."""

    uow: UnitOfWork
    command: TransferCommand
    transfer_id: UUID
    principal: str
    accounts: dict[UUID, Account] = field(default_factory=dict)
    transfer: Transfer | None = None
    parts: dict[type, Any] = field(default_factory=dict)
    resources: Mapping[str, Any] = field(default_factory=dict)  # Phase.resources, built

    @classmethod
    def seeded(cls, uow: UnitOfWork, command: TransferCommand, transfer_id: UUID, principal: str,
               parts: Iterable[object] = (),
               resources: Mapping[str, Any] | None = None) -> TransferContext:
        return cls(uow, command, transfer_id, principal, parts={type(p): p for p in parts},
                   resources=resources or {})

    def resource(self, name: str) -> Any:
        return self.resources[name]

    def part(self, kind: type[Part]) -> Part:
        if kind not in self.parts:
            self.parts[kind] = kind()
        return self.parts[kind]  # type: ignore[no-any-return]

    def has(self, kind: type) -> bool:
        return kind in self.parts


StepFn = Callable[[TransferContext], Awaitable[None]]


@dataclass(frozen=True)
class Step:
    name: str
    kind: Literal["check", "effect", "record"]
    run: StepFn


@dataclass(frozen=True)
class Append:
    step: Step


@dataclass(frozen=True)
class InsertBefore:
    anchor: str
    step: Step


@dataclass(frozen=True)
class Replace:
    name: str
    step: Step


Change = Append | InsertBefore | Replace


class PipelineError(ValueError):
    pass


@dataclass(frozen=True)
class Pipeline:
    steps: tuple[Step, ...] = ()

    def names(self) -> list[str]:
        return [s.name for s in self.steps]

    def apply(self, change: Change) -> Pipeline:
        steps = list(self.steps)
        if isinstance(change, Append):
            steps.append(change.step)
        else:
            anchor = change.anchor if isinstance(change, InsertBefore) else change.name
            if anchor not in self.names():
                raise PipelineError(f"no step named {anchor!r} in {self.names()}")
            at = self.names().index(anchor)
            if isinstance(change, InsertBefore):
                steps.insert(at, change.step)
            else:
                steps[at] = change.step
        return Pipeline(tuple(steps)).validated()

    def validated(self) -> Pipeline:
        names = self.names()
        if len(set(names)) != len(names):
            raise PipelineError(f"duplicate step names in {names}")
        seen_effect = None
        for step in self.steps:
            if step.kind != "check":
                seen_effect = step.name
            elif seen_effect is not None:
                raise PipelineError(f"check {step.name!r} runs after effect {seen_effect!r}")
        return self

    async def run(self, ctx: TransferContext) -> None:
        for step in self.steps:
            await step.run(ctx)

    async def record_refusal(self, ctx: TransferContext) -> None:
        """The record steps alone, for a transfer a check refused and the service records."""
        for step in self.steps:
            if step.kind == "record":
                await step.run(ctx)
