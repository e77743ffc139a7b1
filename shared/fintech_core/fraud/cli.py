"""`./fcl fraud ...`: the rule sets, offline. Nothing here needs a database or Redis, so the app
imports anywhere (fraud-sync's `shadow-report` joins the same app and opens what it needs).

    ./fcl fraud rules --rules v1                       the rules, their conditions and scores
    ./fcl fraud backtest --rules v1 --against v2       precision/recall per rule, pattern, overall
    ./fcl fraud backtest --rules v1 --compare          ... and a model at the same flag rate
    ./fcl fraud shadow-report                          live vs shadow on the stored decisions
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from fintech_core.fraud import shadow_report

if TYPE_CHECKING:
    from fintech_core.fraud.rules import RuleSet

app = typer.Typer(help="Phase 5's fraud rules: list them, backtest them.", no_args_is_help=True)
console = Console(width=140)

Rules = Annotated[str, typer.Option("--rules", help="Rule set name (fraud/rulesets/NAME.yaml).")]


def _load(name: str) -> RuleSet:
    # Imported here, not at the top: the phase-5 manifest imports this app, so every `./fcl`
    # call, worker and API would otherwise pay rule-engine's import (its parser is built then:
    # 0.9 s measured with `python -X importtime -c "import phases.entrypoints"`).
    from fintech_core.fraud.rules import RuleSetInvalid, load_ruleset

    try:
        return load_ruleset(name)
    except RuleSetInvalid as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc


@app.command()
def rules(name: Rules = "v1") -> None:
    """List the rules of a rule set: id, version, verdict, score, reason code and condition."""
    rs = _load(name)
    table = Table(title=f"{rs.name}: review at {rs.review_score}, block at {rs.block_score}")
    for col in ("id", "v", "verdict", "score", "reason", "when"):
        table.add_column(col)
    for r in rs.rules:
        s = r.spec
        table.add_row(s.id, str(s.version), s.verdict.value, str(s.score), s.reason, s.when)
    console.print(table)


@app.command()
def backtest(
    name: Rules = "v1",
    against: Annotated[str | None, typer.Option(
        "--against", help="A second rule set, side by side (e.g. the shadow candidate).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic history.")] = 7,
    customers: Annotated[int, typer.Option(help="Normal customers in the history.")] = 300,
    days: Annotated[int, typer.Option(help="Days of history (at least 3).")] = 7,
    plot: Annotated[Path | None, typer.Option(help="Also write a PNG chart here.")] = None,
    compare: Annotated[bool, typer.Option(
        "--compare", help="Also train models on the same features (needs scikit-learn, a dev "
                          "dependency).")] = False,
) -> None:
    """Replay a labelled synthetic history: precision and recall per rule, per pattern, overall."""
    from fintech_core.fraud import backtest as bt
    from fintech_core.fraud import report, synth

    sets = [_load(name)] + ([_load(against)] if against else [])
    if days < 3:
        raise typer.BadParameter("at least 3 days (fraud is injected after two days of history)")
    history = synth.generate(seed=seed, customers=customers, days=days)
    results = [bt.run(history, rs) for rs in sets]
    for table in report.tables(results):
        console.print(table)
    if compare:
        from fintech_core.fraud.compare_model import compare as compare_models

        table = Table(title="rules before ML: the later 40% of the history, same flag budget")
        for col in ("", "flagged", "precision", "recall"):
            table.add_column(col, justify="right")
        for s in compare_models(results[0]):
            table.add_row(s.name, str(s.flagged), f"{s.precision:.1%}", f"{s.recall:.1%}")
        console.print(table)
    if plot is not None:
        console.print(f"chart: {report.plot(results, plot)}")


# fraud-sync's command: the stored decisions, live vs shadow (it opens the phase's database).
app.command("shadow-report")(shadow_report.command)
