"""Phase 2's yardstick (bench/yardstick.py): phase 1's statements plus the outbox row, written
with the others (events/steps.py), with a payload of the size `transfer.completed.v1` has."""

from __future__ import annotations

from dataclasses import replace

from fintech_core.bench.yardstick import SRC
from fintech_core.ledger.yardstick import LEDGER_YARDSTICK

PAYLOAD = ('{"transfer_id": "0190d3c5-5f6e-7a3b-9c1d-2e4f5a6b7c8d", "kind": "TRANSFER", '
           '"source_account_id": "00000000-0000-4000-8000-000000000001", '
           '"destination_account_id": "00000000-0000-4000-8000-000000000002", "amount": 1, '
           '"currency": "EUR", "reference": null, "reverses_id": null, "entry": {"entry_id": '
           '"0190d3c5-5f6e-7a3b-9c1d-2e4f5a6b7c8e", "kind": "TRANSFER", "postings": ['
           '{"account_id": "00000000-0000-4000-8000-000000000001", "bucket": "POSTED", '
           '"amount": -1, "currency": "EUR"}, {"account_id": '
           '"00000000-0000-4000-8000-000000000002", "bucket": "POSTED", "amount": 1, '
           '"currency": "EUR"}]}}')
OUTBOX = ("INSERT INTO outbox (event_id, aggregate_type, aggregate_id, event_type, payload,"
          f" headers) SELECT gen_random_uuid(), 'account', {SRC}, 'transfer.completed.v1',"
          f" '{PAYLOAD}'::jsonb, '{{\"correlation_id\": \"x\"}}'::jsonb")

EVENTS_YARDSTICK = replace(LEDGER_YARDSTICK, writes=(*LEDGER_YARDSTICK.writes, OUTBOX))
