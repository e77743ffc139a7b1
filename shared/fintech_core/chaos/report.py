"""Figures of a run, the Rich summary and the JSON results."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from fintech_core.chaos.checker import Violation
from fintech_core.chaos.oplog import Record
from fintech_core.chaos.workload import settles

SHOWN_PER_KIND = 5  # examples of each violation kind in the results; the count is exact


def figures(records: Iterable[Record]) -> dict[str, Any]:
    attempts, snapshots, finals = 0, 0, {}
    outcomes: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    faults: Counter[str] = Counter()
    run: Record = {}
    end: Record = {}
    tokens: Record | None = None
    for r in records:
        kind = r["kind"]
        if kind == "attempt":
            attempts += 1
            outcomes[r["outcome"]] += 1
            if r["outcome"] == "response":
                statuses[f"{r['status']}{' replayed' if r.get('replayed') else ''}"] += 1
                if settles(r["status"], r.get("code")):
                    finals[r["key"]] = r["status"]
        elif kind == "snapshot":
            snapshots += 1
        elif kind == "fault":
            faults[r["fault"]] += 1
        elif kind == "run":
            run = r
        elif kind == "end":
            end = r
        elif kind == "tokens":
            tokens = {k: v for k, v in r.items() if k != "kind"}
    operations = end.get("operations", len(finals))
    return {
        "target": run.get("target"), "phase": run.get("phase"), "accounts": len(run.get("accounts", [])),
        "operations": operations, "attempts": attempts, "retries": attempts - operations,
        "timeouts": outcomes["timeout"], "transport_errors": outcomes["transport-error"],
        "settled_201": sum(1 for s in finals.values() if s == 201),
        "settled_4xx": sum(1 for s in finals.values() if s != 201),
        "responses": dict(sorted(statuses.items())), "snapshots": snapshots,
        "faults": dict(sorted(faults.items())), "faults_skipped": run.get("faults_skipped", {}),
        "duration_s": round(end.get("duration_s", 0.0), 1),
        # Phase 4: the writers' access tokens (TTL, grants, expiries crossed, 401 retries).
        **({"tokens": tokens} if tokens is not None else {}),
    }


def results(figs: dict[str, Any], violations: list[Violation], hooks: list[Any],
            config: dict[str, Any]) -> dict[str, Any]:
    by_kind = Counter(v.kind for v in violations)
    examples: dict[str, list[str]] = {}
    for v in violations:
        if len(examples.setdefault(v.kind, [])) < SHOWN_PER_KIND:
            examples[v.kind].append(v.detail)
    figs = {**figs, **{h.name: h.figures for h in hooks if getattr(h, "figures", None)}}
    return {"ok": not violations, "figures": figs, "violations": len(violations),
            "violations_by_kind": dict(by_kind), "examples": examples,
            "hooks": [vars(h) for h in hooks], "config": config}


def save(path: Path, res: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(res, option=orjson.OPT_INDENT_2))


def render(res: dict[str, Any], console: Console) -> None:
    f = res["figures"]
    table = Table(title=f"chaos run: {f['target']} target, phase {f['phase']}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name in ("operations", "attempts", "retries", "timeouts", "transport_errors",
                 "settled_201", "settled_4xx", "snapshots", "duration_s"):
        table.add_row(name.replace("_", " "), str(f[name]))
    table.add_row("responses", ", ".join(f"{k}: {v}" for k, v in f["responses"].items()))
    table.add_row("faults injected", ", ".join(f"{k}: {v}" for k, v in f["faults"].items()) or "none")
    if "tokens" in f:
        t = f["tokens"]
        table.add_row("access tokens", f"TTL {t['ttl_s']} s, {t['expiries_crossed']} expiries "
                                       f"crossed, {t['retried_after_401']} retried after 401")
    for kind, why in f["faults_skipped"].items():
        table.add_row(f"[dim]skipped {kind}[/]", f"[dim]{why}[/]")
    for h in res["hooks"]:
        table.add_row(f"hook {h['name']}", f"{h['status']}: {h['detail']}")
        for name, value in h.get("figures", {}).items():
            table.add_row(f"  {name.replace('_', ' ')}", str(value))
    colour = "green" if res["ok"] else "red"
    table.add_row(f"[{colour}]violations[/]", f"[{colour}]{res['violations']}[/]")
    console.print(table)
    for kind, examples in res["examples"].items():
        console.print(f"[red]{kind}[/] x{res['violations_by_kind'][kind]}: {examples[0]}")
