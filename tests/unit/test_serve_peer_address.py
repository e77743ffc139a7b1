"""Both ways the API is started take the caller's address from the socket, never from
X-Forwarded-For: uvicorn trusts that header from 127.0.0.1 by default, and in the lab every
client is 127.0.0.1, so a trusted header would let anyone choose the address the login throttle
and the rate limiter count them under (the attacker suite's brute-force test, e2e)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from fintech_core.cli.main import build_cli
from fintech_core.stack import api_server
from fintech_core.stack.api_server import ApiServer
from fintech_core.stack.lab import Lab
from phases import REGISTRY


def test_fcl_serve_runs_uvicorn_without_proxy_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(Lab, "prepare_database", lambda self, *a, **kw: "postgresql://unused")
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: calls.append(kw))
    monkeypatch.setattr(os, "environ", dict(os.environ))  # serve exports the lab's variables
    result = CliRunner().invoke(build_cli(REGISTRY), ["serve", "--phase", "0"])
    assert result.exit_code == 0, result.output
    assert calls and calls[0]["proxy_headers"] is False


def test_the_api_child_process_runs_without_proxy_headers(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    argv: list[list[str]] = []

    def spawn(args: list[str], *_: object, **__: object) -> object:
        argv.append(args)
        raise RuntimeError("not started: the test reads the command line only")

    monkeypatch.setattr(api_server, "spawn", spawn)
    server = ApiServer(tmp_path, "127.0.0.1", 1, {}, app="unused:factory")
    with pytest.raises(RuntimeError, match="not started"):
        server.start()
    assert "--no-proxy-headers" in argv[0] and "--proxy-headers" not in argv[0]
