"""Reading the Idempotency-Key header, and fingerprinting what a request asks for."""

from __future__ import annotations

import pytest

from fintech_core.domain.errors import IdempotencyKeyMalformed, IdempotencyKeyMissing
from fintech_core.idempotency.key import MAX_KEY_LENGTH, fingerprint, parse_key

UUID_KEY = "8e03978e-40d5-43e8-bc93-6894a57f9324"


def test_a_bare_uuid_is_accepted_as_is() -> None:
    assert parse_key(UUID_KEY) == UUID_KEY


def test_a_quoted_structured_field_string_is_unquoted() -> None:
    assert parse_key(f'"{UUID_KEY}"') == UUID_KEY


def test_surrounding_whitespace_is_ignored() -> None:
    assert parse_key(f"  {UUID_KEY}\t") == UUID_KEY


def test_the_longest_allowed_key_is_accepted() -> None:
    assert parse_key("k" * MAX_KEY_LENGTH) == "k" * MAX_KEY_LENGTH
    assert MAX_KEY_LENGTH == 255


@pytest.mark.parametrize("raw", [None, "", "   ", "\t\n"])
def test_a_missing_key_is_refused(raw: str | None) -> None:
    with pytest.raises(IdempotencyKeyMissing) as info:
        parse_key(raw)
    assert info.value.code == "idempotency-key-missing"


@pytest.mark.parametrize("raw", [
    "k" * 256,
    "k" * 1000,
    f'"{"k" * 256}"',
    "two words",
    '"two words"',
    "clé-unique",
    "ключ",
    "key;drop",
    '"',
])
def test_a_malformed_key_is_refused(raw: str) -> None:
    with pytest.raises(IdempotencyKeyMalformed) as info:
        parse_key(raw)
    assert info.value.code == "idempotency-key-malformed"


BODY = {"source_account_id": "a", "destination_account_id": "b", "amount": 100,
        "currency": "EUR", "meta": {"x": 1, "y": [1, 2]}}


def base(**overrides: object) -> str:
    args: dict[str, object] = {"method": "POST", "path": "/transfers", "body": BODY,
                               "principal": "alice"}
    args.update(overrides)
    return fingerprint(**args)  # type: ignore[arg-type]


def test_fingerprint_is_a_sha256_hex_digest() -> None:
    value = base()
    assert len(value) == 64
    int(value, 16)


def test_fingerprint_is_stable_under_json_key_order() -> None:
    reordered = {"meta": {"y": [1, 2], "x": 1}, "currency": "EUR", "amount": 100,
                 "destination_account_id": "b", "source_account_id": "a"}
    assert list(reordered) != list(BODY)
    assert base(body=reordered) == base()


def test_fingerprint_ignores_the_case_of_the_method() -> None:
    assert base(method="post") == base()


@pytest.mark.parametrize("change", [
    {"method": "PUT"},
    {"path": "/accounts/a/deposits"},
    {"body": {**BODY, "amount": 101}},
    {"body": {**BODY, "meta": {"x": 1, "y": [2, 1]}}},  # list order is meaningful
    {"principal": "bob"},
])
def test_fingerprint_differs_when_the_request_differs(change: dict[str, object]) -> None:
    assert base(**change) != base()


def test_fingerprint_fields_cannot_bleed_into_each_other() -> None:
    # Without a separator, ("POST", "/a", ...) and ("POS", "T/a", ...) would hash the same bytes.
    assert base(method="POS", path="T/transfers") != base()
