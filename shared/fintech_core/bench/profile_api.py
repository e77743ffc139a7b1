"""Where the API's CPU per transfer goes: py-spy samples of the API workers under the bench's
uniform workload, grouped by layer (HTTP server, framework, validation, JSON, driver, event loop,
the lab's own code).

    ./fcl bench-profile --phase 3 --clients 16 --seconds 12 [--per-request] [--gc] [--raw FILE]

(py-spy is a dev dependency: `make venv` installs it.) What it does, on a database of its own
(`fincore_prof_p<phase>`): starts the API as the bench does (2 uvicorn workers), seeds 200
accounts, runs the uniform closed loop once *without* the profiler to read CPU ms per transfer of
the API processes and of PostgreSQL (psutil, before/after), then once more under
`py-spy record --subprocesses --gil`: only samples of the thread holding the GIL, i.e. the
Python CPU (a thread blocked on a pipe, like uvicorn's ping thread, or the event loop waiting in
epoll without the GIL, is not counted; py-spy's own idle detection misses the former). Python
frames only.

How a sample is attributed: from its innermost frame outwards, to the first frame that belongs
to a named layer; stdlib frames that are no layer of their own (uuid, hashlib, typing, ...) are
skipped, so their time goes to whoever called them. A C extension's time (orjson, psycopg's C
parts, httptools) shows up in the Python frame that called it. The shares are of the API's
GIL samples, and `ms per transfer` = share × the API's CPU per transfer (psutil, unprofiled):
an approximation that spreads what runs without the GIL (system calls, the kernel's share of
socket I/O, libuv) in proportion. Samples are wall time holding the GIL, so on a loaded machine
(a holder preempted by the OS) their absolute count overstates CPU; their shares do not.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import psutil

from fintech_core.bench import auth
from fintech_core.bench.cpu import _cpu_seconds, postgres_processes
from fintech_core.bench.runner import loadgen, seed
from fintech_core.db.admin import drop_database
from fintech_core.phase import Composition
from fintech_core.settings import Settings
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import free_port

# (layer, substrings of a frame's file path), first match wins; order matters (fastapi before
# pydantic: fastapi's own files are routing/dependency code even when they call pydantic).
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("lab code (fintech_core, phases)", ("fintech_core/", "/phases/")),
    ("psycopg (driver, pool)", ("psycopg",)),
    ("HTTP server (uvicorn, httptools)", ("uvicorn/", "httptools", "h11/")),
    ("framework (starlette, fastapi)", ("starlette/", "fastapi/", "anyio/")),
    ("pydantic (validation, serialisation)", ("pydantic",)),
    ("JSON (json, orjson)", ("json/", "orjson")),
    ("event loop (asyncio, uvloop)", ("asyncio/", "uvloop", "selectors.py")),
)
OTHER = "other (stdlib leaves, logging...)"
GC_PROBE = Path(__file__).with_name("gcprobe")  # its sitecustomize.py times the collector
PROCESS = re.compile(r'^process (\d+):".*?";(.+)$', re.DOTALL)


def layer_of(frame: str) -> str | None:
    """`frame` as py-spy writes it: `function (path/to/file.py:line)`."""
    path = frame.rsplit("(", 1)[-1]
    for layer, needles in LAYERS:
        if any(n in path for n in needles):
            return layer
    return None


def attribute(raw: str, pids: set[int]) -> tuple[Counter[str], Counter[str], int]:
    """Samples per layer (innermost named frame) and per innermost function, from py-spy's
    `--format raw --subprocesses` (collapsed stacks: `process PID:"cmd";frame;... count`,
    outermost first, a child's stack below its parent's process frame), keeping the processes
    in `pids` (the uvicorn workers: the supervisor only waits on its pipes)."""
    layers: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        pid, rest = None, stack  # `process PID:"cmd";` per ancestor, the sampled one last
        while (head := PROCESS.match(rest)) is not None:  # a worker's cmd has `;` in it
            pid, rest = int(head.group(1)), head.group(2)
        if pid not in pids:
            continue
        frames = rest.split(";")
        total += n
        leaves[frames[-1]] += n
        layers[next((lay for f in reversed(frames) if (lay := layer_of(f))), OTHER)] += n
    return layers, leaves, total


def _api_processes(pid: int) -> list[psutil.Process]:
    master = psutil.Process(pid)
    return [master, *master.children(recursive=True)]


def gc_seconds(probe_dir: Path, pids: set[int]) -> float:
    """CPU seconds the workers' garbage collectors took so far (bench/gcprobe)."""
    total = 0.0
    for pid in pids:
        path = probe_dir / f"{pid}.json"
        if path.exists():
            total += sum(json.loads(path.read_text())["cpu_seconds"])
    return total


