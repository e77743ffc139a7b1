"""The operation log: one JSON object per line, appended as things happen.

Records have a `kind`: `run` (the header: accounts, seeded total, principal), `attempt` (one HTTP
request with its key, request, client timeout and outcome), `snapshot` (one consistent balance
read), `fault` (one injected fault), `end`. The log is the clients' testimony, kept apart from the
database on purpose: the checker compares the two, so either can expose a lie in the other.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import orjson

Record = dict[str, Any]


class OpLog:
    """Append-only and single-threaded: the workload writes from one event loop."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._out: IO[bytes] = open(path, "wb")  # noqa: SIM115 - closed by close()

    def write(self, kind: str, **fields: Any) -> None:
        self._out.write(orjson.dumps({"kind": kind, **fields}) + b"\n")

    def close(self) -> None:
        self._out.close()


def read(path: Path) -> Iterator[Record]:
    with open(path, "rb") as f:
        for line in f:
            if line.strip():
                yield orjson.loads(line)


def write_all(path: Path, records: list[Record]) -> None:
    """For tests that corrupt a log on purpose and hand it back to the checker."""
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
