"""Lab 4 acceptance tests. Each test's first docstring paragraph is an acceptance criterion; the
README lists the same lines and `fcl lab check 4` reports them one by one.

Every test message is signed by the `standardwebhooks` package, an implementation independent
of the lab's, so a verify() that agrees only with itself cannot pass. The clock is passed in
(`now`), so the tolerance tests are exact. Real PostgreSQL; each test makes its own payments.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import psycopg
import pytest
from standardwebhooks import Webhook

from fintech_core.labs.database import apply_sql
from fintech_core.labs.loader import load_student_module

Connect = Callable[[], psycopg.Connection]
NOW = 1_767_225_600  # 2026-01-01T00:00:00Z, the receiver's clock in every test


@pytest.fixture(scope="module")
def impl() -> ModuleType:
    return load_student_module("signed_webhooks.py")


@pytest.fixture(scope="module")
def db_schema(database_url: str) -> None:
    apply_sql(database_url, Path(__file__).parents[1] / "schema.sql")


@pytest.fixture
def db(db_schema: None, connect: Connect) -> psycopg.Connection:
    return connect()


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


def body(event_type: str, payment_id: str) -> bytes:
    """Compact JSON, as providers send it: json.dumps(json.loads(b)) gives other bytes."""
    return json.dumps({"type": event_type, "data": {"payment_id": payment_id}},
                      separators=(",", ":")).encode()


def sign(secret: str, raw: bytes, webhook_id: str | None = None, at: int = NOW) -> dict[str, str]:
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    signature = Webhook(secret).sign(webhook_id, datetime.fromtimestamp(at, UTC), raw.decode())
    return {"webhook-id": webhook_id, "webhook-timestamp": str(at),
            "webhook-signature": signature}


def new_payment(db: psycopg.Connection, amount: int = 2500) -> str:
    payment_id = f"pay_{uuid.uuid4().hex[:12]}"
    db.execute("INSERT INTO lab4_payments (payment_id, merchant, amount) VALUES (%s, %s, %s)",
               (payment_id, f"m_{payment_id}", amount))
    return payment_id


def state(db: psycopg.Connection, payment_id: str) -> tuple[str, int, int, int]:
    """(status, ledger rows, ledger total, inbox rows) of one payment, read fresh."""
    status = db.execute("SELECT status FROM lab4_payments WHERE payment_id = %s",
                        (payment_id,)).fetchone()[0]
    rows, total = db.execute("SELECT count(*), coalesce(sum(amount), 0) FROM lab4_merchant_ledger"
                             " WHERE payment_id = %s", (payment_id,)).fetchone()
    inbox = db.execute("SELECT count(*) FROM lab4_webhook_inbox WHERE payment_id = %s",
                       (payment_id,)).fetchone()[0]
    return str(status), int(rows), int(total), int(inbox)


def test_valid_signature_is_accepted_over_the_raw_bytes(impl: ModuleType) -> None:
    """A webhook signed with the shared secret is accepted and its webhook-id returned, verified
    over the exact bytes received (compact JSON, key order and spacing as sent)."""
    secret = new_secret()
    raw = b'{"type":"payment.succeeded", "data":{"payment_id":"pay_1"},"amount":1e2}'
    headers = sign(secret, raw)
    assert impl.verify(headers, raw, [secret], NOW) == headers["webhook-id"]
    compact = body("payment.refunded", "pay_2")
    headers = sign(secret, compact)
    assert impl.verify(headers, compact, [secret], NOW) == headers["webhook-id"]


def test_wrong_secret_or_tampered_body_is_rejected(impl: ModuleType) -> None:
    """A signature made with another secret is rejected, and so is a body changed by one byte
    after signing, or a webhook-id or timestamp other than the ones signed."""
    secret, raw = new_secret(), body("payment.succeeded", "pay_1")
    headers = sign(secret, raw)
    assert impl.verify(headers, raw, [secret], NOW) == headers["webhook-id"]  # the control
    with pytest.raises(impl.WebhookRejected):
        impl.verify(headers, raw, [new_secret()], NOW)
    for tampered in (raw.replace(b"pay_1", b"pay_2"), raw + b" ", raw.replace(b":", b": ", 1)):
        with pytest.raises(impl.WebhookRejected):
            impl.verify(headers, tampered, [secret], NOW)
    with pytest.raises(impl.WebhookRejected):
        impl.verify({**headers, "webhook-id": "msg_other"}, raw, [secret], NOW)
    with pytest.raises(impl.WebhookRejected):
        impl.verify({**headers, "webhook-timestamp": str(NOW - 1)}, raw, [secret], NOW)


@pytest.mark.parametrize("offset", [-301, 301, -3600, 86_400])
def test_stale_and_future_timestamps_are_rejected(impl: ModuleType, offset: int) -> None:
    """A correctly signed webhook whose timestamp is more than 300 seconds before or after the
    receiver's clock is rejected; within 300 seconds either way it is accepted."""
    secret, raw = new_secret(), body("payment.succeeded", "pay_1")
    for inside in (-299, 0, 299):
        headers = sign(secret, raw, at=NOW + inside)
        assert impl.verify(headers, raw, [secret], NOW) == headers["webhook-id"]
    with pytest.raises(impl.WebhookRejected):
        impl.verify(sign(secret, raw, at=NOW + offset), raw, [secret], NOW)


