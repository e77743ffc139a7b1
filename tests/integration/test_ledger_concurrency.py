"""The bank workload on the real PostgreSQL: 32 concurrent workers x N random transfers among 20
accounts, each transfer run exactly as POST /transfers runs it (Idempotency-Key, one transaction,
whole-transaction retries), while a reader sums all balances again and again.

Must hold: the sum of balances never changes (on every read, and at the end); no balance is ever
negative; no transfer is lost or doubled (COMPLETED transfers == successful replies); verify
reports zero drift; no error other than insufficient funds reaches a client.

Size: 32 workers always; FINCORE_BANK_PER_WORKER transfers each. The default (150, i.e. 4,800
transfers, about 15 s) keeps `make test` quick on a 2-core machine; the full size of the issue is
FINCORE_BANK_PER_WORKER=500 (16,000 transfers, about a minute there). The figures are printed.
"""

from __future__ import annotations

import asyncio
import os
import random
import time

import pytest

from tests.integration.ledger_client import LedgerClient

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

WORKERS = 32
PER_WORKER = int(os.environ.get("FINCORE_BANK_PER_WORKER", "150"))
ACCOUNTS = 20
OPENING = 10_000


async def test_bank_workload_keeps_money_exact(scratch_ledger: LedgerClient,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    ledger = scratch_ledger
    accounts = [await ledger.open(f"bank{i}", funded=OPENING) for i in range(ACCOUNTS)]
    total = ACCOUNTS * OPENING
    outcomes: dict[int, int] = {}
    done = asyncio.Event()
    reads = 0

    async def worker(n: int) -> None:
        rng = random.Random(n)
        for _ in range(PER_WORKER):
            source, destination = rng.sample(accounts, 2)
            reply = await ledger.keyed_move(source, destination, rng.randint(1, 2_000))
            outcomes[reply.status] = outcomes.get(reply.status, 0) + 1

    async def reader() -> None:
        nonlocal reads
        async with ledger.c.uow_factory() as uow:
            conn = uow.conn  # type: ignore[attr-defined]
            while not done.is_set():
                cur = await conn.execute(
                    "SELECT sum(posted), min(posted) FROM ledger_accounts WHERE id = ANY(%s)",
                    (accounts,))
                seen_total, seen_min = await cur.fetchone()  # type: ignore[misc]
                await conn.rollback()  # a fresh snapshot per read
                assert (seen_total, seen_min >= 0) == (total, True)
                reads += 1
                await asyncio.sleep(0.01)

    started = time.perf_counter()
    reading = asyncio.create_task(reader())
    await asyncio.gather(*(worker(n) for n in range(WORKERS)))
    elapsed = time.perf_counter() - started
    done.set()
    await reading

    balances = [(await ledger.balance(a)).posted for a in accounts]
    assert sum(balances) == total and min(balances) >= 0
    assert set(outcomes) <= {201, 422}, outcomes  # no 409, no 5xx: retries absorbed every race
    assert sum(outcomes.values()) == WORKERS * PER_WORKER
    completed = ledger.sql("SELECT count(*) FROM transfers WHERE kind = 'TRANSFER'"
                           " AND status = 'COMPLETED'")[0][0]
    assert completed == outcomes.get(201, 0)
    report = await ledger.verify()
    assert report.drift == 0, report
    n = WORKERS * PER_WORKER
    with capsys.disabled():
        print(f"\nbank workload: {WORKERS} workers x {PER_WORKER} = {n} transfers among "
              f"{ACCOUNTS} accounts in {elapsed:.1f} s ({n / elapsed:.0f} transfers/s); "
              f"completed {outcomes.get(201, 0)}, refused {outcomes.get(422, 0)}; "
              f"{reads} concurrent sum reads; verify drift {report.drift}")
