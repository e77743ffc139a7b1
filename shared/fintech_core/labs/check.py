"""Run a lab's tests (from the repository, never the student's copy) against a directory of code.

The tests run in a child pytest process: the student's module is imported fresh, a crash or an
infinite loop in it cannot take the CLI down, and the exit status is pytest's own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fintech_core.labs.criteria import criteria
from fintech_core.labs.loader import CODE_ENV
from fintech_core.labs.registry import LabSpec
from fintech_core.settings import REPO_ROOT


@dataclass(frozen=True)
class CriterionResult:
    criterion: str
    outcome: str  # passed, failed, skipped, or "not run" (the test never reported)
    message: str


@dataclass(frozen=True)
class CheckResult:
    returncode: int
    results: list[CriterionResult]
    output: str  # pytest's own output, shown when something went wrong outside the tests

    @property
    def passed(self) -> bool:
        return self.returncode == 0 and all(r.outcome == "passed" for r in self.results)


def run_lab_tests(spec: LabSpec, code: Path, env: dict[str, str] | None = None,
                  timeout: float = 600) -> CheckResult:
    with tempfile.TemporaryDirectory(prefix="fincore-lab-check-") as tmp:
        report = Path(tmp) / "report.json"
        # Plugin autoloading is off: the notebook and property-testing plugins the repository
        # installs cost ~4 s of startup per run and lab tests use none of them.
        child_env = {**os.environ, **(env or {}), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
                     CODE_ENV: str(code.resolve()), "FINCORE_LAB_REPORT": str(report)}
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", str(spec.tests_dir), "-q", "-p", "no:cacheprovider",
             "-p", "pytest_timeout", "-o", "timeout=60",  # a student's endless loop ends
             "-p", "fintech_core.labs.report_plugin"],
            cwd=REPO_ROOT, env=child_env, capture_output=True, text=True, timeout=timeout,
        )
        tests = json.loads(report.read_text())["tests"] if report.exists() else {}
    results = [
        CriterionResult(c.text, tests.get(c.test, {}).get("outcome", "not run"),
                        tests.get(c.test, {}).get("message", ""))
        for c in criteria(spec.tests_dir)
    ]
    return CheckResult(proc.returncode, results, proc.stdout + proc.stderr)
