"""A pytest plugin (`-p fintech_core.labs.report_plugin`) that writes each test's outcome as JSON
to the path in FINCORE_LAB_REPORT, for `fincore lab check` to turn into a per-criterion report.

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
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message).strip().splitlines()[0]
    return str(report.longrepr).strip().splitlines()[-1] if report.longrepr else ""


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
