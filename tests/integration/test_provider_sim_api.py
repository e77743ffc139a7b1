"""The simulator's API as a client sees it: keys, idempotency, lifecycles, fees, settlement."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from fintech_core.provider_sim.engine import charge_fee
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import wait_until
from tests.integration.provider_sim_support import (
    Receiver,
    Simulator,
    new_key,
    run_receiver,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    yield from run_receiver()


@pytest.fixture(scope="module")
def sim(lab: Lab, receiver: Receiver) -> Iterator[Simulator]:
    simulator = Simulator(lab, receiver.port)
    yield simulator
    simulator.close()


def charge(sim: Simulator, amount: int = 1000, source: str = "card_ok",
           key: str | None = None, reference: str | None = None) -> tuple[int, dict]:
    with sim.client("ledgerpay") as c:
        r = c.post("/ledgerpay/v1/charges", headers={"Idempotency-Key": key or new_key()},
                   json={"amount": amount, "currency": "EUR",
                         "reference": reference or new_key(), "source": source})
        return r.status_code, r.json()


def test_health_and_api_key(sim: Simulator) -> None:
    import httpx

    assert httpx.get(f"{sim.url}/health").json() == {"status": "ok"}
    r = httpx.post(f"{sim.url}/ledgerpay/v1/charges", headers={"Idempotency-Key": "k"},
                   json={"amount": 1, "currency": "EUR", "reference": "r", "source": "card_ok"})
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    with sim.client("stripeish") as c:  # the other personality's key is not this one's
        wrong = c.get("/ledgerpay/v1/charges", params={"reference": "r"})
        assert wrong.status_code == 401


def test_same_key_same_body_replays_and_other_body_is_409(sim: Simulator) -> None:
    key, reference = new_key(), new_key()
    first = charge(sim, 1234, key=key, reference=reference)
    again = charge(sim, 1234, key=key, reference=reference)
    assert first[0] == again[0] == 201 and first[1] == again[1]
    other = charge(sim, 999, key=key, reference=reference)
    assert other[0] == 409 and other[1]["code"] == "idempotency-key-reused"
    with sim.client("ledgerpay") as c:
        found = c.get("/ledgerpay/v1/charges", params={"reference": reference})
        assert found.status_code == 200 and found.json()["id"] == first[1]["id"]
        missing = c.post("/ledgerpay/v1/charges", json={"amount": 1, "currency": "EUR",
                                                        "reference": "x", "source": "card_ok"})
        assert missing.status_code == 400 and missing.json()["code"] == "idempotency-key-missing"
        assert c.get("/ledgerpay/v1/charges", params={"reference": new_key()}).status_code == 404
    assert len(sim.deliveries(reference)) == 1  # one charge, one event: the replay acted never


def test_bad_input_is_a_422_problem_and_changes_nothing(sim: Simulator) -> None:
    reference = new_key()
    for body in ({"amount": 10.5, "currency": "EUR", "reference": reference, "source": "card_ok"},
                 {"amount": "10", "currency": "EUR", "reference": reference, "source": "card_ok"},
                 {"amount": 10, "currency": "eur", "reference": reference, "source": "card_ok"},
                 {"amount": 0, "currency": "EUR", "reference": reference, "source": "card_ok"}):
        with sim.client("ledgerpay") as c:
            r = c.post("/ledgerpay/v1/charges", headers={"Idempotency-Key": new_key()}, json=body)
        assert r.status_code == 422 and r.json()["code"] == "invalid-request", (body, r.text)
    with sim.client("ledgerpay") as c:
        assert c.get("/ledgerpay/v1/charges", params={"reference": reference}).status_code == 404


def test_refunds_partial_up_to_the_charge_then_422(sim: Simulator) -> None:
    status, ch = charge(sim, 1000)
    assert status == 201 and ch["status"] == "succeeded"
    with sim.client("ledgerpay") as c:
        def refund(amount: int) -> tuple[int, dict]:
            r = c.post("/ledgerpay/v1/refunds", headers={"Idempotency-Key": new_key()},
                       json={"charge": ch["id"], "amount": amount, "reference": new_key()})
            return r.status_code, r.json()
        assert refund(600)[1]["status"] == "succeeded"
        assert refund(400)[0] == 201
        over = refund(1)
        assert over[0] == 422 and over[1]["code"] == "refund-exceeds-charge"
    _, declined = charge(sim, 1000, source="card_declined")
    assert declined["status"] == "failed" and declined["failure_code"] == "card_declined"


def test_stripeish_shapes_and_payout_lifecycle(sim: Simulator) -> None:
    reference = new_key()
    with sim.client("stripeish") as c:
        r = c.post("/stripeish/v1/payment_intents", headers={"Idempotency-Key": new_key()},
                   json={"amount": 2000, "currency": "eur", "metadata": {"reference": reference},
                         "payment_method": "pm_card_declined"})
        assert r.status_code == 200, r.text
        pi = r.json()
        assert pi["object"] == "payment_intent" and pi["status"] == "requires_payment_method"
        assert pi["currency"] == "eur" and pi["last_payment_error"] == {"code": "card_declined"}
        listed = c.get("/stripeish/v1/payment_intents", params={"reference": reference}).json()
        assert [p["id"] for p in listed["data"]] == [pi["id"]]
        po = c.post("/stripeish/v1/payouts", headers={"Idempotency-Key": new_key()},
                    json={"amount": 500, "currency": "eur", "metadata": {"reference": new_key()},
                          "destination": "ba_ok"}).json()
        assert po["status"] == "pending" and po["id"].startswith("po_")
        assert wait_until(lambda: c.get(f"/stripeish/v1/payouts/{po['id']}").json()["status"]
                          == "paid", 5)


def test_settlement_lists_exactly_the_settled_objects_of_the_day(sim: Simulator) -> None:
    day = datetime.now(UTC).date()
    with sim.client("ledgerpay") as c:
        before = {line["id"] for line in c.get(f"/ledgerpay/v1/settlements/{day}").json()["lines"]}
        _, ok = charge(sim, 10_000)
        _, bad = charge(sim, 10_000, source="card_declined")
        rf = c.post("/ledgerpay/v1/refunds", headers={"Idempotency-Key": new_key()},
                    json={"charge": ok["id"], "amount": 2500, "reference": new_key()}).json()
        paid = c.post("/ledgerpay/v1/payouts", headers={"Idempotency-Key": new_key()},
                      json={"amount": 3000, "currency": "EUR", "reference": new_key(),
                            "destination": "iban_ok"}).json()
        closed = c.post("/ledgerpay/v1/payouts", headers={"Idempotency-Key": new_key()},
                        json={"amount": 3000, "currency": "EUR", "reference": new_key(),
                              "destination": "iban_closed"}).json()
        for po, status in ((paid, "paid"), (closed, "failed")):
            assert wait_until(lambda po=po, status=status: c.get(
                f"/ledgerpay/v1/payouts/{po['id']}").json()["status"] == status, 5)
        report = c.get(f"/ledgerpay/v1/settlements/{day}").json()
        assert c.get(f"/ledgerpay/v1/settlements/{day.replace(year=day.year - 1)}"
                     ).json()["lines"] == []
    assert report["date"] == day.isoformat() and report["provider"] == "ledgerpay"
    new = {line["id"]: line for line in report["lines"] if line["id"] not in before}
    assert set(new) == {ok["id"], rf["id"], paid["id"]}  # not the declined charge or payout
    assert new[ok["id"]]["fee"] == charge_fee(10_000) == 315
    assert new[ok["id"]]["net"] == 10_000 - 315
    assert (new[rf["id"]]["fee"], new[rf["id"]]["net"]) == (0, -2500)
    assert (new[paid["id"]]["fee"], new[paid["id"]]["net"]) == (100, -3100)
    assert all(isinstance(line[k], int) for line in new.values() for k in ("amount", "fee", "net"))
    # A failure code shows once the object failed, not while the payout is still pending.
    assert bad["status"] == "failed" and closed["status"] == "pending"
    assert "failure_code" not in closed
