"""The files the fraud slice reads next to its code (the rule sets, the Lua script) are declared
as package data, so an installed wheel has them, not only an editable checkout."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "shared" / "fintech_core"


def test_every_lua_script_and_rule_set_is_package_data() -> None:
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["fintech_core"]
    files = [p.relative_to(CORE).as_posix() for p in (*CORE.rglob("*.lua"), *CORE.rglob("*.yaml"))]
    assert any(f.startswith("fraud/rulesets/") for f in files)
    assert [f for f in files if not any(fnmatch(f, g) for g in globs)] == []
