"""`fcl lab start`: give a student their own copy of a lab's starter to edit."""

from __future__ import annotations

import shutil
from pathlib import Path

from fintech_core.labs.registry import LabSpec


def default_workspace(spec: LabSpec) -> Path:
    return Path.cwd() / "workspace" / f"lab-{spec.number}"


def start(spec: LabSpec, dest: Path, force: bool = False) -> list[Path]:
    """Copy the starter, the README and the schema (to read, not to edit) into `dest`.

    Refuses to overwrite the student's module without `force`: an accidental second `start`
    must never throw away an hour of work.
    """
    target = dest / spec.module
    if target.exists() and not force:
        raise FileExistsError(f"{target} already exists; use --force to overwrite your work")
    dest.mkdir(parents=True, exist_ok=True)
    copied = []
    for src in (spec.starter, spec.readme, spec.folder / "schema.sql"):
        if src.exists():
            shutil.copyfile(src, dest / src.name)
            copied.append(dest / src.name)
    return copied
