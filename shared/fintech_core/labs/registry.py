"""Workshop labs: what a lab is, and finding one among those the composed phases declare.

Each phase lists its labs (`Phase.labs`, explicit over discovered): a folder under `labs/` that
no phase lists is not a lab yet, and a listed lab whose folder is incomplete fails the proof
tests. The order a room works through them is the phases' order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fintech_core.settings import REPO_ROOT

LABS_ROOT = REPO_ROOT / "labs"


@dataclass(frozen=True)
class LabSpec:
    number: int
    slug: str
    title: str
    folder_name: str
    module: str  # the one file the student completes, in solution/ and starter/
    minutes: int  # expected time for a room, discussion included

    @property
    def folder(self) -> Path:
        return LABS_ROOT / self.folder_name

    @property
    def solution(self) -> Path:
        return self.folder / "solution" / self.module

    @property
    def starter(self) -> Path:
        return self.folder / "starter" / self.module

    @property
    def tests_dir(self) -> Path:
        return self.folder / "tests"

    @property
    def readme(self) -> Path:
        return self.folder / "README.md"


@dataclass(frozen=True)
class PlannedLab:
    """A lab we intend to write but cannot yet: it needs code that does not exist."""

    number: int
    title: str
    depends_on: str


PLANNED: tuple[PlannedLab, ...] = ()


def find(labs: Sequence[LabSpec], number: int) -> LabSpec:
    for spec in labs:
        if spec.number == number:
            return spec
    built = ", ".join(str(s.number) for s in labs)
    planned = {p.number: p for p in PLANNED}
    if number in planned:
        raise LookupError(f"lab {number} is planned but not written yet: it depends on "
                          f"{planned[number].depends_on}. Labs available: {built}")
    raise LookupError(f"there is no lab {number}; labs available: {built}")
