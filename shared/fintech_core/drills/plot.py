"""A drill timeline as a picture: one swimlane per actor, one panel per side, time in ms.

matplotlib is imported inside the function: it is a dev/notebook dependency, and the CLI and
the API never need it.
"""

from __future__ import annotations

from typing import Any

from fintech_core.drills.report import DrillReport

LANES = ("client", "proxy", "api", "database", "broker", "drill")
STYLE = {  # kind -> (marker, colour)
    "request": (">", "tab:blue"), "answer": ("o", "tab:green"), "error": ("X", "tab:red"),
    "fault": ("*", "tab:red"), "fact": ("s", "tab:olive"), "note": (".", "tab:gray"),
}


def plot_timeline(report: DrillReport, label_limit: int = 28) -> Any:
    """Return a matplotlib Figure. Events are labelled unless a side has more than
    `label_limit` of them (a burst), where only faults and database facts are."""
    import matplotlib.pyplot as plt

    used = [lane for lane in LANES if any(e.actor == lane for s in report.sides for e in s.events)]
    fig, axes = plt.subplots(len(report.sides), 1, squeeze=False, sharex=True,
                             figsize=(12, 0.9 + 0.55 * len(used) * len(report.sides)))
    for ax, side in zip(axes[:, 0], report.sides, strict=True):
        crowded = len(side.events) > label_limit
        for n, e in enumerate(side.events):
            y = used.index(e.actor)
            marker, colour = STYLE.get(e.kind, ("o", "black"))
            ax.scatter(e.t_ms, y, marker=marker, color=colour, s=70, zorder=3)
            if not crowded or e.kind in ("fault", "fact"):
                text = e.text if len(e.text) <= 38 else e.text[:36] + "…"
                ax.annotate(text, (e.t_ms, y), xytext=(4, 7 if n % 2 else -11),
                            textcoords="offset points", fontsize=7, color=colour)
        ax.set_yticks(range(len(used)), used)
        ax.set_ylim(-0.7, len(used) - 0.3)
        ax.invert_yaxis()
        ax.grid(axis="x", alpha=0.3)
        ax.set_title(f"{side.label} — {side.verdict}", loc="left", fontsize=9,
                     color="tab:red" if side.outcome == "broken" else "tab:green")
    axes[-1, 0].set_xlabel("ms since the side started")
    fig.suptitle(f"drill {report.name}: {report.title}", fontsize=10)
    fig.tight_layout()
    return fig
