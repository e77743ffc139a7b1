"""Phase pages: each phase's README is its article and its notebook is rendered beside it.

Only phases in `phases.REGISTRY` get pages, and each must have a README.md: a built phase with
no article is a bug to fix, not a page to fake. The notebook is optional and rendered as
committed (with its outputs, if it was saved with them); the build never executes it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from fintech_core.phase import Phase


class MissingReadme(RuntimeError):
    pass


@dataclass(frozen=True)
class PhaseDoc:
    number: int
    title: str
    home: Path  # the phase's folder in the repository: README links are relative to it
    readme: Path
    notebook: Path | None

    @property
    def page(self) -> str:
        return f"phases/phase-{self.number:02d}/index.md"

    @property
    def notebook_page(self) -> str:
        return f"phases/phase-{self.number:02d}/notebook.ipynb"


def phase_docs(phases: Sequence[Phase],
               folder_of: Callable[[Phase], Path] = lambda p: p.folder) -> list[PhaseDoc]:
    """`folder_of` says where a phase's README and notebook are read from; a test points it at
    fixtures for a phase whose article is not merged yet. Links still resolve from the phase's
    own folder, as they would in the real README."""
    docs = []
    for phase in phases:
        folder = folder_of(phase)
        readme = folder / "README.md"
        if not readme.is_file():
            raise MissingReadme(
                f"phase {phase.number} has no README.md in {folder}: every phase in "
                "phases.REGISTRY needs one, because it is that phase's page on the site")
        notebook = folder / "notebook.ipynb"
        docs.append(PhaseDoc(phase.number, phase.title, phase.folder, readme,
                             notebook if notebook.is_file() else None))
    return docs
