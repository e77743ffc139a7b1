"""The benchmarks page: the newest results/*.json, shown as it is; else the committed reference
run; else an honest placeholder.

results/ is never committed (numbers belong to the machine that produced them). So that a fresh
clone still shows what a run looks like, one reference run is committed under
site/samples/bench/: `bench.json` and its plots exactly as `fcl bench` wrote them, and
`about.json` saying on which machine, when, under what load and with which command.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fintech_core.sitegen.markdown import table

REFERENCE_PLOTS = ("throughput_latency.png", "events_lag.png")
PLACEHOLDER = (
    "\n!!! note \"No benchmark run on this machine yet\"\n"
    "    Run `make bench` (quick profile, a few minutes): it measures transfers/s against "
    "pgbench on the same PostgreSQL and writes `results/<stamp>/bench.json`; the next site "
    "build shows the newest one here.\n")


def _bench_table(data: dict[str, Any]) -> str:
    """The `fcl bench` format (BenchRun): one row per workload and client count."""
    rows = [[r["workload"], r["clients"], r["api"]["per_second"], round(r["pgbench"]["tps"] or 0),
             r["ratio"], r["api"]["latency_ms"]["p50"], r["api"]["latency_ms"]["p99"],
             "ok" if r["checks"]["ok"] else "FAIL"] for r in data["rows"]]
    head = (f"Profile `{data['profile']}`, phase {data['phase']}, {data['api_workers']} API "
            f"workers; load generator ceiling {data['client_ceiling_rps']} req/s.\n\n")
    main = head + table(["workload", "clients", "transfers/s", "pgbench tps", "ratio",
                         "p50 ms", "p99 ms", "checks"], rows)
    return main + _phase_costs(data.get("phase_costs") or [])


def _phase_costs(costs: list[dict[str, Any]]) -> str:
    """The same workload on phases 0..N, one transaction per request and group commit."""
    if not costs:
        return ""
    rows = [[r["phase"], r["mode"], r["workload"], r["clients"], r["api"]["per_second"],
             round(r["pgbench"]["tps"] or 0), r["ratio"], round(r.get("yardstick_tps") or 0),
             r.get("vs_yardstick") or "-", r["api"]["latency_ms"]["p50"],
             r["api"]["latency_ms"]["p99"],
             (r.get("cpu_ms_per_request") or {}).get("total", "-"), r.get("rate_limited", "-"),
             "ok" if r["checks"]["ok"] else "FAIL"]
            for r in costs]
    return ("\n\n**What each phase costs on the request path** (same run; no relay or consumers "
            "running; `x yardstick`: against the phase's own statements driven by pgbench)\n\n"
            + table(["phase", "mode", "workload", "clients", "transfers/s", "pgbench tps",
                     "ratio", "yardstick tps", "x yardstick", "p50 ms", "p99 ms",
                     "CPU ms/req", "429", "checks"], rows))


def latest_result(results_dir: Path) -> Path | None:
    files = sorted(results_dir.glob("**/*.json"), key=lambda p: p.stat().st_mtime)
    return files[-1] if files else None


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


def _summary(data: Any) -> str:
    """A table when the JSON is flat enough to be one; otherwise only the raw JSON below."""
    if isinstance(data, dict) and isinstance(data.get("rows"), list) and "profile" in data:
        return _bench_table(data)
    if isinstance(data, dict) and all(_scalar(v) for v in data.values()):
        return table(["Field", "Value"], [[f"`{k}`", v] for k, v in data.items()])
    rows = data if isinstance(data, list) else data.get("results") if isinstance(data, dict) \
        else None
    if isinstance(rows, list) and rows and all(isinstance(r, dict) for r in rows):
        header = list(dict.fromkeys(k for r in rows for k, v in r.items() if _scalar(v)))
        if header:
            return table(header, [[r.get(k, "") for k in header] for r in rows])
    return ""


def reference_section(reference_dir: Path, plots_dir: str, write_up: str | None = None) -> str:
    """The committed reference run, with where it comes from; plots under `plots_dir`, and a
    link to the performance write-up's page when the site has one."""
    data = json.loads((reference_dir / "bench.json").read_text(encoding="utf-8"))
    about = json.loads((reference_dir / "about.json").read_text(encoding="utf-8"))
    plots = [f"![{name}]({plots_dir}/{name})\n" for name in REFERENCE_PLOTS
             if (reference_dir / name).is_file()]
    return "\n".join([
        "!!! note \"A reference run, not this machine's\"\n"
        f"    No benchmark has been run here yet, so this is the run committed with the site: "
        f"`{about['command']}` on {about['date']}, on {about['machine']}. {about['conditions']} "
        "Run `make bench` for your own numbers; the next site build shows them instead."
        + (f" How to read them, and what limits them: the [performance write-up]({write_up})."
           if write_up else "") + "\n",
        _summary(data),
        *plots,
        "## Raw result\n",
        f"```json\n{json.dumps(data, indent=2)}\n```\n",
    ])


def benchmarks_page(results_dir: Path, reference_dir: Path | None = None,
                    plots_dir: str = "", write_up: str | None = None) -> str:
    head = "# Benchmarks\n"
    latest = latest_result(results_dir)
    if latest is None:
        if reference_dir is not None and (reference_dir / "bench.json").is_file():
            return head + "\n" + reference_section(reference_dir, plots_dir, write_up)
        return head + PLACEHOLDER
    data = json.loads(latest.read_text(encoding="utf-8"))
    when = datetime.fromtimestamp(latest.stat().st_mtime, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    pretty = json.dumps(data, indent=2, sort_keys=False)
    return "\n".join([
        head,
        f"Newest result: `results/{latest.relative_to(results_dir).as_posix()}`, written "
        f"{when}. Numbers depend on the machine that produced them; compare runs from one "
        "machine only.\n",
        _summary(data),
        "## Raw result\n",
        f"```json\n{pretty}\n```\n",
    ])
