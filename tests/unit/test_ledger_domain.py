"""The ledger's pure rules: balanced entries, the overdraft policy, holds and their builders."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from fintech_core.domain.errors import CurrencyMismatch, InsufficientFunds
from fintech_core.domain.money import Money
from fintech_core.ledger import entries
from fintech_core.ledger.errors import (
    HoldExpired,
    LedgerLimitExceeded,
    PostExceedsHold,
    TransferNotPending,
    UnbalancedEntry,
)
from fintech_core.ledger.holds import Hold, can_move
from fintech_core.ledger.model import Bucket, EntryKind, JournalEntry, LedgerAccount, Posting
from fintech_core.ledger.policy import BIGINT, simulate
from fintech_core.ledger.system import SystemRole, system_account
from fintech_core.transfers.domain import TransferCommand, TransferStatus

A = UUID("00000000-0000-7000-8000-00000000000a")
B = UUID("00000000-0000-7000-8000-00000000000b")
T = UUID("00000000-0000-7000-8000-0000000000ff")
CASH_IN = system_account(SystemRole.CASH_IN, "EUR").id
P, OUT, IN = Bucket.POSTED, Bucket.PENDING_OUT, Bucket.PENDING_IN


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def account(i: UUID, posted: int = 0, limit: int | None = 0, out: int = 0) -> LedgerAccount:
    return LedgerAccount(i, "EUR", None, posted, out, 0, limit)


def hold(status: TransferStatus = TransferStatus.PENDING, expired: bool = False) -> Hold:
    return Hold(T, A, B, eur(400), status, datetime(2030, 1, 1, tzinfo=UTC), expired)


# --- journal entries -------------------------------------------------------------------------

def test_an_entry_needs_two_postings_that_sum_to_zero() -> None:
    with pytest.raises(UnbalancedEntry, match="two postings"):
        JournalEntry(T, T, EntryKind.TRANSFER, (Posting(A, P, eur(-1)),))
    with pytest.raises(UnbalancedEntry, match="does not balance"):
        JournalEntry(T, T, EntryKind.TRANSFER, (Posting(A, P, eur(-1)), Posting(B, P, eur(2))))
    with pytest.raises(UnbalancedEntry, match="zero"):
        Posting(A, P, eur(0))


def test_posted_and_pending_buckets_balance_separately() -> None:
    with pytest.raises(UnbalancedEntry):  # sums to zero overall, but moves pending into posted
        JournalEntry(T, T, EntryKind.HOLD, (Posting(A, OUT, eur(-5)), Posting(B, P, eur(5))))


def test_currencies_balance_separately() -> None:
    usd = Money(5, "USD")
    JournalEntry(T, T, EntryKind.TRANSFER, (Posting(A, P, eur(-5)), Posting(B, P, eur(5)),
                                            Posting(A, P, usd), Posting(B, P, -usd)))
    with pytest.raises(UnbalancedEntry):  # -5 EUR is not balanced by +5 USD
        JournalEntry(T, T, EntryKind.TRANSFER, (Posting(A, P, eur(-5)), Posting(B, P, usd)))


def test_postings_apply_releases_before_debits() -> None:
    entry = entries.post(hold(), eur(150))
    effects = [p.available_effect() for p in entry.in_apply_order()]
    assert effects == sorted(effects, reverse=True) and effects[0] == 400


# --- builders -------------------------------------------------------------------------------

def test_deposits_and_withdrawals_post_against_system_accounts() -> None:
    deposit = entries.for_command(T, TransferCommand(None, B, 100, "EUR"), two_phase=False)
    assert {(p.account_id, p.amount.minor) for p in deposit.postings} == {(CASH_IN, -100),
                                                                           (B, 100)}
    assert deposit.kind is EntryKind.DEPOSIT
    out = entries.for_command(T, TransferCommand(A, None, 100, "EUR"), two_phase=False)
    assert out.kind is EntryKind.WITHDRAWAL
    assert system_account(SystemRole.CASH_OUT, "EUR").id in {p.account_id for p in out.postings}


def test_a_hold_touches_only_pending_buckets_and_a_post_releases_all_of_it() -> None:
    held = entries.for_command(T, TransferCommand(A, B, 400, "EUR"), two_phase=True)
    assert {(p.bucket, p.amount.minor) for p in held.postings} == {(OUT, -400), (IN, 400)}
    posted = entries.post(hold(), eur(150))
    assert {(p.account_id, p.bucket, p.amount.minor) for p in posted.postings} == {
        (A, OUT, 400), (B, IN, -400), (A, P, -150), (B, P, 150)}


def test_a_reversal_is_the_exact_negation() -> None:
    original = entries.movement(T, EntryKind.TRANSFER, A, B, eur(70))
    reversal = entries.reversal(B, original.postings)
    assert sorted((p.account_id, p.amount.minor) for p in reversal.postings) == [(A, 70),
                                                                                 (B, -70)]


# --- the overdraft policy -------------------------------------------------------------------

def test_no_account_goes_below_its_credit_limit() -> None:
    move = entries.movement(T, EntryKind.TRANSFER, A, B, eur(100))
    simulate({A: account(A, posted=100), B: account(B)}, [move])
    with pytest.raises(InsufficientFunds) as refused:
        simulate({A: account(A, posted=99), B: account(B)}, [move])
    assert refused.value.extra["available"] == 99 and refused.value.extra["amount"] == 100
    simulate({A: account(A, posted=0, limit=100), B: account(B)}, [move])  # overdraft allowed
    with pytest.raises(InsufficientFunds):  # holds reduce what is available
        simulate({A: account(A, posted=100, out=1), B: account(B)}, [move])


def test_system_accounts_have_no_limit_and_credits_are_always_allowed() -> None:
    deposit = entries.movement(T, EntryKind.DEPOSIT, CASH_IN, B, eur(10**12))
    after = simulate({CASH_IN: account(CASH_IN, limit=None), B: account(B, posted=-5, limit=5)},
                     [deposit])
    assert after[CASH_IN].posted == -(10**12) and after[B].posted == 10**12 - 5


def test_a_posting_in_another_currency_than_its_account_is_refused() -> None:
    move = entries.movement(T, EntryKind.TRANSFER, A, B, Money(1, "USD"))
    with pytest.raises(CurrencyMismatch):
        simulate({A: account(A, posted=100), B: account(B)}, [move])


def test_balances_stay_inside_bigint() -> None:
    move = entries.movement(T, EntryKind.DEPOSIT, CASH_IN, B, eur(10))
    with pytest.raises(LedgerLimitExceeded):
        simulate({CASH_IN: account(CASH_IN, limit=None), B: account(B, posted=BIGINT - 5)},
                 [move])


def test_releasing_an_overdue_hold_first_pays_for_the_debit() -> None:
    expiry = entries.release(hold(expired=True), EntryKind.EXPIRE)
    move = entries.movement(T, EntryKind.TRANSFER, A, B, eur(500))
    locked = {A: account(A, posted=500, out=400), B: LedgerAccount(B, "EUR", None, 0, 0, 400, 0)}
    with pytest.raises(InsufficientFunds):
        simulate(locked, [move])
    after = simulate(locked, [expiry, move])
    assert (after[A].posted, after[A].pending_out, after[B].pending_in) == (0, 0, 0)


# --- holds ----------------------------------------------------------------------------------

@pytest.mark.parametrize("target", list(TransferStatus))
def test_only_pending_moves_and_only_to_a_final_state(target: TransferStatus) -> None:
    for current in TransferStatus:
        allowed = current is TransferStatus.PENDING and target in {
            TransferStatus.COMPLETED, TransferStatus.VOIDED, TransferStatus.EXPIRED}
        assert can_move(current, target) is allowed


@pytest.mark.parametrize("status", [s for s in TransferStatus if s is not TransferStatus.PENDING])
def test_post_and_void_need_a_pending_hold(status: TransferStatus) -> None:
    for action in (lambda h: h.check_post(eur(1)), lambda h: h.check_void()):
        with pytest.raises(TransferNotPending, match=status.value):
            action(hold(status))


def test_post_at_most_what_was_held_and_never_after_expiry() -> None:
    hold().check_post(eur(400))
    with pytest.raises(PostExceedsHold):
        hold().check_post(eur(401))
    with pytest.raises(HoldExpired):
        hold(expired=True).check_post(eur(1))
    with pytest.raises(HoldExpired):
        hold(expired=True).check_void()
    assert hold(expired=True).due() and not hold().due()
    assert not hold(TransferStatus.VOIDED, expired=True).due()
