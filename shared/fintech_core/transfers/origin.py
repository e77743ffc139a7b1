"""Where a transfer request came from: facts about the request, not about the money.

The transfer routes seed this part into every transfer's context (TransferContext.parts), so a
later phase can reason about the request without the core knowing why: phase 5's fraud rules
count transfers per client IP and per device, and scope rules to people rather than machines.
The IP is the peer address the API sees (it runs with `--no-proxy-headers`: an X-Forwarded-For
from the client is not believed); the device id is a header the client chooses to send; the
caller kind is what the verified identity says (user, service, external, self-declared).
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

DEVICE_HEADER = "X-Device-Id"
MAX_DEVICE_ID = 128  # longer values are cut: they only ever serve as a counting key


@dataclass(frozen=True)
class Origin:
    client_ip: str | None = None
    device_id: str | None = None
    caller_kind: str | None = None  # auth.principals.ClientKind's value

    @classmethod
    def of(cls, request: Request, caller_kind: str) -> Origin:
        device = request.headers.get(DEVICE_HEADER)
        return cls(request.client.host if request.client else None,
                   device[:MAX_DEVICE_ID] if device else None, caller_kind)
