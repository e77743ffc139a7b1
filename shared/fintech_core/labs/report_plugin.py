"""A pytest plugin (`-p fintech_core.labs.report_plugin`) that writes each test's outcome as JSON
to the path in FINCORE_LAB_REPORT, for `fcl lab check` to turn into a per-criterion report.

One entry per test function: parametrised cases fold into their function, and the function fails
if any case or phase (setup, call, teardown) fails.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

_results: dict[str, dict[str, str]] = {}
_RANK = {"passed": 0, "skipped": 1, "failed": 2}


def _function_name(report: pytest.TestReport) -> str:
    return report.nodeid.split("::")[-1].split("[")[0]


def _message(report: pytest.TestReport) -> str:
    """One line a student can act on: the assertion or exception, not the traceback."""
    crash = getattr(report.longrepr, "reprcrash", None)
    text = str(crash.message if crash is not None else report.longrepr or "").strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()] or [""]
    # A SyntaxError's message starts with 'File "...", line N' and names the error last.
    if lines[0].startswith('File "'):
        return lines[-1]
    # pytest.raises(match=...) says what was expected and what was raised on the next lines.
    if lines[0].endswith("Regex pattern did not match."):
        return " ".join(lines[:3])
    return lines[0]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    outcome = report.outcome
    if report.when != "call" and outcome == "passed":
        return  # a passing setup or teardown says nothing about the criterion
    name = _function_name(report)
    previous = _results.get(name)
    if previous is None or _RANK[outcome] > _RANK[previous["outcome"]]:
        _results[name] = {"outcome": outcome, "message": _message(report) if outcome != "passed"
                          else ""}


def pytest_sessionfinish(session: pytest.Session, exitstatus: Any) -> None:
    path = os.environ.get("FINCORE_LAB_REPORT")
    if path:
        with open(path, "w", encoding="utf-8") as out:
            json.dump({"exitstatus": int(exitstatus), "tests": _results}, out)
