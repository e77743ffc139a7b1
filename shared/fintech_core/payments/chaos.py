"""Phase 3's chaos hooks: the provider's invariants, judged after the run from PostgreSQL and the
provider's own settlement report (through `fcl payments reconcile`, which also repairs).

The faults' quiesce() stopped the payments workload before any phase's hook ran, and waited
until nothing was in flight (the worker resolved every UNKNOWN, the simulator delivered or gave
up every webhook). Declared in this order, which matters: the first runs the reconciliation
twice; the others judge that reconciled state.
Everything is scoped to the payments workload's own accounts (a reused chaos database holds
earlier runs). The ledger's own verify (phase 1's hook) judges money conservation overall.

- payments-reconciled: quiet within `drain_bound_s`; the first reconciliation repairs what lost
  webhooks left, the second repairs nothing; no amount mismatch, nothing missing at the provider;
- payments-settled-once: every charge the provider settled for us is SETTLED (or refunded) here
  with exactly one ledger credit; the provider charged each payment at most once;
- payouts-paid-once: the provider paid each payout at most once; paid <=> SETTLED <=> hold posted;
- holds-never-leak: every payout and refund hold ended posted or voided (none PENDING), every
  payout and refund in a final state;
- payments-money: each workload account holds exactly settled top-ups - refunds - paid payouts;
- webhooks-once: every webhook the API acknowledged is in the inbox once, and no resource took
  the same state twice (one effect per webhook id, however many copies came).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping
from typing import Any

from fintech_core.chaos.env import ChaosEnv
from fintech_core.chaos.hooks import HookResult
from fintech_core.payments import chaos_support as sup
from fintech_core.stack.processes import wait_until

SKIP = "no provider fault in this run: the payments workload did not run"


def _result(name: str, problems: list[str], ok: str, figures: Mapping[str, object]) -> HookResult:
    if problems:
        return HookResult(name, "violation", "; ".join(problems)[:600], dict(figures))
    return HookResult(name, "ok", ok, dict(figures))


def _accounts(env: ChaosEnv) -> list[str] | None:
    work = sup.workload(env)
    return None if work is None else work.accounts


def _ours(env: ChaosEnv, accounts: list[str]) -> dict[str, set[str]]:
    with sup.connect(env) as conn:
        return {kind: {str(r[0]) for r in conn.execute(
            f"SELECT id FROM {table} WHERE account_id = ANY(%s::uuid[])", (accounts,))}
                for kind, table in (("payment", "payments"), ("payout", "payouts"),
                                    ("refund", "refunds"))}


def payments_reconciled(env: ChaosEnv) -> HookResult:
    work, name = sup.workload(env), "payments-reconciled"
    if work is None:
        return HookResult(name, "skipped", SKIP)
    # The faults' quiesce() stopped the workload and waited; a run judged without it (a test
    # handing the hooks a database) waits here.
    work.stop()
    sim, bound, began = sup.simulator(env), env.options.get("drain_bound_s", 120.0), time.monotonic()
    quiet = wait_until(lambda: sim.undelivered() == 0
                       and sup.open_resources(env, work.accounts) == 0, bound, 0.5)
    quiet_s = env.measures.get("payments.quiet_after_s", round(time.monotonic() - began, 1))
    refs = set().union(*_ours(env, work.accounts).values())
    runs = []
    for _ in range(2):  # the second run shows the repair is idempotent
        runs.append([f for day in sup.run_days(env) for f in sup.reconcile(env, day)
                     if f["reference"] in refs])
    env.measures["payments.findings"] = runs[0]
    first, second = (Counter(f["category"] for f in r) for r in runs)
    repaired = [sum(1 for f in r if f["action"] == "repaired") for r in runs]
    figures = {**work.figures(), "quiet_after_s": quiet_s, "report_lines": sum(first.values()),
               "findings_first_run": dict(first), "repaired_first_run": repaired[0],
               "repaired_second_run": repaired[1], "findings_second_run": dict(second)}
    problems = [] if quiet else [f"still in flight {bound:.0f} s after the run"]
    problems += [f"second reconciliation repaired {repaired[1]}"] if repaired[1] else []
    problems += [f"{second[c]} {c}" for c in ("amount-mismatch", "missing-at-provider",
                                               "missing-in-ledger") if second[c]]
    left = sup.open_resources(env, work.accounts)
    problems += [f"{left} resources still open after reconciliation"] if left else []
    return _result(name, problems, f"reconciled: {repaired[0]} lost webhooks repaired, then 0",
                   figures)


def _report_lines(env: ChaosEnv, kind: str) -> list[dict[str, Any]]:
    return [f for f in env.measures.get("payments.findings", []) if f["kind"] == kind
            and f["category"] != "missing-at-provider"]


def payments_settled_once(env: ChaosEnv) -> HookResult:
    accounts, name = _accounts(env), "payments-settled-once"
    if accounts is None:
        return HookResult(name, "skipped", SKIP)
    lines = _report_lines(env, "payment")
    charged = Counter(f["reference"] for f in lines)
    with sup.connect(env) as conn:
        rows = {str(r[0]): r[1:] for r in conn.execute(
            "SELECT p.id, p.state, (SELECT count(*) FROM transfers t"
            "  WHERE t.reference = 'payment ' || p.id::text) FROM payments p"
            " WHERE p.account_id = ANY(%s::uuid[])", (accounts,))}
    settled = {"SETTLED", "PARTIALLY_REFUNDED", "REFUNDED"}
    problems = [f"payment {r[:8]} charged {n} times at the provider"
                for r, n in charged.items() if n > 1]
    problems += [f"payment {r[:8]} settled at the provider is {rows[r][0]} here"
                 for r in charged if r in rows and rows[r][0] not in settled]
    problems += [f"payment {p[:8]} ({state}) has {n} ledger credits"
                 for p, (state, n) in rows.items() if n != (1 if state in settled else 0)]
    problems += [f"payment {p[:8]} SETTLED here, not at the provider"
                 for p, (state, _) in rows.items() if state in settled and p not in charged]
    states = Counter(state for state, _ in rows.values())
    return _result(name, problems, f"{len(charged)} settled charges, each credited once",
                   {"payments_by_state": dict(states), "charges_settled": len(charged)})


def payouts_paid_once(env: ChaosEnv) -> HookResult:
    accounts, name = _accounts(env), "payouts-paid-once"
    if accounts is None:
        return HookResult(name, "skipped", SKIP)
    paid = Counter(f["reference"] for f in _report_lines(env, "payout"))
    with sup.connect(env) as conn:
        rows = {str(r[0]): (r[1], r[2]) for r in conn.execute(
            "SELECT p.id, p.state, t.status FROM payouts p JOIN transfers t ON t.id = p.hold_id"
            " WHERE p.account_id = ANY(%s::uuid[])", (accounts,))}
    problems = [f"payout {r[:8]} paid {n} times" for r, n in paid.items() if n > 1]
    for p, (state, hold) in rows.items():
        want = {"SETTLED": "COMPLETED", "FAILED": "VOIDED"}.get(state)
        if (state == "SETTLED") != (p in paid):
            problems.append(f"payout {p[:8]} is {state} here, {'paid' if p in paid else 'not paid'}"
                            " at the provider")
        if hold != want:
            problems.append(f"payout {p[:8]} {state} with its hold {hold}")
    return _result(name, problems, f"{len(paid)} payouts paid, each once, holds posted",
                   {"payouts_by_state": dict(Counter(s for s, _ in rows.values())),
                    "payouts_paid": len(paid)})


def holds_never_leak(env: ChaosEnv) -> HookResult:
    accounts, name = _accounts(env), "holds-never-leak"
    if accounts is None:
        return HookResult(name, "skipped", SKIP)
    with sup.connect(env) as conn:
        rows = conn.execute(
            "SELECT x.kind, x.state, t.status, count(*) FROM (SELECT 'payout' AS kind, state,"
            " hold_id FROM payouts WHERE account_id = ANY(%(a)s::uuid[]) UNION ALL SELECT"
            " 'refund', state, hold_id FROM refunds WHERE account_id = ANY(%(a)s::uuid[])) x"
            " JOIN transfers t ON t.id = x.hold_id GROUP BY 1, 2, 3", {"a": accounts}).fetchall()
    holds = Counter[str]()
    problems = []
    for kind, state, status, n in rows:
        holds[status] += n
        if status == "PENDING" or state not in ("SETTLED", "FAILED"):
            problems.append(f"{n} {kind} holds {status} with the {kind} {state}")
    return _result(name, problems, f"{sum(holds.values())} holds, each posted or voided",
                   {"holds": dict(holds)})


def payments_money(env: ChaosEnv) -> HookResult:
    accounts, name = _accounts(env), "payments-money"
    if accounts is None:
        return HookResult(name, "skipped", SKIP)
    with sup.connect(env) as conn:
        rows = conn.execute(
            "SELECT l.id, l.posted, l.pending_out,"
            " (SELECT coalesce(sum(amount), 0) FROM payments WHERE account_id = l.id"
            "   AND state IN ('SETTLED', 'PARTIALLY_REFUNDED', 'REFUNDED'))"
            " - (SELECT coalesce(sum(amount), 0) FROM refunds WHERE account_id = l.id"
            "   AND state = 'SETTLED')"
            " - (SELECT coalesce(sum(amount), 0) FROM payouts WHERE account_id = l.id"
            "   AND state = 'SETTLED')"
            " FROM ledger_accounts l WHERE l.id = ANY(%s::uuid[])", (accounts,)).fetchall()
    problems = [f"account {str(a)[:8]} holds {posted} (pending out {out}), expected {want}"
                for a, posted, out, want in rows if posted != want or out != 0]
    total = sum(int(r[1]) for r in rows)
    return _result(name, problems, "balances = top-ups - refunds - payouts",
                   {"workload_balance_total": total})


def webhooks_once(env: ChaosEnv) -> HookResult:
    accounts, name = _accounts(env), "webhooks-once"
    if accounts is None:
        return HookResult(name, "skipped", SKIP)
    refs = set().union(*_ours(env, accounts).values())
    deliveries = [d for d in sup.simulator(env).admin("GET", "/deliveries")
                  if d["reference"] in refs]
    acked = {(d["provider"], d["webhook_id"]) for d in deliveries
             if any(200 <= (a["status_code"] or 0) < 300 for a in d["attempts"])}
    copies = sum(1 for d in deliveries if d["state"] == "delivered")
    with sup.connect(env) as conn:
        inbox = {(p, w): (o, s) for p, w, o, s in conn.execute(
            "SELECT provider, webhook_id, outcome, source FROM provider_inbox"
            " WHERE reference = ANY(%s)", (list(refs),))}
        twice = conn.execute(
            "SELECT count(*) FROM (SELECT resource_id, to_state FROM payment_state_history"
            " WHERE resource_id = ANY(%s::uuid[]) GROUP BY 1, 2 HAVING count(*) > 1) x",
            (list(refs),)).fetchone()
    missing = acked - inbox.keys()
    problems = [f"{len(missing)} acknowledged webhooks not in the inbox"] if missing else []
    problems += [f"{twice[0]} resources took one state twice"] if twice and twice[0] else []
    outcomes = Counter(f"{s} {o}" for o, s in inbox.values())
    return _result(name, problems, f"{len(acked)} webhook ids acknowledged, each applied once",
                   {"deliveries": len(deliveries), "copies_delivered": copies,
                    "webhook_ids_acknowledged": len(acked),
                    "duplicate_copies_refused": copies - len(acked),
                    "inbox": dict(sorted(outcomes.items()))})


CHAOS_HOOKS = (payments_reconciled, payments_settled_once, payouts_paid_once, holds_never_leak,
               payments_money, webhooks_once)
