"""Every ledger refusal is a documented problem type, and none can corrupt a problem body."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from fintech_core.domain import errors as domain_errors
from fintech_core.domain.errors import DomainError
from fintech_core.ledger import errors as ledger_errors
from phases import composition

ABSTRACT = {"domain-error", "transition-refused", "idempotency-error", "account-state-conflict"}
RESERVED = {"type", "title", "status", "code", "detail", "instance"}  # RFC 9457 members
LEDGER = Path(ledger_errors.__file__).parent


def concrete_codes() -> set[str]:
    classes = [c for m in (domain_errors, ledger_errors) for _, c in inspect.getmembers(m)
               if inspect.isclass(c) and issubclass(c, DomainError)]
    return {c.code for c in classes} - ABSTRACT


def test_every_error_code_has_a_problem_type() -> None:
    assert concrete_codes() - set(composition().problems) == set()


@pytest.mark.parametrize("path", [*sorted(LEDGER.glob("*.py")),
                                  LEDGER.parent / "domain" / "money.py"], ids=lambda p: p.name)
def test_no_refusal_overwrites_a_problem_member(path: Path) -> None:
    """Extras become members of the problem body: `status="VOIDED"` would replace the HTTP
    status with a string (and did, once: the handler then failed with a 500)."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            assert not {k.arg for k in node.exc.keywords} & RESERVED, ast.unparse(node.exc)
