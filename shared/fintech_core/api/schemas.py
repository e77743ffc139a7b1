"""Request and response bodies: the OpenAPI contract.

Amounts are JSON integers in minor units (1050 = 10.50 EUR), written as integers: 1050.0 and
1.05e3 are refused although JSON Schema calls them integers, since a lab that teaches "money is
never a float" must not take a float for money; so are 10.5, "1050" and true. `extra="forbid"`
refuses unknown fields, so a client cannot mass-assign a balance or status, and a member sent
twice is refused rather than resolved to the last (json_body.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    field_validator,
)
from pydantic_core import PydanticCustomError

from fintech_core.accounts.domain import Account
from fintech_core.api.json_body import Repeated
from fintech_core.api.text import Text
from fintech_core.transfers.domain import Transfer

# 2**53 - 1, not bigint's 2**63 - 1: JSON numbers past 2**53 are not exact in most parsers
# (JavaScript, and JSON Schema validators comparing as floats), so a documented maximum of
# 2**63 - 1 let 2**63 + 191 "validate" on the client and fail on the server.
MAX_MINOR_UNITS = 2**53 - 1


def _integer_minor_units(value: object) -> object:
    """A JSON number with a fraction or an exponent arrives as a float, whatever its value."""
    if isinstance(value, float):
        raise PydanticCustomError(
            "minor_units", "send integer minor units: a JSON integer such as 2500 for 25.00, "
            "never a fraction or an exponent (2500.0, 2.5e3)")
    return value


MinorUnits = Annotated[StrictInt, BeforeValidator(_integer_minor_units)]
# The bounds sit before the validator: applied to the int itself, they stay JSON Schema bounds
# (exclusiveMinimum, maximum); after it, pydantic could only document them as unknown keywords.
Amount = Annotated[StrictInt, Field(gt=0, le=MAX_MINOR_UNITS,
                                    description="Integer minor units (cents for EUR), written "
                                    "as a JSON integer: 2500, never 2500.0 or 2.5e3.",
                                    examples=[1050]), BeforeValidator(_integer_minor_units)]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["EUR"],
                                    description="ISO 4217 alphabetic code.")]
Owner = Annotated[Text, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
Reference = Annotated[Text, Field(max_length=140)]


class Strict(BaseModel):
    """A request body: unknown members and repeated members are refused."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _sent_once(cls, value: object) -> object:
        if isinstance(value, Repeated):
            raise PydanticCustomError(
                "duplicate_member", "this member appears more than once in the JSON object; "
                "send each member once, amounts as integer minor units")
        return value


class AccountIn(Strict):
    owner: Owner = Field(examples=["alice"])
    currency: CurrencyCode


class AccountOut(BaseModel):
    id: UUID
    owner: str
    currency: str
    status: str = Field(examples=["ACTIVE"])
    balance: int = Field(description="Integer minor units.")
    created_at: datetime

    @classmethod
    def of(cls, a: Account) -> AccountOut:
        return cls(id=a.id, owner=a.owner, currency=a.currency, status=a.status.value,
                   balance=a.balance, created_at=a.created_at)


class AccountPage(BaseModel):
    items: list[AccountOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end.")


class DepositIn(Strict):
    amount: Amount
    currency: CurrencyCode
    reference: Reference | None = None


class TransferIn(Strict):
    source_account_id: UUID
    destination_account_id: UUID
    amount: Amount
    currency: CurrencyCode
    reference: Reference | None = None


class TransferOut(BaseModel):
    id: UUID
    kind: str = Field(examples=["TRANSFER"])
    source_account_id: UUID | None
    destination_account_id: UUID | None = Field(description="null for a withdrawal (phase 1+).")
    amount: int
    currency: str
    status: str = Field(examples=["COMPLETED"], description="PENDING, COMPLETED or FAILED.")
    failure_code: str | None = None
    reference: str | None = None
    created_at: datetime

    @classmethod
    def of(cls, t: Transfer) -> TransferOut:
        return cls(id=t.id, kind=t.kind.value, source_account_id=t.source_id,
                   destination_account_id=t.destination_id, amount=t.amount,
                   currency=t.currency, status=t.status.value, failure_code=t.failure_code,
                   reference=t.reference, created_at=t.created_at)


class Problem(BaseModel):
    """RFC 9457 problem details, plus a stable `code`."""

    type: str = Field(examples=["/problems/insufficient-funds"])
    title: str
    status: int
    code: str
    detail: str | None = None
    instance: str | None = None
    errors: list[dict[str, Any]] | None = None
    transfer_id: UUID | None = None
    correlation_id: str | None = Field(default=None, description="On a 500 only: the id under "
                                       "which the error was logged; quote it when reporting.")


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can return."""
    return {
        s: {"model": Problem, "content": {"application/problem+json": {}},
            "description": "Problem details (RFC 9457)"}
        for s in statuses
    }
