"""Turn a BenchRun into a terminal table, a JSON file and PNG plots under results/."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.table import Table

from fintech_core.bench.runner import BenchRun


def table(run: BenchRun) -> Table:
    t = Table(title=f"fcl bench: profile {run.profile}, phase {run.phase}, "
                    f"{run.api_workers} API workers (client ceiling {run.client_ceiling_rps} req/s)")
    for col in ("workload", "clients", "req/s", "pgbench tps", "ratio", "yardstick tps",
                "x yardstick", "p50 ms", "p99 ms", "errors", "checks"):
        t.add_column(col, justify="right")
    for r in run.rows:
        api = r["api"]
        t.add_row(r["workload"], str(r["clients"]), f"{api['per_second']:.0f}",
                  f"{r['pgbench']['tps']:.0f}", f"{r['ratio']:.2f}", *_yardstick(r),
                  f"{api['latency_ms']['p50']:.1f}", f"{api['latency_ms']['p99']:.1f}",
                  str(errors(api)), "[green]ok[/]" if r["checks"]["ok"] else "[red]FAIL[/]")
    return t


def errors(api: dict[str, Any]) -> int:
    return sum(v for k, v in api["statuses"].items() if k not in ("200", "201")) + int(
        api["connection_errors"])


def _yardstick(r: dict[str, Any]) -> tuple[str, str]:
    ys = r.get("yardstick_tps")
    return ("-", "-") if not ys else (f"{ys:.0f}", f"{r['vs_yardstick']:.2f}")


def phase_costs_table(run: BenchRun) -> Table | None:
    """The same workload per phase and request-path mode (bench/phase_costs.py)."""
    if not run.phase_costs:
        return None
    t = Table(title="what each phase costs on the request path (no relay or consumers running)")
    for col in ("phase", "mode", "workload", "clients", "transfers/s", "pgbench tps", "ratio",
                "yardstick tps", "x yardstick", "p50 ms", "p99 ms", "CPU ms/req", "429",
                "errors", "checks"):
        t.add_column(col, justify="right")
    for r in run.phase_costs:
        api = r["api"]
        t.add_row(str(r["phase"]), r["mode"], r["workload"], str(r["clients"]),
                  f"{api['per_second']:.0f}", f"{r['pgbench']['tps']:.0f}",
                  f"{r['ratio']:.2f}", *_yardstick(r), f"{api['latency_ms']['p50']:.1f}",
                  f"{api['latency_ms']['p99']:.1f}", cpu_cell(r), str(r.get("rate_limited", 0)),
                  str(errors(api)), "[green]ok[/]" if r["checks"]["ok"] else "[red]FAIL[/]")
    return t


def cpu_cell(r: dict[str, Any]) -> str:
    """CPU ms per request, all processes (API + PostgreSQL + Redis); '-' in older results."""
    cpu = r.get("cpu_ms_per_request")
    return "-" if not cpu else f"{cpu['total']:.2f}"


def events_table(run: BenchRun) -> Table | None:
    """Phase 2: the half-load window (offered vs achieved, API latency from scheduled time, lag
    per consumer) and the relay's rate on a backlog."""
    ev = run.events
    if ev is None:
        return None
    api, relay = ev["api"], ev["relay"]
    rate = relay["events_per_second"]
    t = Table(title=f"events: {ev['offered_per_second']:.0f} transfers/s offered (half of max "
                    f"{ev['max_load']['per_second']:.0f}), {ev['events']} events; relay "
                    f"{'-' if rate is None else f'{rate:.0f}'} events/s on a backlog of "
                    f"{relay['events']}")
    for col in ("consumer", "offered/s", "achieved/s", "API p99 ms", "lag p50 ms", "lag p95 ms",
                "lag p99 ms", "lag max ms", "checks"):
        t.add_column(col, justify="right")
    ok = "[green]ok[/]" if ev["checks"]["ok"] else \
        "[red]FAIL: " + ", ".join(k for k, v in ev["checks"].items() if not v and k != "ok") + "[/]"
    rows = [*ev["lag_ms"].items(), ("(published)", ev["publish_lag_ms"])]
    for consumer, lag in rows:
        t.add_row(consumer, f"{ev['offered_per_second']:.0f}", f"{api['per_second']:.0f}",
                  f"{api['latency_ms']['p99']:.1f}", f"{lag['p50']:.0f}", f"{lag['p95']:.0f}",
                  f"{lag['p99']:.0f}", f"{lag['max']:.0f}", ok)
    t.caption = ("(published): commit to the relay marking the row, after the broker's acks "
                 "(a consumer may already have it)")
    return t


