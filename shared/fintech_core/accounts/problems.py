"""The accounts slice's problems: an account that does not exist or cannot move money now."""

from __future__ import annotations

from fintech_core.api.problems import ProblemType

PROBLEMS: dict[str, ProblemType] = {
    "account-not-found": ProblemType(404, "Account not found", "No account has this id."),
    "account-frozen": ProblemType(409, "Account is frozen",
        "A frozen account can neither send nor receive money until it is unfrozen."),
    "account-closed": ProblemType(409, "Account is closed", "A closed account is final."),
    "account-not-empty": ProblemType(409, "Account still holds money",
        "An account can be closed only at a zero balance."),
}
