"""Phase 1 — Ledger & money: immutable double-entry postings; balances derived from them.

What this phase adds to phase 0 (and nothing else); the table in its README is generated from
this object and checked by a test:
- migrations: ledger_accounts (the balance projection + overdraft CHECK), journal_entries,
  postings (append-only, sum-to-zero checked at COMMIT), holds, transfer_events, and guards that
  make transfers change only their status, only along the state machine;
- transfer pipeline: check_funds -> check_ledger, move_balances -> post_ledger,
  record_transfer -> record_ledger_transfer (Replace; phase 0's code is reused, not copied);
- routes: POST /holds, POST /transfers/{id}/post|void|reversal, POST /accounts/{id}/withdrawals,
  GET /accounts/{id}/balance, GET /accounts/{id}/entries, GET /ledger/verify; and it replaces
  POST /accounts (credit limit) and GET /transfers/{id} (postings and history);
- unit-of-work extensions "ledger" (write side) and "ledger_reads"; in a group-commit batch
  the ledger's locks are answered from the batch's snapshot (ledger/batch.py);
- a background task (the hold sweeper), `fcl ledger verify`, the ledger's problem types,
  the ledger-verify chaos hook, postings as what explains a balance to the drills, and lab 2.
"""

from pathlib import Path

from fintech_core.labs.registry import LabSpec
from fintech_core.ledger import cli as ledger_cli
from fintech_core.ledger.adapters.reads import SqlLedgerReads
from fintech_core.ledger.adapters.sql import SqlLedger
from fintech_core.ledger.batch import BatchLedger
from fintech_core.ledger.chaos import ledger_verify
from fintech_core.ledger.facts import POSTINGS_EXPLAIN_BALANCES
from fintech_core.ledger.problems import PROBLEMS
from fintech_core.ledger.routes import accounts, holds, transfers, verify
from fintech_core.ledger.steps import LEDGER_STEPS
from fintech_core.ledger.sweeper import run_sweeper
from fintech_core.ledger.yardstick import LEDGER_YARDSTICK
from fintech_core.phase import CliEntry, Phase

PHASE = Phase(
    number=1,
    slug="ledger",
    title="Ledger & money: double entry, holds, reversals, balances as of, verify",
    folder=Path(__file__).resolve().parent,
    routers=(accounts.router, holds.router, transfers.router, verify.router),
    replaces_routes=frozenset({"POST /accounts", "GET /transfers/{transfer_id}"}),
    transfer_steps=LEDGER_STEPS,
    extensions={"ledger": SqlLedger, "ledger_reads": SqlLedgerReads},
    batch_extensions={"ledger": BatchLedger},
    background_tasks=(run_sweeper,),
    features=frozenset({"ledger", "double-entry", "money", "holds", "reversals",
                        "withdrawals", "overdraft-policy", "balance-as-of", "verify"}),
    cli=(CliEntry("ledger", ledger_cli.app),),
    problems=PROBLEMS,
    chaos_hooks=(ledger_verify,),
    money_facts=POSTINGS_EXPLAIN_BALANCES,
    yardstick=LEDGER_YARDSTICK,
    labs=(LabSpec(2, "double-entry", "Post a transfer as balanced double-entry postings",
                  "lab02_double_entry", "ledger_posting.py", minutes=50),),
)
