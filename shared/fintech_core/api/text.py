"""`Text`: the one type for free text a client sends that can reach PostgreSQL.

PostgreSQL `text` cannot hold the NUL character (U+0000); psycopg raises DataError on it, which
surfaced as a 500 after the transaction had begun. Every free-text field and query parameter
(owner, reference, cursors) is `Text`, so NUL is refused at the edge as a 422 that names the
field, before any SQL runs. The OpenAPI document carries the same rule as a `pattern`, so a
client or a fuzzer knows it from the contract. Headers need nothing here: the HTTP parser
refuses any control character in a header value (400) before the app sees the request, and
Idempotency-Key and X-Client-Id have patterns of their own.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

NO_NUL_PATTERN = r"^[^\x00]*$"


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise PydanticCustomError(
            "text_nul", "must not contain the NUL character (\\u0000): PostgreSQL cannot store it")
    return value


class _NoNul:
    """Validation and schema together, so that neither can be forgotten. Works inside unions
    (`Text | None`), where a nested `Field()` would be ignored."""

    def __get_pydantic_core_schema__(self, source: Any,
                                     handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(_no_nul, handler(source))

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["pattern"] = NO_NUL_PATTERN
        return json_schema


Text = Annotated[str, _NoNul()]
