"""The domain rules, run directly: ids, currencies, account transitions, transfer commands."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from uuid import UUID

import pytest

from fintech_core.accounts.domain import Account, AccountStatus
from fintech_core.domain.currency import exponent, require_currency
from fintech_core.domain.errors import (
    AccountClosed,
    AccountFrozen,
    AccountNotEmpty,
    SameAccount,
    UnknownCurrency,
)
from fintech_core.domain.ids import uuid7
from fintech_core.transfers.domain import TransferCommand, TransferKind

A = UUID("00000000-0000-7000-8000-000000000001")
B = UUID("00000000-0000-7000-8000-000000000002")


def account(status: AccountStatus = AccountStatus.ACTIVE, balance: int = 0) -> Account:
    return Account(A, "alice", "EUR", status, balance, datetime(2025, 1, 1, tzinfo=UTC))


# --- uuid7 -------------------------------------------------------------------------------------

def test_uuid7_is_version_7_with_the_rfc_variant() -> None:
    value = uuid7()
    assert value.version == 7
    assert value.variant == "specified in RFC 4122"


def test_uuid7_is_strictly_increasing_and_unique_over_10000_calls() -> None:
    ids = [uuid7() for _ in range(10_000)]
    assert all(earlier < later for earlier, later in itertools.pairwise(ids))
    assert len(set(ids)) == 10_000


def test_uuid7_embeds_the_current_unix_milliseconds() -> None:
    before = datetime.now(UTC).timestamp() * 1000
    ms = uuid7().int >> 80
    # The counter may push ms ahead by a few when >4096 ids share a millisecond; allow a margin.
    assert before - 5 <= ms <= before + 5_000


# --- currencies --------------------------------------------------------------------------------

@pytest.mark.parametrize(("code", "digits"), [("EUR", 2), ("JPY", 0), ("KWD", 3)])
def test_currency_exponents_come_from_the_table(code: str, digits: int) -> None:
    assert exponent(code) == digits
    assert require_currency(code) == code


@pytest.mark.parametrize("code", ["XYZ", "eur", ""])
def test_unknown_currency_is_refused(code: str) -> None:
    with pytest.raises(UnknownCurrency) as info:
        require_currency(code)
    assert info.value.code == "unknown-currency"
    with pytest.raises(UnknownCurrency):
        exponent(code)


# --- account transitions -----------------------------------------------------------------------

def test_freeze_and_unfreeze_an_active_account() -> None:
    frozen = account().frozen()
    assert frozen.status is AccountStatus.FROZEN
    assert frozen.unfrozen().status is AccountStatus.ACTIVE
    assert account().unfrozen().status is AccountStatus.ACTIVE  # harmless no-op


def test_transitions_return_new_accounts_and_leave_the_original_alone() -> None:
    original = account()
    original.frozen()
    assert original.status is AccountStatus.ACTIVE


def test_a_closed_account_can_be_neither_frozen_nor_unfrozen() -> None:
    closed = account(AccountStatus.CLOSED)
    with pytest.raises(AccountClosed):
        closed.frozen()
    with pytest.raises(AccountClosed):
        closed.unfrozen()


def test_close_is_allowed_only_at_zero_balance() -> None:
    assert account(balance=0).closed().status is AccountStatus.CLOSED
    assert account(AccountStatus.FROZEN, balance=0).closed().status is AccountStatus.CLOSED
    with pytest.raises(AccountNotEmpty) as info:
        account(balance=1).closed()
    assert info.value.extra["balance"] == 1


def test_closing_a_closed_account_is_a_no_op() -> None:
    closed = account(AccountStatus.CLOSED, balance=0)
    assert closed.closed() is closed


def test_only_active_accounts_are_movable() -> None:
    account(AccountStatus.ACTIVE).require_movable()
    with pytest.raises(AccountFrozen) as frozen:
        account(AccountStatus.FROZEN).require_movable()
    assert frozen.value.code == "account-frozen"
    with pytest.raises(AccountClosed) as closed:
        account(AccountStatus.CLOSED).require_movable()
    assert closed.value.code == "account-closed"


# --- transfer commands -------------------------------------------------------------------------

def test_a_transfer_to_the_same_account_is_refused() -> None:
    with pytest.raises(SameAccount):
        TransferCommand(A, A, 100, "EUR")


@pytest.mark.parametrize("amount", [0, -1, 1.5, True, "100", None])
def test_amount_must_be_a_positive_int(amount: object) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        TransferCommand(A, B, amount, "EUR")  # type: ignore[arg-type]


def test_kind_is_transfer_between_accounts_and_deposit_without_source() -> None:
    assert TransferCommand(A, B, 1, "EUR").kind is TransferKind.TRANSFER
    deposit = TransferCommand(None, B, 1, "EUR")
    assert deposit.kind is TransferKind.DEPOSIT
    assert deposit.amount == 1
