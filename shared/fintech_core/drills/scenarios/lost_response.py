"""The answer never arrives: the timeout drills. The network loses or mangles the response after
the server did its work, and the client must retry without knowing whether money moved."""

from __future__ import annotations

from fintech_core.drills import checks
from fintech_core.drills.drill import Ctx, Drill
from fintech_core.drills.ledger import LedgerFacts
from fintech_core.drills.report import Check
from fintech_core.drills.scenarios.common import new_key, retry_until_definitive, wait_debited


def _response_lost(ctx: Ctx) -> None:
    ctx.open(alice=1000, bob=0)
    key = new_key()  # minted once, before the first attempt
    ctx.proxy.arm("timeout")
    ctx.timeline.log("proxy", "fault", "armed: swallow the next response, say nothing")
    ctx.target.transfer("alice", "bob", 100, key=key, timeout=1.0)
    wait_debited(ctx, "alice")  # the drill's guarantee that the retry comes after the commit
    retry_until_definitive(ctx, "alice", "bob", 100, key, why="(retry, same request)")


RESPONSE_LOST = Drill(
    name="response-lost",
    title="The response is lost after the commit; the client retries the same request",
    question="The client timed out on POST /transfers. Did the money move? It retries: "
             "is the customer charged twice?",
    fault="network: the proxy lets the request through, the server commits, the proxy "
          "swallows the answer; the client's 1 s timeout fires",
    client="retries the same request (the phase client reuses its Idempotency-Key) until it "
           "gets an answer",
    invariant="money moved exactly once; money conserved",
    lesson="Without a key the server cannot tell a retry from a new transfer. With the key "
           "minted before the first try, the retry replays the first answer.",
    play=_response_lost,
    check=lambda ctx, f: [checks.moved(ctx, f, "alice", 100), checks.conserved(ctx, f)],
)


def _new_key_on_retry(ctx: Ctx) -> None:
    ctx.open(alice=1000, bob=0)
    ctx.proxy.arm("cut", cut_bytes=5)
    ctx.timeline.log("proxy", "fault", "armed: cut the next response 5 bytes into its body")
    ctx.target.transfer("alice", "bob", 100, key=new_key())
    ctx.target.transfer("alice", "bob", 100, key=new_key(), why=" (retry with a NEW key)")


NEW_KEY_ON_RETRY = Drill(
    name="new-key-on-retry",
    title="The same lost answer, but the client mints a new key for its retry",
    question="Why must the Idempotency-Key be made before the first attempt, not per attempt?",
    fault="network: the answer is cut mid-body, so the client never learns the transfer id",
    client="retries once, minting a fresh Idempotency-Key for the retry (a client bug)",
    invariant="every movement is recorded; money conserved (moved twice: a new key is a new "
              "transfer, and the server cannot know otherwise)",
    lesson="The key names the intent, not the attempt. A new key is a new transfer: the phase "
           "debits twice too, but both are recorded, so support can see and refund it.",
    play=_new_key_on_retry,
    check=lambda ctx, f: [checks.reconciles(ctx, f), checks.conserved(ctx, f),
                          checks.moved(ctx, f, "alice", 100, binding=False)],
)


def _key_reuse(ctx: Ctx) -> None:
    ctx.open(alice=1000, bob=0)
    key = new_key()
    ctx.proxy.arm("drop")
    ctx.timeline.log("proxy", "fault", "armed: drop the next response and close")
    ctx.target.transfer("alice", "bob", 100, key=key)
    ctx.target.transfer("alice", "bob", 101, key=key,
                        why=" (retry, same key, amount recomputed with a 1.00 fee)")


def _check_key_reuse(ctx: Ctx, facts: LedgerFacts) -> list[Check]:
    lost = ctx.start["alice"] - facts.balances["alice"]
    ctx.headline["debits"] = {0: 0, 100: 1, 101: 1, 201: 2}.get(int(lost), lost)
    return [Check("a reused key moved nothing new", lost == 100,
                  f"alice lost {lost:g} (first request 100, second 101)"),
            checks.conserved(ctx, facts)]


KEY_REUSE = Drill(
    name="key-reuse",
    title="Same key, different amount",
    question="A retry carries the same key but a different amount. Replay, execute, or refuse?",
    fault="network: the first answer is dropped; the client's retry changed the body",
    client="retries with the same Idempotency-Key and amount 101 instead of 100",
    invariant="the second request, a different one under the same key, moves nothing",
    lesson="The server stores a fingerprint of the request with the key: same key + another "
           "body is 422, never a silent second transfer nor a replay of the wrong answer.",
    play=_key_reuse,
    check=_check_key_reuse,
)
