"""GET /problems/{code}: each problem `type` URI resolves to its description."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from fintech_core.api.errors import problem_types
from fintech_core.api.schemas import problem_responses
from fintech_core.api.text import Text
from fintech_core.auth.deps import public
from fintech_core.domain.errors import NotFound


class ProblemTypeOut(BaseModel):
    code: str
    status: int
    title: str
    description: str


def router() -> APIRouter:
    r = APIRouter(tags=["meta"], dependencies=[Depends(public(
        "the documentation of the error codes (RFC 9457 type URIs)"))])

    @r.get("/problems/{code}", response_model=ProblemTypeOut, responses=problem_responses(404))
    async def describe(code: Text, request: Request) -> ProblemTypeOut:
        types = problem_types(request)
        if code not in types:
            raise NotFound(f"no problem type {code!r}")
        p = types[code]
        return ProblemTypeOut(code=code, status=p.status, title=p.title, description=p.description)

    return r
