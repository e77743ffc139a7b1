"""Turn a BenchRun into a terminal table, a JSON file and PNG plots under results/."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from rich.table import Table

from fintech_core.bench.runner import BenchRun


def table(run: BenchRun) -> Table:
    t = Table(title=f"fincore bench: profile {run.profile}, phase {run.phase}, "
                    f"{run.api_workers} API workers (client ceiling {run.client_ceiling_rps} req/s)")
    for col in ("workload", "clients", "req/s", "pgbench tps", "ratio", "p50 ms", "p99 ms",
                "errors", "checks"):
        t.add_column(col, justify="right")
    for r in run.rows:
        api = r["api"]
        errors = sum(v for k, v in api["statuses"].items() if k not in ("200", "201"))
        errors += api["connection_errors"]
        t.add_row(r["workload"], str(r["clients"]), f"{api['per_second']:.0f}",
                  f"{r['pgbench']['tps']:.0f}", f"{r['ratio']:.2f}",
                  f"{api['latency_ms']['p50']:.1f}", f"{api['latency_ms']['p99']:.1f}",
                  str(errors), "[green]ok[/]" if r["checks"]["ok"] else "[red]FAIL[/]")
    return t


def write(run: BenchRun, out_dir: Path) -> Path:
    """Writes results/<stamp>/ (bench.json + plots) and refreshes results/latest/."""
    stamp = run.started_at.replace(":", "").replace("-", "")[:15]
    targets = [out_dir / stamp, out_dir / "latest"]
    for target in targets:
        target.mkdir(parents=True, exist_ok=True)
        (target / "bench.json").write_text(json.dumps(asdict(run), indent=2))
        plot(run, target)
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
