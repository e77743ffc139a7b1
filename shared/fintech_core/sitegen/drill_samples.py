"""One recorded run per drill, shown as the terminal shows it: header, timelines, side by side.

The samples are real runs, committed as data under site/samples/drills/ (`<name>.json` is the
output of `fcl drill run <name> --against both --json`, `about.json` says when, where and with
which command they were recorded). A drill without a sample simply has no page; a sample whose
drill is gone from the registry is an error, so a renamed drill cannot leave a stale page behind.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fintech_core.drills.render import client_view
from fintech_core.drills.report import Check, SideReport
from fintech_core.drills.timeline import Event
from fintech_core.sitegen.markdown import table

ABOUT = "about.json"


@dataclass(frozen=True)
class Sample:
    name: str
    report: dict[str, Any]
    sides: list[SideReport]


def page_name(name: str) -> str:
    return f"drills/{name}.md"


def _side(raw: dict[str, Any]) -> SideReport:
    fields = {k: v for k, v in raw.items() if k not in ("outcome", "verdict", "events", "checks")}
    return SideReport(**fields, events=[Event(**e) for e in raw["events"]],
                      checks=[Check(**c) for c in raw["checks"]])


def load_samples(samples_dir: Path, registered: list[str]) -> list[Sample]:
    """The samples of registered drills, in registry order."""
    found = {p.stem: p for p in samples_dir.glob("*.json") if p.name != ABOUT}
    stale = sorted(set(found) - set(registered))
    if stale:
        raise RuntimeError(f"drill samples for drills that are not registered: {stale}; "
                           f"re-record or delete them in {samples_dir}")
    out = []
    for name in registered:
        if name in found:
            report = json.loads(found[name].read_text(encoding="utf-8"))
            out.append(Sample(name, report, [_side(s) for s in report["sides"]]))
    return out


def _text(value: object) -> str:
    """Drill text as literal Markdown: no HTML, no emphasis from a stray * or _."""
    return html.escape(str(value), quote=False).replace("*", r"\*").replace("_", r"\_")


def _lines(text: str) -> str:
    return "<br>".join(_text(line) for line in text.splitlines()) or "—"


_MARK = {True: "✓", False: "✗"}


def _side_section(side: SideReport) -> str:
    rows: list[list[object]] = [
        [f"{e.t_ms:.0f}", e.actor, f"**{_text(e.text)}**" if e.kind == "fault" else _text(e.text)]
        for e in side.events]
    checks = [f"- {_MARK[c.held] if c.binding else '•'} {_text(c.name)}: {_text(c.detail)}"
              + ("" if c.binding else " *(an observation, not an invariant)*")
              for c in side.checks]
    return "\n".join([
        f"## {side.label}: timeline\n",
        f"Skipped: {_text(side.skipped)}\n" if side.skipped else
        table(["+ms", "who", "what"], rows),
        *checks,
        f"\n**Verdict:** {_text(side.verdict)}\n",
    ])


def sample_page(sample: Sample, about: dict[str, Any]) -> str:
    r = sample.report
    command = about.get("command", "fcl drill run {name} --against both --json")
    header = "\n".join(f"- **{label}:** {_text(r[key])}" for label, key in (
        ("question", "question"), ("fault", "fault"), ("client", "client"),
        ("must hold", "invariant"))) + "\n"
    by_side = table(["", *[s.label for s in sample.sides]], [
        ["client saw", *[_lines(client_view(s)) for s in sample.sides]],
        ["ledger says", *[_text(s.ledger_text or "—") for s in sample.sides]],
        ["invariants", *["<br>".join(f"{_MARK[c.held]} {_text(c.name)}" for c in s.checks
                                     if c.binding) or "—" for s in sample.sides]],
        ["verdict", *[_text(s.verdict) for s in sample.sides]],
    ])
    return "\n".join([
        f"# Drill `{sample.name}`\n",
        f"*{_text(r['title'])}*, against phase {r['phase']}.\n",
        "!!! note \"A recorded run\"\n"
        f"    Recorded on {about.get('date', 'an unknown date')} on "
        f"{about.get('machine', 'an unknown machine')} with `{command.format(name=sample.name)}`."
        " Times are that machine's; run the drill yourself to see your own.\n",
        header,
        *[_side_section(s) for s in sample.sides],
        "## Side by side\n",
        by_side,
        f"**Lesson.** {_text(r['lesson'])}\n",
    ])


def read_about(samples_dir: Path) -> dict[str, Any]:
    path = samples_dir / ABOUT
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
