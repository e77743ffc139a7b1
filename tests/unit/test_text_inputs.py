"""Every string a client can send refuses NUL, read off the published contract of every phase.

A new free-text field declared as plain `str` would let NUL reach PostgreSQL (a 500): this
fails until it is `Text` (or has a pattern, a format or an enum that excludes NUL). No I/O:
the apps are built, never started.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from fintech_core.api.text import NO_NUL_PATTERN, Text
from fintech_core.settings import Settings
from phases import latest
from phases.entrypoints import create_app

UNUSED = "postgresql://nobody@127.0.0.1:1/never"


def strings(schema: dict[str, Any], components: dict[str, Any], where: str,
            seen: frozenset[str] = frozenset()) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every string-typed schema reachable from `schema`, with a readable location."""
    ref = schema.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        if name not in seen:
            yield from strings(components[name], components, where, seen | {name})
        return
    if schema.get("type") == "string":
        yield where, schema
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            yield from strings(option, components, where, seen)
    for name, prop in schema.get("properties", {}).items():
        yield from strings(prop, components, f"{where}.{name}", seen)
    if isinstance(schema.get("items"), dict):
        yield from strings(schema["items"], components, f"{where}[]", seen)


def inputs(openapi: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    components = openapi["components"]["schemas"]
    for path, operations in openapi["paths"].items():
        for method, op in operations.items():
            where = f"{method.upper()} {path}"
            for p in op.get("parameters", []):
                yield from strings(p["schema"], components, f"{where} {p['in']} {p['name']}")
            for media in op.get("requestBody", {}).get("content", {}).values():
                yield from strings(media["schema"], components, f"{where} body")


def refuses_nul(schema: dict[str, Any]) -> bool:
    if "format" in schema or "enum" in schema or "const" in schema:
        return True  # uuid, date-time and closed sets cannot contain NUL
    pattern = schema.get("pattern")
    return pattern is not None and re.search(pattern, "a\x00b") is None


@pytest.mark.parametrize("phase", range(latest() + 1))
def test_every_string_input_refuses_nul(phase: int) -> None:
    openapi = create_app(Settings(phase=phase, database_url=UNUSED, naive_baseline=False,
                                  drill_mode=False)).openapi()
    found = list(inputs(openapi))
    assert any("body.owner" in where for where, _ in found)  # the walk does reach bodies
    assert [where for where, s in found if not refuses_nul(s)] == []


def test_text_refuses_nul_and_keeps_everything_else() -> None:
    from pydantic import TypeAdapter, ValidationError

    text = TypeAdapter(Text)
    assert text.validate_python("élan \t 🔑 \u0001") == "élan \t 🔑 \u0001"
    with pytest.raises(ValidationError, match="NUL"):
        text.validate_python("a\x00b")
    assert text.json_schema()["pattern"] == NO_NUL_PATTERN