def as_json(run: BenchRun) -> dict[str, Any]:
    """bench.json: the run, with each bench part's figures at the top level under its name
    ("events" for phase 2's), where the site and earlier results expect them."""
    data = asdict(run)
    return {**{k: v for k, v in data.items() if k != "parts"}, **data["parts"]}


def write(run: BenchRun, out_dir: Path) -> Path:
    """Writes results/<stamp>/ (bench.json + plots) and refreshes results/latest/."""
    stamp = run.started_at.replace(":", "").replace("-", "")[:15]
    targets = [out_dir / stamp, out_dir / "latest"]
    for target in targets:
        target.mkdir(parents=True, exist_ok=True)
        (target / "bench.json").write_text(json.dumps(as_json(run), indent=2))
        plot(run, target)
        if run.events is not None:
            plot_events(run.events, target)
    return targets[0]


def plot(run: BenchRun, target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    workloads = sorted({r["workload"] for r in run.rows})
    clients = sorted({r["clients"] for r in run.rows})
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for i, w in enumerate(workloads):
        colour = f"C{i}"
        rows = [r for r in run.rows if r["workload"] == w]
        xs = [r["clients"] for r in rows]
        axes[0].plot(xs, [r["api"]["per_second"] for r in rows], marker="o", color=colour,
                     label=f"API transfers/s ({w})")
        axes[0].plot(xs, [r["pgbench"]["tps"] for r in rows], linestyle="--", marker="x",
                     color=colour, label=f"pgbench {rows[0]['pgbench']['script']} tps")
        axes[1].plot(xs, [r["api"]["latency_ms"]["p99"] for r in rows], marker="o", color=colour,
                     label=f"p99 {w}")
        axes[1].plot(xs, [r["api"]["latency_ms"]["p50"] for r in rows], linestyle=":",
                     color=colour, label=f"p50 {w}")
    axes[0].set(ylabel="per second", title="throughput: API vs pgbench, same PostgreSQL")
    axes[1].set(ylabel="ms", title="API latency")
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_xticks(clients, [str(c) for c in clients])
        ax.set_xlabel("concurrent clients")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(target / "throughput_latency.png", dpi=110)
    plt.close(fig)


def plot_events(ev: dict[str, Any], target: Path) -> None:
    """Lag percentiles per consumer at half load, next to the API's own latency."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    qs = ("p50", "p95", "p99", "max")
    series = {f"lag: {c}": lag for c, lag in ev["lag_ms"].items()}
    series["commit to published (relay)"] = ev["publish_lag_ms"]
    series["API latency"] = ev["api"]["latency_ms"]
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(series)
    for i, (name, values) in enumerate(series.items()):
        ax.bar([x + i * width for x in range(len(qs))], [values[q] for q in qs], width,
               label=name, color=f"C{i}")
    ax.set_xticks([x + width * (len(series) - 1) / 2 for x in range(len(qs))], list(qs))
    ax.set_yscale("log")
    rate = ev["relay"]["events_per_second"]
    ax.set(ylabel="ms (log)", title=f"commit-to-consumer lag at {ev['offered_per_second']:.0f} "
           f"transfers/s (relay on a backlog: {'-' if rate is None else f'{rate:.0f}'} events/s)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(target / "events_lag.png", dpi=110)
    plt.close(fig)
