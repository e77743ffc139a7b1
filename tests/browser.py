"""A headless Chromium with no network, driven over the DevTools protocol, to look at a built page
as a reader in a workshop room would: what it tried to fetch, and what it drew.

Every host name but this machine's fails to resolve (`--host-resolver-rules`), so a page that
needs a CDN breaks here as it would offline, and each request it attempts is recorded (data:
URLs aside: they fetch nothing). Chromium is a Debian package
(`apt-get install chromium`); tests that need it skip when it is absent.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

from websockets.sync.client import ClientConnection, connect

from fintech_core.stack.processes import free_port


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Page:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws, self._ids, self.requests = ws, itertools.count(1), list[str]()
        self._urls: dict[str, str] = {}
        self.blocked = list[str]()  # refused by the page's own Content-Security-Policy

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self._ids)
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=30))
            if msg.get("method") == "Network.requestWillBeSent":
                url = msg["params"]["request"]["url"]
                self._urls[msg["params"]["requestId"]] = url
                if not url.startswith("data:"):
                    self.requests.append(url)
            if msg.get("method") == "Network.loadingFailed" and \
                    msg["params"].get("blockedReason") == "csp":
                self.blocked.append(self._urls.get(msg["params"]["requestId"], "?"))
            if msg.get("id") == ident:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})  # type: ignore[no-any-return]

    def sent(self) -> list[str]:
        """Requests that left the page: attempted, and not refused by its CSP."""
        refused = list(self.blocked)
        out = []
        for url in self.requests:
            if url in refused:
                refused.remove(url)
            else:
                out.append(url)
        return out

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30) -> Any:
        """Poll a JS expression until it is truthy; its last value either way."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value or time.monotonic() > deadline:
                return value
            time.sleep(0.2)


@contextlib.contextmanager
def offline_chromium() -> Iterator[Any]:
    """Yields `open(url) -> context manager of Page`, one browser for all of them."""
    binary = chromium_path()
    assert binary, "chromium is not installed"
    port = free_port()
    profile = tempfile.mkdtemp(prefix="offline-chromium-")
    proc = subprocess.Popen(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--remote-debugging-port={port}", f"--user-data-dir={profile}",
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
         "--window-size=1280,1600", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{base}/json/version", timeout=1).read()
                break
            time.sleep(0.1)

        @contextlib.contextmanager
        def open_page(url: str) -> Iterator[Page]:
            req = urllib.request.Request(f"{base}/json/new?about:blank", method="PUT")
            target = json.loads(urllib.request.urlopen(req, timeout=10).read())
            with connect(target["webSocketDebuggerUrl"], max_size=None) as ws:
                page = Page(ws)
                page.call("Network.enable")
                page.call("Page.enable")
                page.call("Page.navigate", url=url)
                page.wait_for("document.readyState === 'complete'")
                yield page
            urllib.request.urlopen(f"{base}/json/close/{target['id']}", timeout=10).read()

        yield open_page
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)
