"""In-memory fakes of every port, for unit tests: the SQL adapters' semantics with no I/O.

- Writes are staged and published together on commit(); leaving `async with` without commit
  drops them, so tests can prove "all or nothing" and "bad input changes nothing". Reads are
  read-committed (PostgreSQL's default): other units of work's commits show, their staged writes
  never do.
- A write that breaks a constraint raises what PostgreSQL raises (CheckViolation for a negative
  balance, UniqueViolation for a duplicate id) and changes nothing.
- A claimed idempotency key is in flight for everyone else until the claimer's transaction ends.
Not modelled: row locks (a fake never interleaves two units of work unless a test does so).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from psycopg.errors import CheckViolation, UniqueViolation

from fintech_core.accounts.domain import Account
from fintech_core.accounts.ports import AccountRepository
from fintech_core.auth import access
from fintech_core.domain.errors import IdempotencyKeyInFlight
from fintech_core.idempotency.ports import (
    IN_FLIGHT,
    Claim,
    IdempotencyStore,
    StoredKey,
    StoredResponse,
)
from fintech_core.service.retry import RetryTransaction
from fintech_core.transfers.domain import Transfer
from fintech_core.transfers.ports import TransferRepository

Key = tuple[str, str]  # (principal, Idempotency-Key)


@dataclass
class MemoryState:
    """The "tables". Values are immutable, so copying the dicts copies the state."""

    accounts: dict[UUID, Account] = field(default_factory=dict)
    transfers: dict[UUID, Transfer] = field(default_factory=dict)
    keys: dict[Key, tuple[StoredKey, datetime]] = field(default_factory=dict)
    tables: dict[str, dict[Any, Any]] = field(default_factory=dict)  # for extension fakes

    def copy(self) -> MemoryState:
        return MemoryState(dict(self.accounts), dict(self.transfers), dict(self.keys),
                           {name: dict(rows) for name, rows in self.tables.items()})


Write = Callable[[MemoryState], None]  # a staged statement, replayed on the shared state at commit


def _insert(table: str, key: Any, row: Any, duplicate: type[Exception], message: str) -> Write:
    """INSERT into a table whose primary key is `key`."""
    def insert(s: MemoryState) -> None:
        rows = getattr(s, table)
        if key in rows:
            raise duplicate(message)
        rows[key] = row
    return insert


def _replayed(base: MemoryState, statements: Sequence[Write]) -> MemoryState:
    """Committed states are never mutated: every change builds a new one."""
    state = base.copy()
    for statement in statements:
        statement(state)
    return state


class _Bound:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self.uow = uow


class MemoryAccounts(_Bound):
    async def add(self, account: Account) -> None:
        self.uow.write(_insert("accounts", account.id, account,
                               UniqueViolation, f"duplicate account id {account.id}"))

    async def get(self, account_id: UUID) -> Account | None:
        return self.uow.view.accounts.get(account_id)

    async def page(self, after: UUID | None, limit: int, owner: str | None) -> list[Account]:
        rows = sorted(self.uow.view.accounts.values(), key=lambda a: a.id)  # = uuid byte order
        return [a for a in rows if (after is None or a.id > after)
                and (owner is None or a.owner == owner)][:limit]

    async def lock(self, ids: Sequence[UUID]) -> dict[UUID, Account]:
        accounts = self.uow.view.accounts
        return {i: accounts[i] for i in sorted(set(ids)) if i in accounts}

    async def set_status(self, account: Account) -> None:
        def update(s: MemoryState) -> None:
            if account.id in s.accounts:  # like UPDATE ... WHERE id: a missing row is a no-op
                s.accounts[account.id] = replace(s.accounts[account.id], status=account.status)
        self.uow.write(update)

    async def apply_deltas(self, deltas: Mapping[UUID, int]) -> None:
        frozen = dict(deltas)

        def update(s: MemoryState) -> None:
            for account_id, delta in frozen.items():
                if account_id in s.accounts:
                    balance = s.accounts[account_id].balance + delta
                    if balance < 0:  # the CHECK (balance >= 0) constraint
                        raise CheckViolation(f"balance of {account_id} would be {balance}")
                    s.accounts[account_id] = replace(s.accounts[account_id], balance=balance)
        self.uow.write(update)


class MemoryTransfers(_Bound):
    async def add(self, transfer: Transfer) -> None:
        self.uow.write(_insert("transfers", transfer.id, transfer,
                               UniqueViolation, f"duplicate transfer id {transfer.id}"))

    async def get(self, transfer_id: UUID) -> Transfer | None:
        return self.uow.view.transfers.get(transfer_id)


class MemoryIdempotencyStore(_Bound):
    async def claim(self, principal: str, key: str) -> StoredKey | None:
        self.uow.hold((principal, key))
        entry = self.uow.view.keys.get((principal, key))
        return entry[0] if entry else None

    async def claim_many(self, wanted: Sequence[tuple[str, str]]) -> list[Claim]:
        claims: list[Claim] = []
        for principal, key in wanted:
            try:
                claims.append(await self.claim(principal, key))
            except IdempotencyKeyInFlight:
                claims.append(IN_FLIGHT)
        return claims

    async def save(self, principal: str, key: str, fingerprint: str,
                   response: StoredResponse) -> None:
        row = (StoredKey(fingerprint, response), self.uow.factory.clock())
        # The SQL store turns the primary-key violation into a whole-transaction retry.
        self.uow.write(_insert("keys", (principal, key), row,
                               RetryTransaction, "idempotency key settled concurrently"))

    async def reap(self, older_than_hours: int) -> int:
        cutoff = self.uow.factory.clock() - timedelta(hours=older_than_hours)
        old = [k for k, (_, saved_at) in self.uow.view.keys.items() if saved_at < cutoff]

        def delete(s: MemoryState) -> None:
            for k in old:
                s.keys.pop(k, None)
        self.uow.write(delete)
        return len(old)


class MemoryUnitOfWork:
    def __init__(self, factory: MemoryUnitOfWorkFactory) -> None:
        self.factory = factory
        # Typed as the ports: protocol attributes are invariant, so this is what satisfies them.
        self.accounts: AccountRepository = MemoryAccounts(self)
        self.transfers: TransferRepository = MemoryTransfers(self)
        self.idempotency: IdempotencyStore = MemoryIdempotencyStore(self)
        self._staged: list[Write] = []
        self._held: set[Key] = set()
        self._extensions: dict[str, Any] = {}
        self._view, self._seen = factory.state, factory.version

    @property
    def view(self) -> MemoryState:
        """What this transaction reads: the latest committed state plus its own staged writes."""
        if self._seen != self.factory.version:
            self._view = _replayed(self.factory.state, self._staged)
            self._seen = self.factory.version
        return self._view

    def write(self, statement: Write) -> None:
        """Stage a write; it runs on a copy first, so a failing statement changes nothing."""
        self._view = _replayed(self.view, [statement])
        self._staged.append(statement)

    def hold(self, key: Key) -> None:
        holder = self.factory.holders.setdefault(key, self)
        if holder is not self:
            raise IdempotencyKeyInFlight(
                "a request with this Idempotency-Key is still being processed; retry shortly")
        self._held.add(key)

    def extension(self, name: str) -> Any:
        """Extension factories receive this unit of work and keep rows in `view.tables[name]`."""
        if name not in self._extensions:
            self._extensions[name] = self.factory.extensions[name](self)
        return self._extensions[name]

    async def commit(self) -> None:
        self.factory.state = _replayed(self.factory.state, self._staged)
        self.factory.version += 1
        self._end()

    async def __aenter__(self) -> MemoryUnitOfWork:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._end()  # anything not committed is dropped: the rollback

    def _end(self) -> None:
        """Commit and rollback both end the transaction, which releases its advisory locks."""
        self._staged.clear()
        for key in self._held:
            self.factory.holders.pop(key, None)
        self._held.clear()


class MemoryUnitOfWorkFactory:
    """The shared "database": committed state, key holders, and the clock `reap` reads."""

    def __init__(self, extensions: Mapping[str, Callable[[MemoryUnitOfWork], Any]] | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        # The core's defaults under the given ones, as bootstrap.extensions_of does.
        self.extensions = {access.EXTENSION: access.NoHolders, **(extensions or {})}
        self.clock = clock
        self.state = MemoryState()
        self.version = 0
        self.holders: dict[Key, MemoryUnitOfWork] = {}

    def __call__(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self)
