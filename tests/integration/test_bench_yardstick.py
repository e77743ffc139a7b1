"""The bench's SQL-only yardstick (bench/yardstick.py) runs under pgbench on each phase's schema
and writes what a transfer writes: one transfer row and one key per transaction, and from phase
1 on a balanced entry whose postings the trigger applied (the projection sums to zero)."""

from __future__ import annotations

import psycopg
import pytest

from fintech_core.bench import pgbench
from fintech_core.bench.phase_costs import yardstick_db
from fintech_core.stack.lab import Lab
from phases import composition

pytestmark = [pytest.mark.integration]


@pytest.mark.parametrize("phase", [0, 1, 2])
@pytest.mark.parametrize("hot", [False, True], ids=["uniform", "hot"])
def test_the_yardstick_moves_money_like_the_api(lab: Lab, phase: int, hot: bool) -> None:
    composed = composition(phase)
    url = yardstick_db(lab, composed, accounts=20)
    assert url is not None
    tps = pgbench.run(url, 2, 1, "yardstick", composed.yardstick.script(20, hot=hot))
    assert tps > 0
    with psycopg.connect(url) as conn:
        transfers, keys, total = conn.execute(
            "SELECT (SELECT count(*) FROM transfers), (SELECT count(*) FROM idempotency_keys),"
            " (SELECT sum(balance) FROM accounts)").fetchone() or (0, 0, 0)
        assert transfers == keys > 0
        assert total == (20 * 10**12 if phase == 0 else 0)  # money moved, none made
        if phase >= 1:
            entries, postings, posted = conn.execute(
                "SELECT (SELECT count(*) FROM journal_entries), (SELECT count(*) FROM postings),"
                " (SELECT sum(posted) FROM ledger_accounts)").fetchone() or (0, 0, 0)
            assert entries == transfers and postings == 2 * entries and posted == 0
        if hot:
            hot_in = conn.execute("SELECT count(*) FROM transfers WHERE destination_id = %s",
                                  ("00000000-0000-4000-8000-000000000001",)).fetchone()
            assert hot_in == (transfers,)
        if phase >= 2:
            assert conn.execute("SELECT count(*) FROM outbox").fetchone() == (transfers,)
