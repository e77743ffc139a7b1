"""The role -> permission table, `require(permission)` and the ownership rule (404, never 403)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from fintech_core.api.errors import install as install_error_handlers
from fintech_core.api.problems import CORE_PROBLEMS
from fintech_core.auth.deps import owned_or_404, require
from fintech_core.auth.jwt_identity import JwtIdentity
from fintech_core.auth.keys import KeyRing
from fintech_core.auth.principals import (
    GRANTED_TO_NO_ROLE,
    PERMISSIONS,
    ClientKind,
    Permission,
    Principal,
    Role,
)
from fintech_core.auth.problems import PROBLEMS
from fintech_core.auth.runtime import AuthRuntime
from fintech_core.auth.tokens import TokenPolicy, utcnow
from fintech_core.domain.errors import AccountNotFound

P = Permission


def who(*roles: Role, subject: str = "alice") -> Principal:
    return Principal(subject, frozenset(roles), ClientKind.USER)


def test_the_table_as_the_issue_states_it() -> None:
    customer, support, admin, auditor, service = (who(r) for r in Role)
    assert customer.may(P.TRANSFERS_CREATE_OWN) and not customer.may(P.ACCOUNTS_READ_ANY)
    assert support.may(P.ACCOUNTS_READ_ANY) and support.may(P.ACCOUNTS_FREEZE)
    assert not support.may(P.ACCOUNTS_UNFREEZE) and not support.may(P.TRANSFERS_CREATE_OWN)
    assert {P.ACCOUNTS_SET_CREDIT_LIMIT, P.ACCOUNTS_UNFREEZE, P.ACCOUNTS_CLOSE} <= admin.permissions
    assert auditor.may(P.LEDGER_VERIFY) and auditor.may(P.ACCOUNTS_READ_ANY)
    # A machine settles money from outside (the payments worker credits a settled pay-in); it
    # never reads or moves a customer's money on its own account.
    assert service.permissions == {P.PAYMENTS_WORKER, P.LEDGER_DEPOSIT}


def test_only_admin_sets_credit_limits_or_reaches_the_provider_knobs() -> None:
    for permission in (P.ACCOUNTS_SET_CREDIT_LIMIT, P.LIMITS_SET, P.PROVIDER_ADMIN):
        assert {r for r, granted in PERMISSIONS.items() if permission in granted} == {Role.ADMIN}


def test_read_only_roles_move_no_money() -> None:
    writes = {P.TRANSFERS_CREATE_OWN, P.PAYMENTS_CREATE_OWN, P.ACCOUNTS_OPEN,
              P.ACCOUNTS_SET_CREDIT_LIMIT, P.ACCOUNTS_CLOSE, P.ACCOUNTS_UNFREEZE, P.LIMITS_SET}
    assert not PERMISSIONS[Role.AUDITOR] & writes
    assert not PERMISSIONS[Role.SUPPORT] & writes


def test_every_permission_is_granted_to_some_role() -> None:
    granted = set().union(*PERMISSIONS.values())
    assert granted == set(Permission) - GRANTED_TO_NO_ROLE
    assert not granted & GRANTED_TO_NO_ROLE  # nobody moves someone else's money


def test_someone_elses_object_is_the_same_404_as_a_missing_one() -> None:
    missing = AccountNotFound("account x does not exist")
    owner_only = P.ACCOUNTS_READ_OWN
    owned_or_404(who(Role.CUSTOMER), owner_only, "alice", missing)  # own: passes
    for owner in ("bob", None):
        with pytest.raises(AccountNotFound) as caught:
            owned_or_404(who(Role.CUSTOMER), owner_only, owner, missing)
        assert caught.value is missing
    owned_or_404(who(Role.SUPPORT), owner_only, "bob", missing)  # read-any reaches it
    # ... and an object without a holder: whether it exists is then the use case's question
    owned_or_404(who(Role.SUPPORT), owner_only, None, missing)


def app_with(runtime: AuthRuntime) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.state.problem_types = {**CORE_PROBLEMS, **PROBLEMS}
    app.state.auth_runtime = runtime
    app.state.identity = JwtIdentity()  # phase 4's: verifies with app.state.auth_runtime

    @app.post("/accounts/{account_id}/unfreeze")
    async def unfreeze(account_id: str,
                       principal: Principal = Depends(require(P.ACCOUNTS_UNFREEZE))) -> dict[str, str]:
        return {"by": principal.subject}

    return app


def test_require_answers_401_403_or_lets_through() -> None:
    policy = TokenPolicy("https://issuer.test", "api.test")
    runtime = AuthRuntime(policy, KeyRing.started(utcnow(), policy.access_ttl, policy.leeway,
                                                  timedelta(minutes=1)))
    http = TestClient(app_with(runtime))
    anonymous = http.post("/accounts/x/unfreeze")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "unauthenticated"
    assert anonymous.headers["content-type"] == "application/problem+json"
    forged = http.post("/accounts/x/unfreeze", headers={"Authorization": "Bearer a.b.c"})
    assert forged.status_code == 401 and forged.json()["reason"] == "malformed"
    for role, status in ((Role.CUSTOMER, 403), (Role.SUPPORT, 403), (Role.ADMIN, 200)):
        token = runtime.issuer.issue("carol", frozenset({role}), ClientKind.USER)
        answer = http.post("/accounts/x/unfreeze", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == status, (role, answer.text)
    assert answer.json() == {"by": "carol"}
