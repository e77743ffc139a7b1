"""A backtest as rich tables (the CLI) and as a PNG (matplotlib, Agg: no display needed)."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from fintech_core.fraud.backtest import Backtest, Tally


def _money(minor: int) -> str:
    return f"{minor / 100:,.2f}"  # display only: the figures themselves stay integer minor units


def _row(t: Tally) -> list[str]:
    return [t.name, str(t.fired), str(t.true_pos), str(t.false_pos), f"{t.precision:.0%}",
            f"{t.recall:.0%}", f"{_money(t.money_caught)} / {_money(t.fraud_money)}"]


def tally_table(title: str, tallies: tuple[Tally, ...], per_pattern: bool = False) -> Table:
    """Per pattern, every flagged attempt is fraud by construction: recall and money only."""
    table = Table(title=title)
    cols = ["name", "fired", "true +", "false +", "precision", "recall", "fraud money caught / all"]
    keep = [0, 1, 5, 6] if per_pattern else list(range(len(cols)))
    for i in keep:
        table.add_column(cols[i].replace("fired", "caught" if per_pattern else "fired"),
                         justify="left" if i == 0 else "right")
    for t in tallies:
        row = _row(t)
        table.add_row(*(row[i] for i in keep))
    return table


def overall_table(results: list[Backtest]) -> Table:
    table = Table(title="overall")
    table.add_column("")
    for b in results:
        table.add_column(b.ruleset, justify="right")
    lines = [
        ("attempts", lambda b: str(len(b.rows))),
        ("fraud attempts", lambda b: str(sum(r.item.is_fraud for r in b.rows))),
        ("flagged (review or block)", lambda b: str(b.overall.fired)),
        ("precision", lambda b: f"{b.overall.precision:.1%}"),
        ("recall", lambda b: f"{b.overall.recall:.1%}"),
        ("review rate", lambda b: f"{b.review_rate:.2%}"),
        ("block rate", lambda b: f"{b.block_rate:.2%}"),
        ("normal customers flagged", lambda b: f"{b.normal_customers_flagged} of "
                                               f"{b.normal_customers}"),
        ("fraud money caught", lambda b: f"{_money(b.overall.money_caught)} of "
                                         f"{_money(b.overall.fraud_money)}"),
        ("evaluate, µs per attempt", lambda b: f"{b.eval_us:.1f}"),
    ]
    for label, cell in lines:
        table.add_row(label, *(cell(b) for b in results))
    return table


def tables(results: list[Backtest]) -> list[Table]:
    out = []
    for b in results:
        out += [tally_table(f"{b.ruleset}: per rule", b.rules),
                tally_table(f"{b.ruleset}: per fraud pattern", b.patterns, per_pattern=True)]
    return [*out, overall_table(results)]


def plot(results: list[Backtest], path: Path) -> Path:
    """Precision and recall per rule (one panel per rule set) and per pattern, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(results), 2, figsize=(12, 3.6 * len(results)), squeeze=False)
    for (ax_rules, ax_patterns), b in zip(axes, results, strict=True):
        for ax, tallies, what in ((ax_rules, b.rules, "rule"),
                                  (ax_patterns, b.patterns, "pattern")):
            names = [t.name for t in tallies]
            ys = range(len(names))
            # Per pattern every flagged attempt is fraud (precision 1 by construction): the
            # share of the pattern's money caught says more.
            first = ([t.precision for t in tallies], "precision") if what == "rule" else (
                [t.money_caught / t.fraud_money if t.fraud_money else 0.0 for t in tallies],
                "money caught")
            ax.barh([y - 0.2 for y in ys], first[0], 0.4, label=first[1])
            ax.barh([y + 0.2 for y in ys], [t.recall for t in tallies], 0.4, label="recall")
            ax.set_yticks(list(ys), names, fontsize=8)
            ax.set_xlim(0, 1)
            ax.set_title(f"{b.ruleset} per {what}: precision {b.overall.precision:.0%}, "
                         f"recall {b.overall.recall:.0%}", fontsize=9)
            ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
