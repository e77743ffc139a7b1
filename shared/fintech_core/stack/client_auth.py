"""How the lab's own tools authenticate to the API they drive.

Drills, chaos runs, the bench and the notebooks are clients like any other: once a phase declares
a verifying identity (phase 4), their requests need a token. The phase also declares how the
lab's driver gets one (`Phase.client_auth`: Settings and base URL -> httpx.Auth); through phase 3
there is nothing to add and this returns None, which httpx reads as "no auth".
"""

from __future__ import annotations

from typing import Any

from fintech_core.phase import Composition
from fintech_core.settings import Settings


def client_auth_for(composition: Composition, settings: Settings, base_url: str) -> Any:
    """An httpx.Auth for the lab's driver on `base_url`, or None when no phase needs one."""
    if composition.client_auth is None:
        return None
    return composition.client_auth(settings, base_url)
