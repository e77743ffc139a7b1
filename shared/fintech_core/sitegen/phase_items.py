"""One renderer per kind of contribution a `Phase` declares: each returns the table cell's items
(Markdown), in declaration order, and an empty list when the phase declares none of that kind.

Every renderer takes the phase and the phases before it (`earlier`), so those that need the
context (what a route or extension replaces, the pipeline a phase results in) have it.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fintech_core.api.mount import route_keys
from fintech_core.phase import Phase
from fintech_core.settings import REPO_ROOT
from fintech_core.transfers.pipeline import Append, Change, InsertBefore, Pipeline, Replace

CLI = "./fcl"  # every CliEntry is a sub-command of the `fcl` script, run as the docs print it


def _code(text: object) -> str:
    return f"`{text}`"


def _qualname(obj: Any) -> str:
    """Where a contribution is implemented, as a reader would look it up (module.name)."""
    target = obj if hasattr(obj, "__qualname__") else type(obj)
    module = getattr(target, "__module__", "") or ""
    return f"{module.removeprefix('fintech_core.')}.{target.__qualname__}".lstrip(".")


def _shown(path: Path) -> str:
    path = path.resolve()
    return path.relative_to(REPO_ROOT).as_posix() if path.is_relative_to(REPO_ROOT) else path.name


def migrations(phase: Phase, earlier: Sequence[Phase] = ()) -> list[str]:
    if not phase.migrations.is_dir():
        return []
    items = []
    for script in sorted(phase.migrations.glob("*.py")):
        if script.name == "__init__.py":
            continue
        module = ast.parse(script.read_text(encoding="utf-8"))
        notes = ["+ `.sql`"] if script.with_suffix(".sql").is_file() else []
        after = _assigned(module, "down_revision")
        notes += [f"after {_code(after)}"] if isinstance(after, str) else []
        doc = (ast.get_docstring(module) or "").strip()
        items.append(_code(script.name) + (f" ({', '.join(notes)})" if notes else "")
                     + (f": {doc.splitlines()[0]}" if doc else ""))
    return items


def _assigned(module: ast.Module, name: str) -> object:
    """A literal module-level assignment (an Alembic revision's `down_revision`), unexecuted."""
    for node in module.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id == name):
            try:
                return ast.literal_eval(node.value)
            except ValueError:
                return None
    return None


def _route_keys(phase: Phase) -> list[str]:
    return [key for make in phase.routers for route in make().routes for key in route_keys(route)]


def routes(phase: Phase, earlier: Sequence[Phase] = ()) -> list[str]:
    items = []
    for key in _route_keys(phase):
        if key in phase.replaces_routes:
            owners = [p.number for p in earlier if key in _route_keys(p)]
            whose = f"phase {owners[-1]}'s" if owners else "an earlier phase's"
            items.append(f"{_code(key)} (replaces {whose})")
        else:
            items.append(_code(key))
    return items


def _change(change: Change) -> str:
    step = change.step
    what = f"{_code(step.name)} ({step.kind}, {_code(_qualname(step.run))})"
    if isinstance(change, Append):
        return f"Append {what}"
    if isinstance(change, InsertBefore):
        return f"InsertBefore {_code(change.anchor)}: {what}"
    assert isinstance(change, Replace)
    return f"Replace {_code(change.name)} → {what}"


def pipeline(phase: Phase, earlier: Sequence[Phase] = ()) -> list[str]:
    if not phase.transfer_steps:
        return []
    composed = Pipeline()
    for change in (c for p in (*earlier, phase) for c in p.transfer_steps):
        composed = composed.apply(change)
    result = "Resulting pipeline: " + " → ".join(_code(n) for n in composed.names())
    return [*(_change(c) for c in phase.transfer_steps), result]


def extensions(phase: Phase, earlier: Sequence[Phase] = ()) -> list[str]:
    items = []
    for name, factory in phase.extensions.items():
        before = [p for p in earlier if name in p.extensions]
        replaced = (f" (replaces phase {before[-1].number}'s "
                    f"{_code(_qualname(before[-1].extensions[name]))})" if before else "")
        items.append(f"{_code(name)}: {_code(_qualname(factory))}{replaced}")
    return items


def tables(phase: Phase, earlier: Sequence[Phase] = ()) -> list[str]:
    return [f"{_code(getattr(cls, '__tablename__', '?'))}: {_code(_qualname(cls))}"
            for cls in phase.tables]


def _command_name(info: Any) -> str:
    # typer's own rule for a command registered without a name
    return info.name or info.callback.__name__.lower().replace("_", "-")


def _subcommands(group: Any, prefix: str = "") -> list[str]:
    """The commands of a typer.Typer, read by duck typing (typer stays out of this module)."""
    names = [prefix + _command_name(c) for c in getattr(group, "registered_commands", ())]
    for sub in getattr(group, "registered_groups", ()):
        names += _subcommands(sub.typer_instance, f"{prefix}{sub.name} ")
    return names


def cli(phase: Phase, earlier: Sequence[Phase] = ()) -> list[str]:
    items = []
    for entry in phase.cli:
        commands = _subcommands(entry.target)
        suffix = f" ({', '.join(commands)})" if commands else ""
        items.append(f"{_code(f'{CLI} {entry.name}')}{suffix}")
    return items


def background_tasks(phase: Phase, earlier: Sequence[Phase] = ()) -> list[str]:
    return [_code(_qualname(task)) for task in phase.background_tasks]


def workers(phase: Phase, earlier: Sequence[Phase] = ()) -> list[str]:
    return [f"{_code(w.name)}: runs {_code(' '.join((CLI, *w.command)))}" for w in phase.workers]


def problems(phase: Phase, earlier: Sequence[Phase] = ()) -> list[str]:
    return [f"{_code(code)} ({problem.status})" for code, problem in phase.problems.items()]


def drills(phase: Phase, earlier: Sequence[Phase] = ()) -> list[str]:
    return [_code(drill.name) for drill in phase.drills]


def chaos_hooks(phase: Phase, earlier: Sequence[Phase] = ()) -> list[str]:
    return [_code(_qualname(hook)) for hook in phase.chaos_hooks]


def chaos_faults(phase: Phase, earlier: Sequence[Phase] = ()) -> list[str]:
    return [f"{_code(fault.name)} ({_code(_qualname(type(fault)))})" for fault in phase.chaos_faults]


def bench_parts(phase: Phase, earlier: Sequence[Phase] = ()) -> list[str]:
    named = [(getattr(part, "name", None), _code(_qualname(part))) for part in phase.bench_parts]
    return [f"{_code(name)} ({where})" if isinstance(name, str) else where
            for name, where in named]


def site_pages(phase: Phase, earlier: Sequence[Phase] = ()) -> list[str]:
    return [f"{page.title} ({_code(_shown(page.source))})" for page in phase.site_pages]


def labs(phase: Phase, earlier: Sequence[Phase] = ()) -> list[str]:
    return [f"Lab {lab.number}, {lab.title} ({_code('labs/' + lab.folder_name)}, "
            f"{lab.minutes} min)" for lab in phase.labs]
