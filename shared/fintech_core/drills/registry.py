"""The drill registry: the one explicit list. A later phase adds its drills by appending them
here (and nothing else discovers drills), so `fcl drill list` is exactly this tuple."""

from __future__ import annotations

from fintech_core.drills.drill import Drill
from fintech_core.drills.scenarios.concurrency import CONCURRENT_RETRIES, LAST_FUNDS
from fintech_core.drills.scenarios.crashes import DB_RESTART, KILLED_MID_TRANSFER
from fintech_core.drills.scenarios.lost_response import KEY_REUSE, NEW_KEY_ON_RETRY, RESPONSE_LOST
from fintech_core.drills.scenarios.mail import SLOW_MAIL

REGISTRY: tuple[Drill, ...] = (
    RESPONSE_LOST,        # 1. response lost after commit; retry with the same key
    NEW_KEY_ON_RETRY,     # 2. the same, but the client mints a new key on retry
    CONCURRENT_RETRIES,   # 3. two concurrent retries with the same key
    KEY_REUSE,            # 4. same key, different amount
    KILLED_MID_TRANSFER,  # 5. process killed mid-transfer, then retried
    LAST_FUNDS,           # 6. two transfers racing for the last funds
    SLOW_MAIL,            # 7. slow or failing mail server on the request path vs off it
    DB_RESTART,           # 8. database restart during a burst of transfers
)


def names() -> list[str]:
    return [d.name for d in REGISTRY]


def get(name: str) -> Drill:
    for drill in REGISTRY:
        if drill.name == name:
            return drill
    raise KeyError(f"no drill named {name!r}; one of: {', '.join(names())}")
