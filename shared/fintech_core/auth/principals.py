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
    TRANSFERS_READ_OWN = "transfers:read:own"
    TRANSFERS_READ_ANY = "transfers:read:any"
    LEDGER_VERIFY = "ledger:verify"
    PAYMENTS_CREATE_OWN = "payments:create:own"
    PAYMENTS_WORKER = "payments:worker"
    PROVIDER_ADMIN = "provider:admin"  # the provider simulator's knobs and drill endpoints


P = Permission
_READ_ANY = frozenset({P.ACCOUNTS_READ_ANY, P.TRANSFERS_READ_ANY})

# The one table. "own" permissions are further narrowed by an ownership check on each object
# (deps.owned_or_404); "any" permissions skip it. No role holds PROVIDER_ADMIN but admin, and no
# customer permission reads or moves an object it does not own.
PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CUSTOMER: frozenset({P.ACCOUNTS_OPEN, P.ACCOUNTS_READ_OWN, P.TRANSFERS_CREATE_OWN,
                              P.TRANSFERS_READ_OWN, P.PAYMENTS_CREATE_OWN}),
    Role.SUPPORT: _READ_ANY | {P.ACCOUNTS_READ_OWN, P.TRANSFERS_READ_OWN, P.ACCOUNTS_FREEZE},
    Role.ADMIN: _READ_ANY | {P.ACCOUNTS_READ_OWN, P.TRANSFERS_READ_OWN, P.ACCOUNTS_FREEZE,
                             P.ACCOUNTS_UNFREEZE, P.ACCOUNTS_CLOSE, P.ACCOUNTS_SET_CREDIT_LIMIT,
                             P.LIMITS_SET, P.PROVIDER_ADMIN},
    Role.AUDITOR: _READ_ANY | {P.ACCOUNTS_READ_OWN, P.TRANSFERS_READ_OWN, P.LEDGER_VERIFY},
    Role.SERVICE: frozenset({P.PAYMENTS_WORKER}),
}

# Permissions that reach objects of other owners: holding one means the ownership check passes.
REACHES_ANY: dict[Permission, Permission] = {
    P.ACCOUNTS_READ_OWN: P.ACCOUNTS_READ_ANY,
    P.TRANSFERS_READ_OWN: P.TRANSFERS_READ_ANY,
}


@dataclass(frozen=True)
class Principal:
    subject: str  # the token's `sub`: a user id, a service client id, or "<issuer>|<sub>"
    roles: frozenset[Role]
    client: ClientKind

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions_of(self.roles)

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
