"""A lab's acceptance criteria are its tests: the first docstring paragraph of each test.

Read with `ast`, without importing the tests, so the README check and the site can list the
criteria on a machine with no database and no student code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Criterion:
    test: str  # the test function's name, the join key with pytest's results
    text: str


def criteria(tests_dir: Path) -> list[Criterion]:
    found: list[Criterion] = []
    for path in sorted(tests_dir.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                doc = ast.get_docstring(node)
                if not doc:
                    raise ValueError(f"{path.name}::{node.name} has no docstring; a lab test's "
                                     "first docstring paragraph is its acceptance criterion")
                first_paragraph = doc.strip().split("\n\n")[0]
                found.append(Criterion(node.name, " ".join(first_paragraph.split())))
    return found
