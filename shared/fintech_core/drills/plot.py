"""A drill timeline as a picture: one swimlane per actor, one panel per side, time in ms.

matplotlib is imported inside the function: it is a dev/notebook dependency, and the CLI and
the API never need it.
"""

from __future__ import annotations

from typing import Any

from fintech_core.drills.report import DrillReport

LANES = ("client", "proxy", "api", "provider", "database", "broker", "redis", "drill")
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
                             figsize=(12, 1.0 + 0.8 * len(used) * len(report.sides)))
    times = [e.t_ms for s in report.sides for e in s.events] or [0.0]
    per_char = (max(times) - min(times) or 1.0) * 0.0058  # ms one 7-point character spans
    for ax, side in zip(axes[:, 0], report.sides, strict=True):
        crowded = len(side.events) > label_limit
        ends: dict[tuple[str, int], float] = {}  # (lane, level) -> where its last label ends
        for e in side.events:
            y = used.index(e.actor)
            marker, colour = STYLE.get(e.kind, ("o", "black"))
            ax.scatter(e.t_ms, y, marker=marker, color=colour, s=70, zorder=3)
            if crowded and e.kind not in ("fault", "fact"):
                continue
            text = e.text if len(e.text) <= 40 else e.text[:38] + "…"
            level = next((lv for lv in range(3) if ends.get((e.actor, lv), -1e18) < e.t_ms), 0)
            ends[(e.actor, level)] = e.t_ms + per_char * (len(text) + 2)
            ax.annotate(text, (e.t_ms, y), xytext=(4, (7, -13, 17)[level]),
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
