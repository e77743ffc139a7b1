"""Named fault points for drills: delay, fail or crash the process at a precise step.

They are inert unless the service runs in drill mode (FINCORE_DRILL_MODE=true) *and* a point was
armed through the /_drill routes, so production-shaped runs pay one dict lookup per point.
`crash` calls os._exit: no finally blocks, no rollback sent, no response. The database sees a
dropped connection and rolls back the open transaction, which is the point of the drill.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from dataclasses import dataclass
from typing import Literal

Action = Literal["delay", "error", "crash"]

POINTS = {
    # With group commit on (FINCORE_GROUP_COMMIT), `before_commit` is hit once per transaction,
    # so once per *batch*: `times` counts batches, and an armed error or crash fails every
    # transfer of that batch (none of them commits). `after_commit` stays once per request.
    # A batch of one (a lone request) behaves exactly as per request; the drills that hold one
    # request here to show its neighbours pin one transaction per request (drill.PER_REQUEST).
    "transfer.before_commit": "after every step of the transfer pipeline, before COMMIT "
                              "(group commit: once per batch, before the batch's COMMIT)",
    "transfer.after_commit": "after COMMIT, before the response is sent (once per request)",
    "naive.after_debit": "naive baseline: after saving the debited source, before the credit",
    "naive.before_response": "naive baseline: after both saves and the receipt, before responding",
}


class InjectedFault(RuntimeError):
    pass


@dataclass
class ArmedFault:
    action: Action
    delay_ms: int = 0
    times: int = 1  # how many hits trigger it; -1 for every hit


class FaultPoints:
    """`points`: the core's POINTS plus those the composed phases declare (Phase.fault_points)."""

    def __init__(self, enabled: bool, points: dict[str, str] | None = None) -> None:
        self.enabled = enabled
        self.points = dict(POINTS if points is None else points)
        self._armed: dict[str, ArmedFault] = {}
        self._lock = threading.Lock()

    def arm(self, point: str, fault: ArmedFault) -> None:
        if point not in self.points:
            raise KeyError(point)
        with self._lock:
            self._armed[point] = fault

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    def armed(self) -> dict[str, ArmedFault]:
        with self._lock:
            return dict(self._armed)

    def _take(self, point: str) -> ArmedFault | None:
        if not self.enabled or not self._armed:
            return None
        with self._lock:
            fault = self._armed.get(point)
            if fault is None:
                return None
            if fault.times > 0:
                fault.times -= 1
                if fault.times == 0:
                    del self._armed[point]
            return fault

    @staticmethod
    def _act(point: str, fault: ArmedFault) -> None:
        if fault.action == "crash":
            os._exit(137)  # as abrupt as SIGKILL: nothing after this line runs
        if fault.action == "error":
            raise InjectedFault(f"fault injected at {point}")

    async def hit(self, point: str) -> None:
        fault = self._take(point)
        if fault is not None:
            if fault.action == "delay":
                await asyncio.sleep(fault.delay_ms / 1000)
            self._act(point, fault)

    def hit_sync(self, point: str) -> None:
        fault = self._take(point)
        if fault is not None:
            if fault.action == "delay":
                time.sleep(fault.delay_ms / 1000)
            self._act(point, fault)
