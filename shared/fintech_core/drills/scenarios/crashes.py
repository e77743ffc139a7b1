"""Something dies mid-transfer: the API process, or PostgreSQL under a burst of transfers."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from fintech_core.drills import checks, dbfaults, inject
from fintech_core.drills.drill import PER_REQUEST, Ctx, Drill
from fintech_core.drills.scenarios.common import new_key, retry_until_definitive, wait_mid_transfer


def _killed(ctx: Ctx) -> None:
    ctx.open(alice=1000, bob=0)
    key = new_key()
    ctx.target.arm("mid-transfer", "delay", 5000)  # widen the window the kill lands in
    first = threading.Thread(target=ctx.target.transfer, args=("alice", "bob", 100),
                             kwargs={"key": key, "timeout": 15})
    first.start()
    wait_mid_transfer(ctx, "alice")
    inject.kill_api(ctx.stage, ctx.timeline)
    first.join()
    inject.restart_api(ctx.stage, ctx.timeline)
    retry_until_definitive(ctx, "alice", "bob", 100, key, why="(retry after the restart)")


KILLED_MID_TRANSFER = Drill(
    name="killed-mid-transfer",
    title="The API process is killed in the middle of a transfer, then the client retries",
    question="The server died between the debit and the credit. What is on disk? "
             "And after the client retries?",
    fault="server: SIGKILL of the API process from outside while the request is mid-transfer "
          "(after the debit for the naive API, inside the open transaction for the phase)",
    client="sees the connection die, waits for the API to come back, retries the same request",
    invariant="money moved exactly once; money conserved",
    lesson="Autocommitted statements survive a crash one by one: money is destroyed, and the "
           "retry debits again. One transaction is all or nothing; the key makes the retry safe.",
    play=_killed,
    check=lambda ctx, f: [checks.moved(ctx, f, "alice", 100), checks.conserved(ctx, f)],
    # Not pinned to PER_REQUEST: the one transfer in flight is a batch of one, which group
    # commit runs on the single-transaction path exactly as per request (group_commit.py).
)

WORKERS, EACH, AMOUNT = 4, 3, 10
# How long each worker's first transfer stays half done. The restart must land inside that
# window, and `pg_ctl stop` can take seconds to start killing sessions on a loaded machine (seen:
# with 500 ms on every transfer, a busy CI machine finished the whole burst before the restart,
# and the naive baseline "held"). So the first transfer of every worker waits long enough for
# any restart, and the restart cuts the wait short: its sessions die with the server.
WINDOW_MS = 5000
SOURCES = tuple(f"a{i}" for i in range(WORKERS))


def _db_restart(ctx: Ctx) -> None:
    # One account pair per worker: the naive API's lost updates between concurrent requests on
    # a shared row would blur the lesson; here only the restart can break anything.
    ctx.open(**{f"a{i}": 1000 for i in range(WORKERS)}, **{f"b{i}": 0 for i in range(WORKERS)})
    ctx.target.arm("mid-transfer", "delay", WINDOW_MS, times=WORKERS)

    def worker(i: int) -> int:
        keys = [new_key() for _ in range(EACH)]  # one per intent, before any attempt
        return sum(retry_until_definitive(ctx, f"a{i}", f"b{i}", AMOUNT, k, timeout=12).succeeded
                   for k in keys)

    try:
        with ThreadPoolExecutor(WORKERS) as pool:
            done = [pool.submit(worker, i) for i in range(WORKERS)]
            wait_mid_transfer(ctx, "a0")
            dbfaults.restart_postgres(ctx.stage.lab, ctx.timeline)
            told = sum(f.result() for f in done)
        ctx.timeline.log("drill", "note", f"the clients were told {told} successes for "
                         f"{WORKERS * EACH} transfers")
    finally:
        # Pooled connections died with the server; a fresh API starts with a clean pool.
        inject.restart_api(ctx.stage, ctx.timeline, " (pooled connections died with PostgreSQL)")


DB_RESTART = Drill(
    name="db-restart",
    title="PostgreSQL restarts during a burst of transfers",
    question="The database restarts while transfers are in flight. After the clients retry, "
             f"does the ledger show exactly the {WORKERS * EACH} transfers they asked for?",
    fault="database: fast shutdown of PostgreSQL (sessions killed, open transactions rolled "
          "back) while transfers are half done, then start",
    client=f"{WORKERS} clients send {EACH} transfers of {AMOUNT} each, each retried with the "
           "same request on no answer, 5xx or 409 until a definitive answer",
    invariant=f"money moved exactly {WORKERS * EACH} times; money conserved",
    lesson="A crash between two autocommitted writes loses half a transfer and the retry adds "
           "another. A rolled-back transaction plus a key gives exactly-once under retries.",
    play=_db_restart,
    check=lambda ctx, f: [checks.moved(ctx, f, SOURCES, AMOUNT, times=WORKERS * EACH),
                          checks.conserved(ctx, f)],
    # The restart must find several transfers half done, each in its own transaction; with
    # group commit the held delay would hold one batch and queue the other clients behind it.
    api_flags=PER_REQUEST,
)
