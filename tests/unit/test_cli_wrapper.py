"""`./fcl`: the CLI from a fresh shell, under a name no common OS package installs.

`fincore` is util-linux's /usr/bin/fincore on Debian and Ubuntu; a shell without the virtualenv
ran that instead. The docs print `./fcl ...`, which must work with no virtualenv on PATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WRAPPER = ROOT / "fcl"
# This environment, but a PATH without the virtualenv (pytest runs from .venv/bin).
FRESH_SHELL = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"} | {
    "PATH": os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep)
                            if not Path(p, "fcl").exists()) or "/usr/bin:/bin"}

# A stand-in for the real Makefile's `venv` target: "installs" a fake fcl that echoes its
# arguments, with the same stamp naming, so the wrapper's create-then-run path runs in a second.
FAKE_MAKEFILE = """\
STAMP := .venv/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
venv:
\t@mkdir -p .venv/bin
\t@printf '#!/bin/sh\\necho "ran: $$*"\\n' > .venv/bin/fcl && chmod +x .venv/bin/fcl
\t@touch $(STAMP)
"""


def test_the_console_script_is_fcl_and_fincore_is_gone() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"fcl": "phases.entrypoints:main"}


def test_dot_slash_fcl_runs_the_lab_cli_without_the_venv_on_path() -> None:
    result = subprocess.run([str(WRAPPER), "drill", "list"], cwd=ROOT, env=FRESH_SHELL,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "last-funds" in result.stdout and "response-lost" in result.stdout


def fake_repo(tmp_path: Path, makefile: str) -> Path:
    shutil.copy(WRAPPER, tmp_path / "fcl")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "Makefile").write_text(makefile)
    return tmp_path / "fcl"


def test_a_missing_venv_is_created_first_and_stdout_stays_the_commands(tmp_path: Path) -> None:
    wrapper = fake_repo(tmp_path, FAKE_MAKEFILE)
    first = subprocess.run([str(wrapper), "drill", "run", "x", "--json"], env=FRESH_SHELL,
                           capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert "preparing the virtualenv" in first.stderr
    assert first.stdout == "ran: drill run x --json\n"  # JSON for machines is not polluted
    again = subprocess.run([str(wrapper), "status"], env=FRESH_SHELL, capture_output=True,
                           text=True, timeout=60)
    assert (again.returncode, again.stdout, again.stderr) == (0, "ran: status\n", "")


def test_a_failed_venv_says_why_and_exits_1(tmp_path: Path) -> None:
    wrapper = fake_repo(tmp_path, "venv:\n\t@echo 'no python3.11 here' >&2; exit 2\n")
    result = subprocess.run([str(wrapper), "drill", "list"], env=FRESH_SHELL,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "no python3.11 here" in result.stderr and "'make venv' failed" in result.stderr
    assert result.stdout == ""
