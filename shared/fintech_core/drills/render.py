"""A drill report for people: one Rich timeline per side, then both sides next to each other."""

from __future__ import annotations

import re
from collections import Counter

from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from fintech_core.drills.report import DrillReport, SideReport

ACTOR_STYLE = {"client": "cyan", "proxy": "magenta", "api": "yellow", "database": "green",
               "broker": "blue", "provider": "bright_magenta", "redis": "red", "drill": "dim"}
KIND_STYLE = {"fault": "bold red", "error": "red", "fact": "green", "note": "dim"}


def header(report: DrillReport) -> Panel:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for label, text in (("question", report.question), ("fault", report.fault),
                        ("client", report.client), ("must hold", report.invariant)):
        grid.add_row(label, text)
    # The title is the first line of the body, not the panel's subtitle: a border line is cut
    # to the terminal's width (a title of 78 characters lost its end at 80 columns), the body wraps.
    return Panel(Group(Text(report.title, style="bold"), grid),
                 title=f"[bold]drill {report.name}[/] — phase {report.phase}", title_align="left")


def timeline(side: SideReport) -> Table:
    table = Table(title=f"{side.label}: timeline", title_justify="left", box=box.SIMPLE_HEAD,
                  show_edge=False, pad_edge=False)
    table.add_column("+ms", justify="right", style="dim", no_wrap=True)
    table.add_column("who", no_wrap=True)
    table.add_column("what")
    for e in side.events:
        table.add_row(f"{e.t_ms:.0f}", Text(e.actor, style=ACTOR_STYLE.get(e.actor, "")),
                      Text(e.text, style=KIND_STYLE.get(e.kind, "")))
    return table


def checks(side: SideReport) -> Group:
    lines = []
    for c in side.checks:
        mark = "[green]✓[/]" if c.held else ("[red]✗[/]" if c.binding else "[yellow]•[/]")
        note = "" if c.binding else " [dim](observation, not an invariant)[/]"
        lines.append(Text.from_markup(f" {mark} {c.name}: [dim]{c.detail}[/]{note}"))
    lines.append(Text.from_markup(f" verdict: {verdict(side)}"))
    return Group(*lines)


def verdict(side: SideReport) -> str:
    if side.outcome == "skipped":
        return f"[yellow]{side.verdict}[/]"
    if side.must_hold:
        return f"[bold green]{side.verdict.upper()}[/]" if side.held else \
            f"[bold red]{side.verdict}[/]"
    return f"[yellow]{side.verdict}[/]"


def client_view(side: SideReport, most: int = 4) -> str:
    """Every attempt if few; otherwise how many of each outcome, in order of first sight."""
    if len(side.client_saw) <= most:
        return "\n".join(side.client_saw) or "—"
    outcomes = Counter(re.sub(r" (in|after) \d+ ms$", "", s) for s in side.client_saw)
    return "\n".join(f"{n}× {what}" for what, n in outcomes.items())


def side_by_side(report: DrillReport) -> Table:
    table = Table(title="side by side", title_justify="left", box=box.ROUNDED, show_lines=True)
    table.add_column("", style="bold", no_wrap=True)
    for side in report.sides:
        table.add_column(side.label, ratio=1)
    rows = {
        "client saw": [client_view(s) for s in report.sides],
        "ledger says": [s.ledger_text or "—" for s in report.sides],
        "invariants": ["\n".join(("✓ " if c.held else "✗ ") + c.name
                                 for c in s.checks if c.binding) or "—" for s in report.sides],
        "verdict": [verdict(s) for s in report.sides],
    }
    for label, cells in rows.items():
        table.add_row(label, *cells)
    return table


def render(report: DrillReport, console: Console) -> None:
    console.print(header(report))
    for side in report.sides:
        console.print(timeline(side))
        console.print(checks(side))
        console.print()
    console.print(side_by_side(report))
    console.print(f"[bold]lesson[/] {report.lesson}")
    if not report.ok:
        console.print("[bold red]an invariant broke where it must hold: this is a bug[/]")
