"""The feature store port and its in-memory adapter (unit tests, the backtest, the notebook).

Window semantics (shared with redis_features.py, which must answer identically: an integration
test feeds both the same attempts):
- Time is the attempt's own `at` in integer milliseconds, never the wall clock, so a replayed
  history gives the same features every time. A window of length W read at t holds the entries
  with t - W < time <= t; entries at or before t - W of the keys an attempt touches are trimmed.
- `observe` reads every feature *before* counting the attempt, then counts it, whatever the
  verdict will be (a blocked burst is still a burst). Per attempt, as one step.
- The profile (history count, amount sum, known beneficiaries) changes only through `learn`,
  which the engine calls for an attempt it let through: a fraudster's blocked attempts never
  become "usual".
- Outgoing = the attempt has a source (a transfer or a withdrawal); a credit = it has a
  destination (a transfer or a deposit). IP and device windows count outgoing attempts only.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Protocol

from fintech_core.fraud.model import Attempt, Features

TEN_MINUTES_MS = 10 * 60 * 1000
HOUR_MS = 60 * 60 * 1000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class FeatureStore(Protocol):
    async def observe(self, attempt: Attempt) -> Features: ...

    async def learn(self, attempt: Attempt) -> None: ...

    async def warm(self) -> None: ...  # connect and prepare before the first decision


def at_ms(at: datetime) -> int:
    """Integer milliseconds since the epoch: exact in a Lua double, so both stores agree."""
    return (at - _EPOCH) // timedelta(milliseconds=1)


def member(attempt: Attempt) -> str:
    """A window entry: unique per attempt, carrying its amount for the sums."""
    return f"{attempt.transfer_id}|{attempt.amount}"


def amount_of(entry: str) -> int:
    return int(entry.rsplit("|", 1)[1])


def build(attempt: Attempt, raw: dict[str, int]) -> Features:
    """Features from the raw counts both stores produce (one place for the arithmetic)."""
    n, total = raw["hist_n"], raw["hist_sum"]
    return Features(
        amount=attempt.amount, kind=attempt.kind, caller_kind=attempt.caller_kind,
        src_out_count_10m=raw["out_n_10m"], src_out_sum_10m=raw["out_sum_10m"],
        src_out_count_1h=raw["out_n_1h"], src_out_sum_1h=raw["out_sum_1h"],
        src_in_sum_1h=raw["in_sum_1h"], src_withdrawal_count_1h=raw["wd_n_1h"],
        src_new_beneficiaries_1h=raw["newben_n_1h"], src_history_count=n,
        src_avg_amount=total / n if n else 0.0, new_beneficiary=bool(raw["new_ben"]),
        dst_in_count_1h=raw["dst_in_n_1h"], dst_distinct_sources_1h=raw["dst_src_n_1h"],
        ip_out_count_10m=raw["ip_n_10m"], device_sources_1h=raw["dev_src_n_1h"],
    )


Window = dict[str, int]  # member -> time (ms); a distinct-set keeps the latest time per member


class MemoryFeatureStore:
    """Not thread-safe; one event loop (no await between read and count, so atomic per attempt)."""

    def __init__(self) -> None:
        self._z: defaultdict[str, Window] = defaultdict(dict)
        self._hist: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0])
        self._bens: defaultdict[str, set[str]] = defaultdict(set)

    async def warm(self) -> None:
        return None  # nothing to connect

    def _read(self, key: str, t: int, width: int, trim: int) -> list[str]:
        z = self._z[key]
        for m in [m for m, s in z.items() if s <= t - trim]:
            del z[m]
        return [m for m, s in z.items() if t - width < s <= t]

    def _add_max(self, key: str, m: str, t: int) -> None:
        z = self._z[key]
        z[m] = max(z.get(m, t), t)

    async def observe(self, attempt: Attempt) -> Features:
        t, a = at_ms(attempt.at), attempt
        src = str(a.source_id) if a.source_id else None
        dst = str(a.destination_id) if a.destination_id else None
        raw = dict.fromkeys(("out_n_10m", "out_sum_10m", "out_n_1h", "out_sum_1h", "in_sum_1h",
                             "wd_n_1h", "newben_n_1h", "hist_n", "hist_sum", "new_ben",
                             "dst_in_n_1h", "dst_src_n_1h", "ip_n_10m", "dev_src_n_1h"), 0)
        if src:
            hour = self._read(f"out:{src}", t, HOUR_MS, HOUR_MS)
            ten = self._read(f"out:{src}", t, TEN_MINUTES_MS, HOUR_MS)
            raw.update(out_n_1h=len(hour), out_sum_1h=sum(map(amount_of, hour)),
                       out_n_10m=len(ten), out_sum_10m=sum(map(amount_of, ten)))
            raw["in_sum_1h"] = sum(map(amount_of, self._read(f"in:{src}", t, HOUR_MS, HOUR_MS)))
            raw["wd_n_1h"] = len(self._read(f"wd:{src}", t, HOUR_MS, HOUR_MS))
            raw["newben_n_1h"] = len(self._read(f"newben:{src}", t, HOUR_MS, HOUR_MS))
            raw["hist_n"], raw["hist_sum"] = self._hist[src]
            raw["new_ben"] = int(dst is not None and dst not in self._bens[src])
        if dst:
            raw["dst_in_n_1h"] = len(self._read(f"in:{dst}", t, HOUR_MS, HOUR_MS))
            raw["dst_src_n_1h"] = len(self._read(f"dsrc:{dst}", t, HOUR_MS, HOUR_MS))
        if a.client_ip:
            raw["ip_n_10m"] = len(self._read(f"ip:{a.client_ip}", t, TEN_MINUTES_MS,
                                             TEN_MINUTES_MS))
        if a.device_id:
            raw["dev_src_n_1h"] = len(self._read(f"dev:{a.device_id}", t, HOUR_MS, HOUR_MS))
        # Count this attempt (after every read: the features describe what came before it).
        if src:
            self._z[f"out:{src}"][member(a)] = t
            if dst is None:
                self._z[f"wd:{src}"][member(a)] = t
            if raw["new_ben"] and dst:
                self._add_max(f"newben:{src}", dst, t)
            if a.client_ip:
                self._z[f"ip:{a.client_ip}"][member(a)] = t
            if a.device_id:
                self._add_max(f"dev:{a.device_id}", src, t)
        if dst:
            self._z[f"in:{dst}"][member(a)] = t
            if src:
                self._add_max(f"dsrc:{dst}", src, t)
        return build(a, raw)

    async def learn(self, attempt: Attempt) -> None:
        if attempt.source_id is None:
            return
        src = str(attempt.source_id)
        h = self._hist[src]
        h[0], h[1] = h[0] + 1, h[1] + attempt.amount
        if attempt.destination_id is not None:
            self._bens[src].add(str(attempt.destination_id))
