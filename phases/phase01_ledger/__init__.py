"""Phase 1 — Ledger & money: immutable double-entry postings; balances derived from them.

What this phase adds to phases 0 (and nothing else):
- migrations: ledger_accounts (the balance projection + overdraft CHECK), journal_entries,
  postings (append-only, sum-to-zero checked at COMMIT), holds, transfer_events, and guards that
  make transfers change only their status, only along the state machine;
- transfer pipeline: check_funds -> check_ledger, move_balances -> post_ledger,
  record_transfer -> record_ledger_transfer (Replace; phase 0's code is reused, not copied);
- routes: POST /holds, POST /transfers/{id}/post|void|reversal, POST /accounts/{id}/withdrawals,
  GET /accounts/{id}/balance, GET /accounts/{id}/entries, GET /ledger/verify; and it replaces
  POST /accounts (credit limit) and GET /transfers/{id} (postings and history);
- unit-of-work extensions "ledger" (write side) and "ledger_reads";
- a background task: the hold sweeper.
"""

from pathlib import Path

from fintech_core.adapters.sql_ledger import SqlLedger
from fintech_core.adapters.sql_ledger_reads import SqlLedgerReads
from fintech_core.api.routes import (
    ledger_accounts,
    ledger_holds,
    ledger_transfers,
    ledger_verify,
)
from fintech_core.ledger.steps import LEDGER_STEPS
from fintech_core.ledger.sweeper import run_sweeper
from fintech_core.phase import Phase

PHASE = Phase(
    number=1,
    slug="ledger",
    title="Ledger & money: double entry, holds, reversals, balances as of, verify",
    folder=Path(__file__).resolve().parent,
    routers=(ledger_accounts.router, ledger_holds.router, ledger_transfers.router,
             ledger_verify.router),
    replaces_routes=frozenset({"POST /accounts", "GET /transfers/{transfer_id}"}),
    transfer_steps=LEDGER_STEPS,
    extensions={"ledger": SqlLedger, "ledger_reads": SqlLedgerReads},
    background_tasks=(run_sweeper,),
    features=frozenset({"ledger", "double-entry", "money", "holds", "reversals",
                        "withdrawals", "overdraft-policy", "balance-as-of", "verify"}),
)
