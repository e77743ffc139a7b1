"""The contract every embedded server follows, so the supervisor can treat them alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Health:
    name: str
    ok: bool
    where: str
    detail: str = ""


class Component(Protocol):
    name: str

    def url(self) -> str: ...

    def start(self) -> None:
        """Start the server if it is not running; reuse it if it is. Blocks until ready."""

    def stop(self) -> None:
        """Stop the server if it runs; a no-op otherwise."""

    def health(self) -> Health: ...
