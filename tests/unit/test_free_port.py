"""free_port never hands out one port twice in a process: a port is not bound until its server
starts, and the kernel may offer the same one again in the meantime (two threads of the
broker-storage smoke once got one port, and the second server found it taken)."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from fintech_core.stack import processes


class KernelOffering:
    """A socket whose bind to port 0 gets the next port of a script the kernel might follow."""

    script: ClassVar[list[int]] = []

    def __enter__(self) -> KernelOffering:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def bind(self, address: Any) -> None:
        self.port = KernelOffering.script.pop(0)

    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)


def test_a_port_the_kernel_offers_again_is_not_handed_out_twice(
        monkeypatch: pytest.MonkeyPatch) -> None:
    KernelOffering.script = [61001, 61001, 61002]
    monkeypatch.setattr(processes.socket, "socket", KernelOffering)
    monkeypatch.setattr(processes, "_HANDED_OUT", set())
    assert [processes.free_port(), processes.free_port()] == [61001, 61002]
