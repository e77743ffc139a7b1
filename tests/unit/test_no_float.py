"""No float in the money path, proven by reading the code rather than by hoping.

An AST scan of every module that computes or stores money: no float literal, no float() call, no
`float` annotation, no true division `/` (which returns a float for ints), no math module. The
naive baseline (naive/routes.py) is deliberately outside this list: it is the bug on display.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "shared" / "fintech_core"
MONEY_PATH = sorted([
    ROOT / "domain" / "money.py", ROOT / "domain" / "rounding.py", ROOT / "api" / "schemas.py",
    *(ROOT / "accounts").glob("*.py"), *(ROOT / "transfers").glob("*.py"),
    *(ROOT / "ledger").rglob("*.py"),
], key=lambda p: p.relative_to(ROOT))


def _isinstance_guards(tree: ast.AST) -> set[int]:
    """`float` named as the type in isinstance(x, float) is a guard that detects a float in
    order to refuse it or convert an exactly integral one (schemas.py, where JSON numbers enter);
    it computes nothing, so it is allowed. Any other mention of `float` is not."""
    return {id(arg) for call in ast.walk(tree)
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
            and call.func.id == "isinstance" and len(call.args) == 2
            for arg in ast.walk(call.args[1])}


def offences(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    guards = _isinstance_guards(tree)
    found = []
    for node in ast.walk(tree):
        where = f"{path.name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Constant) and isinstance(node.value, float):
            found.append(f"{where} float literal {node.value!r}")
        elif isinstance(node, ast.Name) and node.id == "float" and id(node) not in guards:
            found.append(f"{where} uses `float`")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            found.append(f"{where} true division `/` (use // or Decimal)")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            if "math" in names:
                found.append(f"{where} imports math")
    return found


@pytest.mark.parametrize("path", MONEY_PATH, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_float_in_the_money_path(path: Path) -> None:
    assert offences(path) == []


def test_the_scan_catches_floats(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text("import math\nx = 0.1\ny = float('1')\nz = 1 / 3\n"
                      "ok = isinstance(x, float)\nw: float = 1\n")
    found = offences(sample)
    assert len(found) == 5, found  # math, 0.1, float(), /, the annotation; not the guard
    assert not any(f.startswith("bad.py:5 ") for f in found)


def test_the_naive_baseline_is_the_float_bug_on_display() -> None:
    assert offences(ROOT / "naive" / "routes.py"), "the naive baseline lost its floats?"
