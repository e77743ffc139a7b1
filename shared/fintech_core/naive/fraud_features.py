"""The naive fraud baseline's features: read from its own table with one query, no lock, no
Redis. Every caller is taken for a person (the baseline has no identity to tell a service).

The same `Features` the real engine builds, over what the baseline recorded
(`naive_fraud_transfers`): windows count every attempt, the profile learns only from what moved.
It is the baseline's plumbing, not its lesson, and errs only in what it cannot know (the device
and IP counters stay 0).
"""

from __future__ import annotations

from typing import Any

import psycopg

from fintech_core.fraud.model import Features

_QUERY = """
SELECT
  count(*) FILTER (WHERE from_id = %(src)s AND created_at > now() - interval '10 minutes'),
  coalesce(sum(amount) FILTER (WHERE from_id = %(src)s
                               AND created_at > now() - interval '10 minutes'), 0),
  count(*) FILTER (WHERE from_id = %(src)s AND created_at > now() - interval '1 hour'),
  coalesce(sum(amount) FILTER (WHERE from_id = %(src)s AND created_at > now() - interval '1 hour'), 0),
  coalesce(sum(amount) FILTER (WHERE to_id = %(src)s AND moved
                               AND created_at > now() - interval '1 hour'), 0),
  count(*) FILTER (WHERE from_id = %(src)s AND moved),
  coalesce(avg(amount) FILTER (WHERE from_id = %(src)s AND moved), 0),
  count(*) FILTER (WHERE from_id = %(src)s AND to_id = %(dst)s AND moved),
  count(*) FILTER (WHERE to_id = %(dst)s AND created_at > now() - interval '1 hour'),
  count(DISTINCT from_id) FILTER (WHERE to_id = %(dst)s
                                  AND created_at > now() - interval '1 hour')
FROM naive_fraud_transfers WHERE from_id IN (%(src)s, %(dst)s) OR to_id IN (%(src)s, %(dst)s)"""

_NEW_BENEFICIARIES = """
SELECT count(DISTINCT to_id) FROM naive_fraud_transfers t
WHERE from_id = %(src)s AND moved AND created_at > now() - interval '1 hour'
  AND NOT EXISTS (SELECT 1 FROM naive_fraud_transfers p WHERE p.from_id = t.from_id
                  AND p.to_id = t.to_id AND p.moved AND p.created_at < now() - interval '1 hour')"""


def features_of(db: psycopg.Connection[Any], src: int, dst: int, amount: float) -> Features:
    params = {"src": src, "dst": dst}
    row = db.execute(_QUERY, params).fetchone()
    assert row is not None  # an aggregate always answers one row
    (out10, sum10, out1h, sum1h, in1h, history, avg, paid_dst, dst_in, dst_sources) = row
    (new_1h,) = db.execute(_NEW_BENEFICIARIES, params).fetchone() or (0,)
    return Features(
        amount=int(amount), kind="TRANSFER", caller_kind="user",
        src_out_count_10m=int(out10), src_out_sum_10m=int(sum10),
        src_out_count_1h=int(out1h), src_out_sum_1h=int(sum1h), src_in_sum_1h=int(in1h),
        src_new_beneficiaries_1h=int(new_1h), src_history_count=int(history),
        src_avg_amount=float(avg), new_beneficiary=int(paid_dst) == 0,
        dst_in_count_1h=int(dst_in), dst_distinct_sources_1h=int(dst_sources))
