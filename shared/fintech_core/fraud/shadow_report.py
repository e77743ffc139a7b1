"""`fcl fraud shadow-report`: what the candidate rule set would have done, next to what the live
one did, over the decisions the request path stored (fraud_decisions).

Shadow mode (FINCORE_FRAUD_SHADOW_RULES) evaluates a candidate on the same features as the live
rules and stores its verdict beside the live one, never applying it; this report is how a
candidate earns promotion: verdict counts of each, the agreement rate, and the transfers they
disagree on (with both sides' reason codes), so a reviewer can read the difference case by case.
Decisions without a shadow (shadow mode off, or the engine fell back) are not compared.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any
from uuid import UUID

import psycopg
import typer
from rich.console import Console
from rich.table import Table


@dataclass
class ShadowReport:
    compared: int = 0
    agreed: int = 0
    live: dict[str, int] = field(default_factory=dict)  # "v1/allow" -> count
    shadow: dict[str, int] = field(default_factory=dict)
    disagreements: list[dict[str, Any]] = field(default_factory=list)

    @property
    def agreement(self) -> float | None:
        """A ratio for reading, never money."""
        return self.agreed / self.compared if self.compared else None


def codes(reasons: list[dict[str, Any]] | None) -> list[str]:
    return [r["reason_code"] for r in reasons or []]


def shadow_report(database_url: str, limit: int = 50) -> ShadowReport:
    report = ShadowReport()
    with psycopg.connect(database_url) as conn:
        for ruleset, verdict, sr, sv, n, same in conn.execute(
                "SELECT ruleset, verdict, shadow_ruleset, shadow_verdict, count(*),"
                " count(*) FILTER (WHERE verdict = shadow_verdict) FROM fraud_decisions"
                " WHERE shadow_ruleset IS NOT NULL GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"):
            report.compared += n
            report.agreed += same
            report.live[f"{ruleset}/{verdict}"] = report.live.get(f"{ruleset}/{verdict}", 0) + n
            report.shadow[f"{sr}/{sv}"] = report.shadow.get(f"{sr}/{sv}", 0) + n
        for row in conn.execute(
                "SELECT d.transfer_id, t.amount, t.currency, d.verdict, d.reasons,"
                " d.shadow_verdict, d.shadow_reasons, d.decided_at FROM fraud_decisions d"
                " JOIN transfers t ON t.id = d.transfer_id WHERE d.shadow_ruleset IS NOT NULL"
                " AND d.shadow_verdict <> d.verdict ORDER BY d.decided_at DESC LIMIT %s",
                (limit,)):
            transfer_id, amount, currency, live, reasons, shadow, shadow_reasons, at = row
            report.disagreements.append({
                "transfer_id": str(UUID(str(transfer_id))), "amount": amount,
                "currency": currency, "live": live, "live_reasons": codes(reasons),
                "shadow": shadow, "shadow_reasons": codes(shadow_reasons),
                "decided_at": at.isoformat()})
    return report


def command(
    phase: Annotated[int | None, typer.Option("--phase", "-p")] = None,
    limit: Annotated[int, typer.Option(help="Disagreements listed, newest first.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Live vs shadow verdicts of the stored decisions: counts, agreement, disagreements."""
    from fintech_core.cli.context import settings_for
    from fintech_core.stack.lab import Lab

    settings = settings_for(phase)
    report = shadow_report(Lab(settings).phase_database_url(settings.phase), limit)
    if as_json:
        print(json.dumps({**asdict(report), "agreement": report.agreement}, indent=2))
        return
    console = Console(width=140)
    if not report.compared:
        console.print("no decision has a shadow verdict (set FINCORE_FRAUD_SHADOW_RULES)")
        return
    counts = Table(title=f"{report.compared} decisions compared, "
                         f"agreement {report.agreement:.1%}")
    counts.add_column("live")
    counts.add_column("n", justify="right")
    counts.add_column("shadow")
    counts.add_column("n", justify="right")
    live, shadow = sorted(report.live.items()), sorted(report.shadow.items())
    for i in range(max(len(live), len(shadow))):
        lv, sv = live[i] if i < len(live) else ("", ""), shadow[i] if i < len(shadow) else ("", "")
        counts.add_row(lv[0], str(lv[1]), sv[0], str(sv[1]))
    console.print(counts)
    table = Table(title="where they disagree")
    for col in ("transfer", "amount", "live", "live reasons", "shadow", "shadow reasons"):
        table.add_column(col)
    for d in report.disagreements:
        table.add_row(d["transfer_id"], f"{d['amount']} {d['currency']}", d["live"],
                      ", ".join(d["live_reasons"]), d["shadow"], ", ".join(d["shadow_reasons"]))
    console.print(table)
