"""Webhooks from a real simulator to a real receiver: signatures (checked with the
`standardwebhooks` package and an independent Stripe-Signature check), retries, the knobs,
timeouts before/after acting, and key rotation."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from fintech_core.provider_sim.secrets import load_or_create
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import wait_until
from tests.integration.provider_sim_support import (
    Received,
    Receiver,
    Simulator,
    new_key,
    run_receiver,
    stripe_signatures_valid,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from run_receiver()


@pytest.fixture
def sim(lab: Lab, receiver: Receiver) -> Iterator[Simulator]:
    simulator = Simulator(lab, receiver.port, provider_webhook_retry_window_seconds=20)
    yield simulator
    simulator.close()


def ledgerpay_charge(sim: Simulator, reference: str, timeout: float = 10,
                     key: str | None = None) -> httpx.Response:
    with sim.client("ledgerpay", timeout=timeout) as c:
        return c.post("/ledgerpay/v1/charges", headers={"Idempotency-Key": key or new_key()},
                      json={"amount": 1000, "currency": "EUR", "reference": reference,
                            "source": "card_ok"})


def verify(sim: Simulator, got: Received) -> dict:
    secret = load_or_create(sim.lab_dir).of("ledgerpay").current
    return Webhook(secret).verify(got.body, got.headers)


def test_a_charge_emits_one_verified_webhook_per_personality(sim: Simulator,
                                                             receiver: Receiver) -> None:
    reference = new_key()
    charged = ledgerpay_charge(sim, reference).json()
    got = receiver.wait_for(1)[0]
    assert got.provider == "ledgerpay" and got.headers["webhook-id"].startswith("msg_")
    payload = verify(sim, got)
    assert payload["type"] == "charge.succeeded" and payload["data"] == charged
    tampered = got.body.replace(b"1000", b"9000")
    with pytest.raises(WebhookVerificationError):
        verify(sim, Received(got.provider, got.headers, tampered, got.at))

    with sim.client("stripeish") as c:
        pi = c.post("/stripeish/v1/payment_intents", headers={"Idempotency-Key": new_key()},
                    json={"amount": 700, "currency": "eur", "metadata": {"reference": new_key()},
                          "payment_method": "pm_card_ok"}).json()
    got = receiver.wait_for(2)[1]
    secrets = load_or_create(sim.lab_dir).of("stripeish").webhook_secrets
    assert stripe_signatures_valid(got.headers["stripe-signature"], got.body, secrets)
    assert not stripe_signatures_valid(got.headers["stripe-signature"], got.body + b" ", secrets)
    import json

    event = json.loads(got.body)
    assert event["type"] == "payment_intent.succeeded" and event["data"]["object"] == pi
    assert abs(int(got.headers["stripe-signature"].split(",")[0][2:]) - time.time()) < 5


def test_a_500_is_retried_with_backoff_until_a_200(sim: Simulator, receiver: Receiver) -> None:
    receiver.script[:] = [500, 500]
    reference = new_key()
    ledgerpay_charge(sim, reference)
    got = receiver.wait_for(3)
    assert len({g.headers["webhook-id"] for g in got}) == 1  # the same webhook, three times
    gaps = [b.at - a.at for a, b in itertools.pairwise(got)]
    assert 0.3 < gaps[0] < 1.2 and gaps[1] > gaps[0] * 1.1, gaps  # 0.5 s, then about 1 s
    assert wait_until(lambda: sim.deliveries(reference)[0]["state"] == "delivered", 5)
    [delivery] = sim.deliveries(reference)
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 500, 200]


def test_a_receiver_that_is_down_is_retried_later(lab: Lab) -> None:
    # No receiver on this port at first: connection refused is "retry later", not "give up".
    port_holder = run_receiver()
    receiver = next(port_holder)
    port = receiver.port
    port_holder.close()  # stop it: the port is now closed
    sim = Simulator(lab, port, provider_webhook_retry_window_seconds=30)
    try:
        reference = new_key()
        ledgerpay_charge(sim, reference)
        assert wait_until(lambda: sim.deliveries(reference)[0]["attempt_count"] >= 2, 10)
        first = sim.deliveries(reference)[0]
        assert first["state"] == "pending" and first["attempts"][0]["status_code"] is None
    finally:
        sim.close()


def test_duplicate_lose_wrong_signature_and_clock_skew(sim: Simulator,
                                                       receiver: Receiver) -> None:
    sim.knobs(provider="ledgerpay", duplicate_deliveries=2, times=1)
    dup = new_key()
    ledgerpay_charge(sim, dup)
    got = receiver.wait_for(3)
    assert [g.headers["webhook-id"] for g in got] == [got[0].headers["webhook-id"]] * 3
    sim.knobs(provider="*", lose_webhooks=True, times=1)
    lost = new_key()
    assert ledgerpay_charge(sim, lost).status_code == 201
    sim.knobs(provider="ledgerpay", wrong_signature=True, times=1)
    forged = new_key()
    ledgerpay_charge(sim, forged)
    sim.knobs(provider="ledgerpay", clock_skew_seconds=-600, times=1)
    skewed = new_key()
    ledgerpay_charge(sim, skewed)
    got = receiver.wait_for(5)
    time.sleep(0.5)  # nothing more may come: the lost one never does
    assert len(receiver.received) == 5
    assert [d["state"] for d in sim.deliveries(lost)] == ["lost"]
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        verify(sim, got[3])
    with pytest.raises(WebhookVerificationError, match="too old"):
        verify(sim, got[4])
    assert int(got[4].headers["webhook-timestamp"]) < time.time() - 590
    # `times: 1` ran out: the next charge is delivered normally and verifies.
    ledgerpay_charge(sim, new_key())
    assert verify(sim, receiver.wait_for(6)[5])["type"] == "charge.succeeded"
    assert sim.admin("GET", "/knobs")["entries"] == {}


def test_reorder_delivers_a_resources_events_newest_first(sim: Simulator,
                                                          receiver: Receiver) -> None:
    sim.knobs(provider="ledgerpay", reorder=True)
    reference = new_key()
    charged = ledgerpay_charge(sim, reference).json()
    with sim.client("ledgerpay") as c:
        c.post("/ledgerpay/v1/refunds", headers={"Idempotency-Key": new_key()},
               json={"charge": charged["id"], "amount": 100, "reference": reference})
    time.sleep(0.5)
    assert receiver.received == []  # held while the knob is on
    sim.knobs(provider="ledgerpay", reorder=False)
    got = receiver.wait_for(2)
    assert [verify(sim, g)["type"] for g in got] == ["charge.refunded", "charge.succeeded"]


def test_timeout_before_never_acts_and_after_acts(sim: Simulator, receiver: Receiver) -> None:
    sim.knobs(provider="ledgerpay", timeout="before", hang_ms=1500, times=1)
    before = new_key()
    with pytest.raises(httpx.TimeoutException):
        ledgerpay_charge(sim, before, timeout=0.5)
    # A client that waits longer sees the connection closed with no reply at all.
    sim.knobs(provider="ledgerpay", timeout="before", hang_ms=300, times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        ledgerpay_charge(sim, before, timeout=5)
    with sim.client("ledgerpay") as c:
        assert c.get("/ledgerpay/v1/charges", params={"reference": before}).status_code == 404

    sim.knobs(provider="ledgerpay", timeout="after", hang_ms=1500, times=1)
    after, key = new_key(), new_key()
    with pytest.raises(httpx.TimeoutException):
        ledgerpay_charge(sim, after, timeout=0.5, key=key)
    with sim.client("ledgerpay") as c:
        found = c.get("/ledgerpay/v1/charges", params={"reference": after})
    assert found.status_code == 200 and found.json()["status"] == "succeeded"
    assert verify(sim, receiver.wait_for(1)[0])["data"]["reference"] == after
    retried = ledgerpay_charge(sim, after, key=key)  # the client's retry, same key
    assert retried.json() == found.json() and retried.headers["idempotent-replayed"] == "true"


def test_rotation_signs_with_both_secrets_until_retired(sim: Simulator,
                                                        receiver: Receiver) -> None:
    old = load_or_create(sim.lab_dir).of("ledgerpay").current
    assert sim.admin("POST", "/rotate/ledgerpay")["webhook_secrets"] == 2
    new = load_or_create(sim.lab_dir).of("ledgerpay").current
    assert new != old and new.startswith("whsec_")
    ledgerpay_charge(sim, new_key())
    got = receiver.wait_for(1)[0]
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(got.body, got.headers)  # a receiver that knows only one of them
    Webhook(new).verify(got.body, got.headers)
    sim.admin("POST", "/retire/ledgerpay")
    ledgerpay_charge(sim, new_key())
    got = receiver.wait_for(2)[1]
    assert len(got.headers["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(got.body, got.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(got.body, got.headers)