def test_rotated_keys_any_listed_signature_and_any_known_secret(impl: ModuleType) -> None:
    """During a key rotation, a header carrying two signatures is accepted when only the second
    one's secret is known, and a receiver holding the old and the new secret accepts either."""
    old, new, raw = new_secret(), new_secret(), body("payment.succeeded", "pay_1")
    by_old, by_new = sign(old, raw, webhook_id="msg_rot"), sign(new, raw, webhook_id="msg_rot")
    both = {**by_old, "webhook-signature": f"{by_old['webhook-signature']} "
                                           f"{by_new['webhook-signature']}"}
    assert impl.verify(both, raw, [new], NOW) == "msg_rot"
    assert impl.verify(both, raw, [old], NOW) == "msg_rot"
    assert impl.verify(by_new, raw, [old, new], NOW) == "msg_rot"
    assert impl.verify(by_old, raw, [old, new], NOW) == "msg_rot"
    with pytest.raises(impl.WebhookRejected):
        impl.verify(both, raw, [new_secret(), new_secret()], NOW)


def test_near_miss_signatures_and_malformed_headers_are_rejected(impl: ModuleType) -> None:
    """A signature that differs in its last byte, a truncated or empty one, an unknown version,
    undecodable base64, a non-numeric timestamp or a missing header is rejected with
    WebhookRejected, never another exception."""
    secret, raw = new_secret(), body("payment.succeeded", "pay_1")
    headers = sign(secret, raw)
    assert impl.verify(headers, raw, [secret], NOW) == headers["webhook-id"]  # the control
    good = base64.b64decode(headers["webhook-signature"].split(",", 1)[1])
    near = [good[:-1] + bytes([good[-1] ^ 1]), good[:16], good[:1], b""]
    bad_signatures = [f"v1,{base64.b64encode(s).decode()}" for s in near] + [
        "v2," + headers["webhook-signature"][3:], "v1,not*base64!", "v1", ",", "v1a,xyz"]
    for value in bad_signatures:
        with pytest.raises(impl.WebhookRejected):
            impl.verify({**headers, "webhook-signature": value}, raw, [secret], NOW)
    for stamp in ("", "soon", "1767225600.5", "-1", "1e9", "\u0661\u0662"):
        with pytest.raises(impl.WebhookRejected):
            impl.verify({**headers, "webhook-timestamp": stamp}, raw, [secret], NOW)
    for missing in headers:
        with pytest.raises(impl.WebhookRejected):
            impl.verify({k: v for k, v in headers.items() if k != missing}, raw, [secret], NOW)


def test_verified_webhook_is_applied_once_and_a_redelivery_is_a_duplicate(
        impl: ModuleType, db: psycopg.Connection) -> None:
    """A verified webhook is applied and committed before the 2xx; a redelivery of the same
    webhook-id answers 2xx as a duplicate and changes nothing; a forged one answers 4xx and
    changes nothing."""
    secret, payment = new_secret(), new_payment(db, amount=2500)
    raw = body("payment.succeeded", payment)
    forged = sign(new_secret(), raw)
    status, _ = impl.receive(db, forged, raw, [secret], NOW)
    assert 400 <= status < 500 and state(db, payment) == ("pending", 0, 0, 0)
    headers = sign(secret, raw)
    assert impl.receive(db, headers, raw, [secret], NOW) == (200, impl.APPLIED)
    assert state(db, payment) == ("succeeded", 1, 2500, 1)
    retry = sign(secret, raw, webhook_id=headers["webhook-id"], at=NOW + 60)  # re-signed later
    assert impl.receive(db, retry, raw, [secret], NOW + 60) == (200, impl.DUPLICATE)
    assert state(db, payment) == ("succeeded", 1, 2500, 1)


