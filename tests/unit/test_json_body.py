"""The strict JSON reading of request bodies (api/json_body.py), and that every route taking a
body uses it, in every phase. No I/O."""

from __future__ import annotations

import json

import pytest
from fastapi.routing import APIRoute

from fintech_core.api.json_body import JsonBodyRoute, Repeated, is_json, loads
from fintech_core.api.mount import composed_router
from fintech_core.api.routes import drill
from phases import composition, latest


def test_a_repeated_member_is_kept_not_resolved_to_the_last() -> None:
    assert loads(b'{"amount": 1, "amount": 900, "x": {"y": 1, "y": 2}}') == {
        "amount": Repeated((1, 900)), "x": {"y": Repeated((1, 2))}}
    assert loads(b'{"a": 1, "a": 2, "a": 3}') == {"a": Repeated((1, 2, 3))}
    assert loads(b'{"a": 1, "b": [1.5]}') == {"a": 1, "b": [1.5]}


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(constant: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        loads(f'{{"amount": {constant}}}'.encode())


@pytest.mark.parametrize(("content_type", "expected"), [
    ("application/json", True), ("application/json; charset=utf-8", True),
    ("Application/JSON", True), ("application/merge-patch+json", True), (None, False),
    ("", False), ("text/plain", False), ("application/x-www-form-urlencoded", False),
    ("multipart/form-data; boundary=x", False), ("text/json", False)])
def test_json_media_types(content_type: str | None, expected: bool) -> None:
    assert is_json(content_type) is expected


@pytest.mark.parametrize("phase", range(latest() + 1))
def test_every_route_that_takes_a_body_reads_it_strictly(phase: int) -> None:
    routes = [*composed_router(composition(phase)).routes, *drill.router().routes]
    with_body = [r for r in routes if isinstance(r, APIRoute) and r.body_field is not None]
    assert with_body, "the walk found no route with a body"
    assert [r.path for r in with_body if not isinstance(r, JsonBodyRoute)] == []
