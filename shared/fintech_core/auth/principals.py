"""Principals, roles and the permission table: who a verified token says is calling.

A Principal replaces phase 0's self-declared `X-Client-Id`: its `subject` comes from a verified
token, so Idempotency-Keys scoped to it cannot be replayed by someone naming another caller.
Roles grant permissions through one table (PERMISSIONS); a route declares the permission it
needs, never a role, so "who may freeze" is answered here and only here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    CUSTOMER = "customer"  # own accounts and transfers only
    SUPPORT = "support"    # read any account, freeze
    ADMIN = "admin"        # credit limits, amount limits, unfreeze, close
    AUDITOR = "auditor"    # read-only, ledger verify included
    SERVICE = "service"    # machine clients: the payments/webhook worker


class ClientKind(StrEnum):
    USER = "user"        # a person, logged in with a password (password grant)
    SERVICE = "service"  # a machine, client_credentials grant
    EXTERNAL = "external"  # a person authenticated by an external OIDC provider
    SELF_DECLARED = "self-declared"  # phases 0..3: the caller names itself (X-Client-Id)


class Permission(StrEnum):
    ACCOUNTS_OPEN = "accounts:open"
    ACCOUNTS_READ_OWN = "accounts:read:own"
    ACCOUNTS_READ_ANY = "accounts:read:any"
    ACCOUNTS_FREEZE = "accounts:freeze"
    ACCOUNTS_UNFREEZE = "accounts:unfreeze"
    ACCOUNTS_CLOSE = "accounts:close"
    ACCOUNTS_SET_CREDIT_LIMIT = "accounts:credit-limit"
    LIMITS_SET = "limits:set"
    TRANSFERS_CREATE_OWN = "transfers:create:own"
    # No role holds the two "create any" permissions: they name the hole of phases 0..3, whose
    # self-declared caller holds every permission and may move anyone's money.
    TRANSFERS_CREATE_ANY = "transfers:create:any"
    PAYMENTS_CREATE_ANY = "payments:create:any"
    TRANSFERS_READ_OWN = "transfers:read:own"
    TRANSFERS_READ_ANY = "transfers:read:any"
    LEDGER_VERIFY = "ledger:verify"
    LEDGER_DEPOSIT = "ledger:deposit"  # cash in from outside the ledger: a teller, the payments worker
    TRANSFERS_REVERSE = "transfers:reverse"
    OPS_READ = "ops:read"  # operational views (webhook delivery stats)
    DRILL_FAULTS = "drill:faults"  # arm the drills' fault points (drill mode only)
    PAYMENTS_CREATE_OWN = "payments:create:own"
    PAYMENTS_WORKER = "payments:worker"
    PROVIDER_ADMIN = "provider:admin"  # the provider simulator's knobs and drill endpoints
    # Phase 5: the fraud engine's decisions (rules, reason codes) and the review queue.
    FRAUD_READ = "fraud:read"
    FRAUD_REVIEW = "fraud:review"


P = Permission
_READ_ANY = frozenset({P.ACCOUNTS_READ_ANY, P.TRANSFERS_READ_ANY})

# The one table. "own" permissions are further narrowed by an ownership check on each object
# (deps.owned_or_404); "any" permissions skip it. No role holds PROVIDER_ADMIN but admin, and no
# customer permission reads or moves an object it does not own.
PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CUSTOMER: frozenset({P.ACCOUNTS_OPEN, P.ACCOUNTS_READ_OWN, P.TRANSFERS_CREATE_OWN,
                              P.TRANSFERS_READ_OWN, P.PAYMENTS_CREATE_OWN}),
    Role.SUPPORT: _READ_ANY | {P.ACCOUNTS_READ_OWN, P.TRANSFERS_READ_OWN, P.ACCOUNTS_FREEZE,
                               P.OPS_READ, P.FRAUD_READ, P.FRAUD_REVIEW},
    Role.ADMIN: _READ_ANY | {P.ACCOUNTS_READ_OWN, P.TRANSFERS_READ_OWN, P.ACCOUNTS_FREEZE,
                             P.ACCOUNTS_UNFREEZE, P.ACCOUNTS_CLOSE, P.ACCOUNTS_SET_CREDIT_LIMIT,
                             P.LIMITS_SET, P.PROVIDER_ADMIN, P.LEDGER_DEPOSIT, P.LEDGER_VERIFY,
                             P.TRANSFERS_REVERSE, P.OPS_READ, P.DRILL_FAULTS, P.FRAUD_READ,
                             P.FRAUD_REVIEW},
    Role.AUDITOR: _READ_ANY | {P.ACCOUNTS_READ_OWN, P.TRANSFERS_READ_OWN, P.LEDGER_VERIFY,
                               P.OPS_READ, P.FRAUD_READ},
    Role.SERVICE: frozenset({P.PAYMENTS_WORKER, P.LEDGER_DEPOSIT}),
}

# Permissions that reach objects of other owners: holding one means the ownership check passes.
REACHES_ANY: dict[Permission, Permission] = {
    P.ACCOUNTS_READ_OWN: P.ACCOUNTS_READ_ANY,
    P.TRANSFERS_READ_OWN: P.TRANSFERS_READ_ANY,
    P.TRANSFERS_CREATE_OWN: P.TRANSFERS_CREATE_ANY,
    P.PAYMENTS_CREATE_OWN: P.PAYMENTS_CREATE_ANY,
}
GRANTED_TO_NO_ROLE = frozenset({P.TRANSFERS_CREATE_ANY, P.PAYMENTS_CREATE_ANY})


@dataclass(frozen=True)
class Principal:
    subject: str  # the token's `sub`: a user id, a service client id, or "<issuer>|<sub>"
    roles: frozenset[Role]
    client: ClientKind
    # Set only for a caller that is not governed by the role table: phases 0..3's self-declared
    # caller, who may do everything (the hole phase 4 closes). Tokens never set it.
    grants: frozenset[Permission] | None = None

    @classmethod
    def unrestricted(cls, subject: str) -> Principal:
        return cls(subject, frozenset(), ClientKind.SELF_DECLARED, frozenset(Permission))

    @property
    def permissions(self) -> frozenset[Permission]:
        return self.grants if self.grants is not None else permissions_of(self.roles)

    def may(self, permission: Permission) -> bool:
        return permission in self.permissions


def permissions_of(roles: frozenset[Role] | set[Role]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for role in roles:
        granted |= PERMISSIONS[role]
    return frozenset(granted)


def parse_roles(values: object) -> frozenset[Role]:
    """Roles from a token claim: unknown names are dropped, never guessed at."""
    if not isinstance(values, list | tuple):
        return frozenset()
    known = {r.value for r in Role}
    return frozenset(Role(v) for v in values if isinstance(v, str) and v in known)