def test_concurrent_duplicate_deliveries_apply_once(impl: ModuleType, db: psycopg.Connection,
                                                    connect: Connect) -> None:
    """Twenty concurrent deliveries of one webhook all answer 2xx and apply it exactly once:
    one inbox row, one ledger movement."""
    secret, payment = new_secret(), new_payment(db, amount=990)
    raw = body("payment.succeeded", payment)
    headers = sign(secret, raw)
    conns = [connect() for _ in range(20)]
    start = threading.Barrier(len(conns))
    answers: list[object] = []

    def deliver(conn: psycopg.Connection) -> None:
        start.wait()
        try:
            answers.append(impl.receive(conn, headers, raw, [secret], NOW))
        except Exception as exc:  # a crash is an answer the test must see
            answers.append(exc)

    threads = [threading.Thread(target=deliver, args=(c,)) for c in conns]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(map(str, answers)) == sorted(
        [str((200, impl.APPLIED))] + [str((200, impl.DUPLICATE))] * 19), answers
    assert state(db, payment) == ("succeeded", 1, 990, 1)


def test_crash_between_inbox_and_effect_leaves_neither(impl: ModuleType, db: psycopg.Connection,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The inbox row and the effect commit together: a crash in the effect leaves neither, and
    the provider's retry of the same webhook then applies it once."""
    secret, payment = new_secret(), new_payment(db, amount=1200)
    raw = body("payment.succeeded", payment)
    headers = sign(secret, raw)
    real_effect = impl.apply_effect

    def crash_after_the_effect(*args: object) -> None:
        real_effect(*args)
        raise RuntimeError("simulated crash after the effect, before the commit")

    monkeypatch.setattr(impl, "apply_effect", crash_after_the_effect)
    with pytest.raises(Exception) as crashed:  # which exception: checked on the next line
        impl.receive(db, headers, raw, [secret], NOW)  # the endpoint answers 500
    assert "simulated crash" in str(crashed.value), f"expected the crash, got {crashed.value!r}"
    assert state(db, payment) == ("pending", 0, 0, 0), "a crash must leave no inbox row, no effect"
    monkeypatch.setattr(impl, "apply_effect", real_effect)
    assert impl.receive(db, headers, raw, [secret], NOW + 30) == (200, impl.APPLIED)
    assert state(db, payment) == ("succeeded", 1, 1200, 1)


def test_out_of_order_events_never_move_state_backwards(impl: ModuleType,
                                                        db: psycopg.Connection) -> None:
    """Events are accepted in any order without moving a payment backwards: a success that
    arrives after its refund is recorded in the inbox, answers 2xx and changes nothing."""
    secret = new_secret()
    late = new_payment(db, amount=700)
    refunded, succeeded = body("payment.refunded", late), body("payment.succeeded", late)
    assert impl.receive(db, sign(secret, refunded), refunded, [secret], NOW) == (200, impl.APPLIED)
    assert state(db, late) == ("refunded", 0, 0, 1)
    answer = impl.receive(db, sign(secret, succeeded), succeeded, [secret], NOW)
    assert answer == (200, impl.OUT_OF_ORDER)
    assert state(db, late) == ("refunded", 0, 0, 2), "a late success must not credit the merchant"
    in_order = new_payment(db, amount=700)
    for event in ("payment.succeeded", "payment.refunded", "payment.failed"):
        raw = body(event, in_order)
        impl.receive(db, sign(secret, raw), raw, [secret], NOW)
    assert state(db, in_order) == ("refunded", 2, 0, 3)


def test_ledger_matches_final_statuses_in_a_mixed_stream(impl: ModuleType,
                                                         db: psycopg.Connection) -> None:
    """In a stream mixing duplicates, reordered events and forgeries, every merchant's ledger
    total equals what its payments' final statuses are worth, and nothing forged is recorded."""
    secret = new_secret()
    payments = {new_payment(db, amount=a): a for a in (100, 2500, 999, 40_000)}
    ids = list(payments)
    plan = [(ids[0], "payment.succeeded"), (ids[1], "payment.refunded"),
            (ids[1], "payment.succeeded"), (ids[2], "payment.failed"),
            (ids[2], "payment.succeeded"), (ids[3], "payment.succeeded")]
    deliveries = []
    for payment, event in plan:
        raw = body(event, payment)
        deliveries.append((sign(secret, raw), raw))
    forged_raw = body("payment.succeeded", ids[1])
    stream = deliveries + deliveries[::-1] + [(sign(new_secret(), forged_raw), forged_raw)]
    answers = [impl.receive(db, headers, raw, [secret], NOW)[0] for headers, raw in stream]
    assert answers == [200] * (2 * len(deliveries)) + [401]
    expected = {ids[0]: ("succeeded", 100), ids[1]: ("refunded", 0), ids[2]: ("failed", 0),
                ids[3]: ("succeeded", 40_000)}
    for payment, (status, total) in expected.items():
        assert state(db, payment)[0::2] == (status, total)
    inbox = db.execute("SELECT count(*) FROM lab4_webhook_inbox WHERE payment_id = ANY(%s)",
                       (ids,)).fetchone()[0]
    assert inbox == len(deliveries)
