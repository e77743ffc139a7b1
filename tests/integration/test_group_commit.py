"""Group commit (transfers/group_commit.py) on the real PostgreSQL, phases 0, 1 and 2.

The property: a batch run in one transaction ends exactly as the same transfers run one by one
in arrival order, each in its own transaction: the same answer per request (status, transfer
status, failure or problem code, replayed or not) and the same balances. Random batches mix
transfers that pass, that are refused for funds (FAILED, recorded), that name a frozen, missing
or other-currency account (a problem, nothing recorded), and repeated keys (same request: one
run, then replays; another request: 422), over few accounts so that they collide.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from fintech_core.api.app import build_app
from fintech_core.api.responses import transfer_response
from fintech_core.bootstrap import bootstrap
from fintech_core.container import Container
from fintech_core.domain.errors import DomainError
from fintech_core.idempotency.ports import StoredResponse
from fintech_core.idempotency.runner import run_idempotently
from fintech_core.service.ports import UnitOfWork
from fintech_core.stack.lab import Lab
from fintech_core.transfers.domain import TransferCommand
from fintech_core.transfers.group_commit import Request
from phases import composition
from tests.conftest import TEST_DB_PREFIX, phase_database

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

PHASES = (0, 1, 2)


@dataclass(frozen=True)
class Move:
    src: int  # index into the world's accounts; -1: an account that does not exist
    dst: int
    amount: int
    key: int  # a repeated key number is a retry (or a misuse, if the move differs)


@pytest.fixture(params=PHASES, ids=lambda n: f"phase{n}")
async def service(request: pytest.FixtureRequest, lab: Lab) -> AsyncIterator[Container]:
    phase = request.param
    phase_database(lab, phase)
    settings = lab.settings.model_copy(update={
        "phase": phase, "database_url": lab.database_url(), "database_prefix": TEST_DB_PREFIX,
        "db_pool_min": 1, "db_pool_max": 8, "group_commit": True})
    container = bootstrap(settings, composition(phase))
    await container.open()
    try:
        yield container
    finally:
        await container.close()


async def open_world(c: Container, funds: list[int]) -> list[uuid.UUID]:
    """Accounts funded as given; the last one is frozen, plus one USD account."""
    transport = httpx.ASGITransport(app=build_app(c))
    ids = []
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        for i, amount in enumerate([*funds, 50]):
            currency = "USD" if i == len(funds) else "EUR"
            r = await http.post("/accounts", json={"owner": f"gc{i}", "currency": currency})
            account = r.json()["id"]
            if amount:
                d = await http.post(f"/accounts/{account}/deposits",
                                    json={"amount": amount, "currency": currency},
                                    headers={"Idempotency-Key": uuid.uuid4().hex})
                assert d.status_code == 201, d.text
            ids.append(uuid.UUID(account))
        frozen = await http.post(f"/accounts/{ids[len(funds) - 1]}/freeze")
        assert frozen.status_code == 200, frozen.text
    return ids


def request_for(c: Container, world: list[uuid.UUID], tag: str, move: Move) -> Request:
    src = world[move.src] if move.src >= 0 else uuid.uuid4()
    command = TransferCommand(src, world[move.dst], move.amount, "EUR")

    async def operation(uow: UnitOfWork) -> StoredResponse:
        return transfer_response(await c.transfers.execute(uow, command, "gc"),
                                 c.composition.problems)

    fp = f"{move.src}>{move.dst}:{move.amount}"
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    return Request("gc", f"{tag}-{move.key}", fp, operation, future)


def answer(outcome: Any) -> tuple[Any, ...]:
    """What a client sees, without the ids that differ between the two worlds."""
    if isinstance(outcome, BaseException):
        assert isinstance(outcome, DomainError), repr(outcome)
        return ("problem", outcome.code)
    response, replayed = outcome
    body = response.body  # a transfer, or the problem naming a FAILED one
    return (response.status, body.get("code") or body.get("status"), replayed)


async def one_by_one(c: Container, requests: list[Request]) -> list[Any]:
    outcomes: list[Any] = []
    for r in requests:
        try:
            outcomes.append(await run_idempotently(c.uow_factory, r.principal, r.key,
                                                   r.fingerprint, r.operation))
        except DomainError as refused:
            outcomes.append(refused)
    return outcomes


def balances(c: Container, world: list[uuid.UUID]) -> list[int]:
    import psycopg

    with psycopg.connect(c.database_url, autocommit=True) as conn:
        rows: dict[uuid.UUID, int] = dict(conn.execute("SELECT id, balance FROM accounts WHERE id = ANY(%s)",
                                 (world,)).fetchall())
    return [rows[a] for a in world]


def random_moves(rng: random.Random, accounts: int, n: int) -> list[Move]:
    moves: list[Move] = []
    for i in range(n):
        if moves and rng.random() < 0.15:  # a retry of an earlier request, or a key misuse
            earlier = rng.choice(moves)
            moves.append(earlier if rng.random() < 0.7 else
                         Move(earlier.src, earlier.dst, earlier.amount + 1, earlier.key))
            continue
        src = -1 if rng.random() < 0.05 else rng.randrange(accounts + 1)
        dst = rng.randrange(accounts + 1)  # accounts: the USD one; accounts - 1: frozen
        if dst == src:
            dst = (dst + 1) % (accounts + 1)
        moves.append(Move(src, dst, rng.randint(1, 120), i))
    return moves


async def test_a_batch_ends_as_its_transfers_run_one_by_one_in_arrival_order(
        service: Container) -> None:
    c = service
    assert c.group_commit is not None
    seen: set[str] = set()
    for seed in range(8):
        rng = random.Random(seed)
        funds = [rng.choice([0, 30, 100, 250]) for _ in range(rng.randint(2, 4))] + [100]
        moves = random_moves(rng, len(funds), rng.randint(6, 24))
        batched_world, serial_world = await open_world(c, funds), await open_world(c, funds)
        run = uuid.uuid4().hex[:8]
        batch = [request_for(c, batched_world, f"b{run}", m) for m in moves]
        serial = [request_for(c, serial_world, f"s{run}", m) for m in moves]
        transactions = c.group_commit.batches
        batched = await c.group_commit.run(batch)
        assert c.group_commit.batches == transactions + 1, "the batch ran in one transaction"
        expected = await one_by_one(c, serial)
        assert [answer(o) for o in batched] == [answer(o) for o in expected], (seed, moves)
        assert balances(c, batched_world) == balances(c, serial_world), (seed, moves)
        seen.update(answer(o)[1] for o in batched)
        seen.update("replayed" for o in batched if answer(o)[-1] is True)
    # The random batches did meet every case the property is about.
    assert {"COMPLETED", "insufficient-funds", "account-frozen", "account-not-found",
            "currency-mismatch", "idempotency-key-reused", "replayed"} <= seen, seen


async def test_a_batch_sends_three_statements_however_many_transfers(
        service: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    """Eight transfers, one transaction: one claim of all keys, one lock statement, one write
    statement (every table's rows), then COMMIT; counted at the driver."""
    import psycopg

    c = service
    assert c.group_commit is not None
    world = await open_world(c, [500, 500, 500, 100])
    batch = [request_for(c, world, uuid.uuid4().hex, Move(i % 3, (i + 1) % 3, 5, i))
             for i in range(8)]
    sent: list[str] = []
    execute = psycopg.AsyncConnection.execute

    async def counting(self: Any, query: Any, params: Any = None, **kw: Any) -> Any:
        sent.append(str(query)[:40])
        return await execute(self, query, params, **kw)

    monkeypatch.setattr(psycopg.AsyncConnection, "execute", counting)
    outcomes = await c.group_commit.run(batch)
    monkeypatch.undo()
    assert [answer(o) for o in outcomes] == [(201, "COMPLETED", False)] * 8
    assert len(sent) == 3, sent
    assert balances(c, world)[:3] == [495, 500, 505]  # 0 pays 3 times, is paid twice; 2 the reverse
