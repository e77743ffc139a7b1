"""How the lab's own tools (drills, chaos, bench, notebooks) authenticate: `lab_client_auth`, a
`Phase.client_auth` factory giving an httpx.Auth for the seeded `lab-driver` client.

What `LabDriverAuth` guarantees, on sync (httpx.Client) and async (httpx.AsyncClient) clients:
- every request carries `Authorization: Bearer <token>`, a token of the lab-driver client got by
  the client_credentials grant at `<base_url>/auth/token` (form-encoded, RFC 6749 §4.4), with
  the secret read from `<lab_dir>/auth/seeded.json` (auth/seed.py);
- the token is reused until `REFRESH_MARGIN` before its `expires_in`, then fetched anew: one
  fetch at a time per Auth (a lock; concurrent requests wait for it rather than each running a
  grant), so a bench of 64 workers does one grant, not 64;
- a 401 answer (the token expired early: API clock ahead, a key ring reset, the lab's
  signing-keys file recreated) is retried exactly once with a freshly fetched token; a second 401
  is returned to the caller as it is. Chaos runs outlive a token (5 minutes), so this is the
  normal path there, not an edge case;
- a failed grant raises `LabAuthError` naming the answer, instead of sending the request
  without credentials.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import AsyncGenerator, Generator
from dataclasses import dataclass

import httpx

from fintech_core.auth.seed import LAB_DRIVER, load_seeded
from fintech_core.settings import Settings
from fintech_core.stack.client_auth import ClientAuthUnavailable

REFRESH_MARGIN_S = 30.0  # fetch a new token this long before the old one expires
GRANT_TIMEOUT_S = 10.0  # a grant runs scrypt on the server (~50-100 ms), never minutes


class LabAuthError(ClientAuthUnavailable):
    """The token endpoint refused the lab-driver's grant, or could not be reached."""


@dataclass(frozen=True)
class _Token:
    value: str
    fresh_until: float  # time.monotonic()


class LabDriverAuth(httpx.Auth):
    requires_request_body = True  # a request retried after a 401 is sent again, body included

    def __init__(self, token_url: str, client_id: str, client_secret: str,
                 refresh_margin_s: float = REFRESH_MARGIN_S) -> None:
        self.token_url, self.client_id = token_url, client_id
        self._secret = client_secret
        self.refresh_margin_s = refresh_margin_s
        self._token: _Token | None = None
        self._sync_lock = threading.Lock()
        # An asyncio.Lock belongs to one event loop; an Auth may be used from several (tests,
        # notebooks), so one lock per loop.
        self._async_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary())
        self.grants = 0  # how many tokens were fetched (tests and the bench report read it)
        self.retried_after_401 = 0  # requests sent again with a fresh token (chaos reports it)
        self.expiries: list[float] = []  # epoch seconds each granted token expires (chaos)

    # --- the token ----------------------------------------------------------------------------
    def _usable(self, rejected: str | None) -> str | None:
        token = self._token
        if token is None or token.value == rejected or time.monotonic() >= token.fresh_until:
            return None
        return token.value

    def _grant_body(self) -> dict[str, str]:
        return {"grant_type": "client_credentials", "client_id": self.client_id,
                "client_secret": self._secret}

    def _accept(self, response: httpx.Response) -> str:
        if response.status_code != 200:
            raise LabAuthError(f"POST {self.token_url} refused the {self.client_id} grant: "
                               f"{response.status_code} {response.text[:300]}")
        body = response.json()
        ttl = float(body["expires_in"])
        margin = min(self.refresh_margin_s, ttl / 2)
        self._token = _Token(body["access_token"], time.monotonic() + ttl - margin)
        self.grants += 1
        self.expiries.append(time.time() + ttl)
        return body["access_token"]  # type: ignore[no-any-return]

    def sync_token(self, rejected: str | None = None) -> str:
        """A usable token; `rejected` is one the API just refused, which is never reused."""
        with self._sync_lock:
            token = self._usable(rejected)
            if token is not None:
                return token
            try:
                response = httpx.post(self.token_url, data=self._grant_body(),
                                      timeout=GRANT_TIMEOUT_S)
            except httpx.HTTPError as exc:
                raise LabAuthError(f"POST {self.token_url}: {exc!r}") from exc
            return self._accept(response)

    async def async_token(self, rejected: str | None = None) -> str:
        loop = asyncio.get_running_loop()
        lock = self._async_locks.setdefault(loop, asyncio.Lock())
        async with lock:
            token = self._usable(rejected)
            if token is not None:
                return token
            try:
                async with httpx.AsyncClient(timeout=GRANT_TIMEOUT_S) as client:
                    response = await client.post(self.token_url, data=self._grant_body())
            except httpx.HTTPError as exc:
                raise LabAuthError(f"POST {self.token_url}: {exc!r}") from exc
            return self._accept(response)

    # --- httpx.Auth -----------------------------------------------------------------------------
    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response,
                                                                     None]:
        token = self.sync_token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            self.retried_after_401 += 1
            request.headers["Authorization"] = f"Bearer {self.sync_token(rejected=token)}"
            yield request

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request,
                                                                               httpx.Response]:
        token = await self.async_token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            self.retried_after_401 += 1
            request.headers["Authorization"] = f"Bearer {await self.async_token(rejected=token)}"
            yield request


def lab_client_auth(settings: Settings, base_url: str) -> httpx.Auth:
    """The `Phase.client_auth` factory: the lab-driver's Auth for the API at `base_url`.
    Raises FileNotFoundError if the lab was never seeded (seed.py)."""
    secret = load_seeded(settings)[LAB_DRIVER]["secret"]
    return LabDriverAuth(f"{base_url.rstrip('/')}/auth/token", LAB_DRIVER, secret)