def profile(composed: Composition, clients: int, seconds: float, group_commit: bool,
            rate: int = 200, keep: Path | None = None, gc_probe: bool = False) -> dict[str, Any]:
    """`keep`: where to copy py-spy's raw samples (for a flame graph, or another grouping).
    `gc_probe`: also time the workers' garbage collection (bench/gcprobe/sitecustomize.py)
    over the unprofiled run; its totals are written at most once a second, so over a 12 s
    run the figure is good to ~10 %."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        raise SystemExit("py-spy is not installed: `make venv` (dev dependency)")
    phase = composed.number
    lab = Lab(Settings().model_copy(update={"database_prefix": "fincore_prof",
                                            "provider_port": free_port()}))
    started = [c for c in lab.embedded() if not c.health().ok]
    lab.start_servers()
    try:
        drop_database(lab.database_url(), lab.settings.model_copy(
            update={"phase": phase}).database_name())
        lab.prepare_database(composed)
        api = lab.api(composed, port=free_port(), host="127.0.0.1", group_commit=group_commit,
                      db_pool_max=clients // 2 + 2)
        api.workers = 2  # as the bench runs it
        probe_dir = Path(tempfile.mkdtemp(prefix="fincore-gcprobe-")) if gc_probe else None
        if probe_dir is not None:
            api.env["PYTHONPATH"] = os.pathsep.join(
                [str(GC_PROBE), *filter(None, [api.env.get("PYTHONPATH")])])
            api.env["FCL_GC_PROBE_DIR"] = str(probe_dir)
        api.start()
        auth.register(api.url(), composed, lab.settings)  # phase 4 on: as the lab's driver
        try:
            accounts = seed(api.url(), 200)
            pid = api.running_pid()
            assert pid is not None
            procs = _api_processes(pid)
            workers = {p.pid for p in procs[1:] if "resource_tracker" not in " ".join(p.cmdline())}
            loadgen(api.url(), "uniform", clients, 2, accounts)  # warm up: pools, caches
            pg = postgres_processes(lab)  # after the warm-up: the pools' backends exist now
            gc_before = gc_seconds(probe_dir, workers) if probe_dir else 0.0
            before = _cpu_seconds(procs), _cpu_seconds(pg)
            plain = loadgen(api.url(), "uniform", clients, seconds, accounts)
            after = _cpu_seconds(procs), _cpu_seconds(pg)
            n = max(1, plain["requests"])
            gc_ms = ((gc_seconds(probe_dir, workers) - gc_before) * 1000 / n
                     if probe_dir else None)
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "samples.txt"
                spy_proc = subprocess.Popen(
                    [spy, "record", "--pid", str(pid), "--subprocesses", "--gil", "--rate", str(rate),
                     "--duration", str(int(seconds)), "--format", "raw", "--output", str(out)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                profiled = loadgen(api.url(), "uniform", clients, seconds, accounts)
                _, err = spy_proc.communicate(timeout=seconds + 60)
                raw = out.read_text() if out.exists() else ""
                if keep is not None:
                    keep.write_text(raw)
            if not raw:
                raise SystemExit(f"py-spy wrote no samples: {err.strip()[-500:]}")
        finally:
            api.stop()
            auth.forget(api.url())
            if probe_dir is not None:
                shutil.rmtree(probe_dir, ignore_errors=True)
    finally:
        for component in reversed(started):
            component.stop()
    layers, leaves, total = attribute(raw, workers)
    api_ms = (after[0] - before[0]) * 1000 / n
    return {
        "phase": phase, "clients": clients, "seconds": seconds, "group_commit": group_commit,
        "transfers_per_second": plain["per_second"], "p99_ms": plain["latency_ms"]["p99"],
        "statuses": plain["statuses"], "connection_errors": plain["connection_errors"],
        "api_cpu_ms_per_transfer": round(api_ms, 3),
        "postgres_cpu_ms_per_transfer": round((after[1] - before[1]) * 1000 / n, 3),
        "gc_cpu_ms_per_transfer": None if gc_ms is None else round(gc_ms, 3),
        "profiled_transfers_per_second": profiled["per_second"], "samples": total,
        "layers": [{"layer": name, "share": round(c / total, 3),
                    "ms_per_transfer": round(api_ms * c / total, 3)}
                   for name, c in layers.most_common()],
        "top_functions": [{"function": f, "share": round(c / total, 3)}
                          for f, c in leaves.most_common(15)],
    }
