"""Phase 5's chaos hooks: what the fraud slice must still guarantee after a run, judged from
PostgreSQL (and, for reviews, from what the reviewer was told). Money conserved and no negative
balance are the core checker's; a hold's 201 PENDING is accepted there, and judged here.

- fraud-decisions: every transfer of the run that went through (not FAILED) has exactly one
  decision; a 201 PENDING (stored with its key) and every hold answer to a decision that says
  review, and every review decision made its transfer a hold with a review row;
- fraud-reviews: (with an engine fault, whose reviewer worked the queue) every review hold ended
  COMPLETED (approved, posted), VOIDED (rejected) or EXPIRED (nobody decided), none left PENDING
  past its expiry plus the sweeper's period; each approval or rejection the reviewer was told
  succeeded is what the database holds, and the review's state matches its transfer's.
"""

from __future__ import annotations

import time
from collections import Counter

import psycopg

from fintech_core.chaos.env import ChaosEnv
from fintech_core.chaos.hooks import HookResult
from fintech_core.fraud import chaos_support as sup

RUN = "t.kind = 'TRANSFER' AND t.created_at >= %(since)s"
SETTLED = {"APPROVED": "COMPLETED", "REJECTED": "VOIDED", "OPEN": "EXPIRED"}
FATE = {"approve": ("APPROVED", "COMPLETED"), "reject": ("REJECTED", "VOIDED")}


def _result(name: str, problems: list[str], ok: str, figures: dict[str, object]) -> HookResult:
    if problems:
        return HookResult(name, "violation", f"{len(problems)}: " + "; ".join(problems[:5]),
                          figures)
    return HookResult(name, "ok", ok, figures)


def fraud_decisions(env: ChaosEnv) -> HookResult:
    args = {"since": sup.since(env)}
    with psycopg.connect(env.database_url, autocommit=True, connect_timeout=10) as conn:
        rows = conn.execute(
            "SELECT t.id::text, t.status, d.verdict, d.fallback, h.transfer_id IS NOT NULL,"
            "       r.transfer_id IS NOT NULL"
            "  FROM transfers t LEFT JOIN fraud_decisions d ON d.transfer_id = t.id"
            "  LEFT JOIN holds h ON h.transfer_id = t.id"
            "  LEFT JOIN fraud_reviews r ON r.transfer_id = t.id WHERE " + RUN, args).fetchall()
        pending_201 = conn.execute(
            "SELECT k.key, d.verdict FROM idempotency_keys k"
            "  LEFT JOIN fraud_decisions d ON d.transfer_id::text = k.response_body::jsonb ->> 'id'"
            " WHERE k.created_at >= %(since)s AND k.response_status = 201"
            "   AND k.response_body::jsonb ->> 'status' = 'PENDING'", args).fetchall()
    problems = [f"transfer {t} ({s}) has no decision" for t, s, v, *_ in rows
                if s != "FAILED" and v is None]
    problems += [f"transfer {t} is a hold but its decision says {v}" for t, _, v, _, held, _
                 in rows if held and v != "review"]
    problems += [f"transfer {t} was decided review but is not a hold with a review"
                 for t, _, v, _, held, reviewed in rows if v == "review"
                 and not (held and reviewed)]
    problems += [f"key {k} answered 201 PENDING but its decision says {v}"
                 for k, v in pending_201 if v != "review"]
    figures = {"transfers": len(rows),
               "verdicts": dict(Counter(v for _, _, v, *_ in rows if v is not None)),
               "fallbacks": dict(Counter(f for _, _, _, f, *_ in rows if f is not None)),
               "answered_201_pending": len(pending_201)}
    return _result("fraud-decisions", problems, f"{len(rows)} transfers, one decision each; "
                   f"{len(pending_201)} answered 201 PENDING, all under review", figures)


def fraud_reviews(env: ChaosEnv) -> HookResult:
    reviewer = sup.reviewer(env)
    if reviewer is None:
        return HookResult("fraud-reviews", "skipped", "no fraud engine fault in this run")
    with psycopg.connect(env.database_url, autocommit=True, connect_timeout=10) as conn:
        rows = conn.execute(
            "SELECT t.id::text, t.status, h.expires_at, r.state,"
            "       extract(epoch FROM clock_timestamp() - h.expires_at)"
            "  FROM transfers t JOIN holds h ON h.transfer_id = t.id"
            "  JOIN fraud_reviews r ON r.transfer_id = t.id WHERE " + RUN,
            {"since": sup.since(env)}).fetchall()
    late = sup.sweep_s(env) + sup.SWEEP_SLACK_S
    problems = [f"hold {t} still PENDING {past:.1f} s past its expiry" for t, s, _, _, past
                in rows if s == "PENDING" and past is not None and past > late]
    problems += [f"review {t} is {state} but its transfer is {s}" for t, s, _, state, _ in rows
                 if s != "PENDING" and SETTLED.get(state) != s]
    status = {t: (state, s) for t, s, _, state, _ in rows}
    for tid, fate in reviewer.fates.items():
        if reviewer.answers.get(tid) == 200 and status.get(tid) != FATE[fate]:
            problems.append(f"the reviewer was told {fate} succeeded on {tid}, the database "
                            f"has {status.get(tid)}")
    ended = Counter(s for _, s, *_ in rows)
    figures: dict[str, object] = {
        **reviewer.figures(), "review_holds": len(rows),
        "completed": ended["COMPLETED"], "voided": ended["VOIDED"], "expired": ended["EXPIRED"],
        "pending": ended["PENDING"], "review_ttl_s": sup.review_ttl_s(env),
        "holds_ended_after_s": env.measures.get("fraud.holds_ended_after_s"),
        "judged_at": round(time.time() - (env.run_started or 0), 1)}
    return _result("fraud-reviews", problems,
                   f"{len(rows)} review holds: {ended['COMPLETED']} approved and posted, "
                   f"{ended['VOIDED']} rejected and voided, {ended['EXPIRED']} expired",
                   figures)


CHAOS_HOOKS = (fraud_decisions, fraud_reviews)
