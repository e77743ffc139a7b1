"""Every command the docs print works as pasted from a fresh shell in the repository root.

The commands are found in the Markdown files, the notebooks, and the CLI's help texts and
messages (tests/unit/docscan.py), then resolved against the real things: the Typer app's command
tree (through click), the drill and lab registries, and the Makefile's targets.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.core
import typer.main

from fintech_core.cli.main import build_cli
from phases import REGISTRY
from tests.unit import docscan
from tests.unit.docscan import ROOT, Invocation, Snippet

# The click command tree Typer builds (typer 0.29 ships its own click: reached through typer's
# public names, TyperGroup for groups and TyperException, the base of click's usage errors).
app = build_cli(REGISTRY)  # the CLI `./fcl` runs: the core's commands and every phase's
CLI = typer.main.get_command(app)
DRILL_NAMES = {d.name for d in REGISTRY.composition(REGISTRY.latest()).drills}
LAB_NUMBERS = {str(spec.number) for spec in REGISTRY.composition(REGISTRY.latest()).labs}


def is_placeholder(word: str) -> bool:
    """`NAME`, `N`, `<name>`, `[--phase N]`, `...`, `{number}`: a slot for the reader to fill."""
    return (word.strip("[]").startswith(("<", "{")) or word in ("...", "…")
            or bool(re.fullmatch(r"\[?[A-Z][A-Z0-9_]*\]?", word)) or word.startswith("["))


def option_takes_value(cmd: Any, name: str) -> bool:
    for param in cmd.params:
        if param.param_type_name == "option" and name in (*param.opts, *param.secondary_opts):
            return not (param.is_flag or param.count)
    return False


def check_cli(inv: Invocation, inline: bool = False) -> list[str]:
    """What is wrong with one invocation of the CLI; [] when it resolves. Prose may name a
    command without its arguments (`the ./fcl lab check table`); a code block may not."""
    if inv.form == "fcl":
        return ["bare `fcl` is not on PATH in a fresh shell: print `./fcl`"]
    ctx = typer.Context(CLI, info_name="fcl")
    cmd: Any = CLI
    path: list[str] = []
    args = [a.rstrip(":,.") if inv.in_comment else a for a in inv.args]
    while isinstance(cmd, typer.core.TyperGroup) and args and not args[0].startswith("-"):
        if is_placeholder(args[0]):
            return []
        sub = cmd.get_command(ctx, args[0])
        if sub is None:
            known = ", ".join(cmd.list_commands(ctx))
            return [f"`fcl {' '.join([*path, args[0]])}`: no such command (known: {known})"]
        cmd, path, args = sub, [*path, args.pop(0)], args
    known_opts = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts)} | {"--help"}
    problems, positional, skip = [], [], False
    for word in args:
        if skip:
            skip = False
            continue
        if word.lstrip("[").startswith("-"):
            name = word.strip("[]").split("=", 1)[0]
            if name not in known_opts:
                problems.append(f"`fcl {' '.join(path)}` has no option {name}")
            skip = "=" not in word and option_takes_value(cmd, name)
        else:
            positional.append(word)
    first = positional[0] if positional else None
    if first is not None and not is_placeholder(first):
        if path == ["drill", "run"] and first not in DRILL_NAMES:
            problems.append(f"no drill named {first!r} (drills: {', '.join(sorted(DRILL_NAMES))})")
        if path[:1] == ["lab"] and path[1:] in (["start"], ["check"]) and first not in LAB_NUMBERS:
            problems.append(f"no lab {first!r} (labs: {', '.join(sorted(LAB_NUMBERS))})")
    pasteable = not inv.in_comment and not any(is_placeholder(a) for a in inv.args)
    naming_a_group = isinstance(cmd, typer.core.TyperGroup) and not args  # `./fcl drill`
    if not problems and pasteable and not naming_a_group and "--help" not in args:
        try:  # the whole line as click parses it: argument types, choices, extra arguments
            cmd.make_context(" ".join(["fcl", *path]), list(args), parent=ctx)
        except typer.TyperException as exc:
            if inline and type(exc).__name__ == "MissingParameter":
                return problems
            problems.append(f"`fcl {' '.join([*path, *args])}`: {exc.format_message()}")
    return problems


def makefile_targets(makefile: Path = ROOT / "Makefile") -> set[str]:
    targets = set()
    for line in makefile.read_text().splitlines():
        m = re.match(r"([^\t#=:][^=:]*?)\s*:(?![=:])", line)
        if m:
            targets |= {t for t in m.group(1).split() if "$" not in t and not t.startswith(".")}
    return targets


def check_make(argv: list[str], targets: set[str]) -> list[str]:
    wanted, skip = [], False
    for word in argv[1:]:
        if skip or word.startswith("-") or "=" in word or is_placeholder(word):
            skip = word in ("-C", "-f", "-j")
            continue
        wanted.append(word)
    return [f"`make {t}`: no such target in the Makefile" for t in wanted if t not in targets]


def problems_in(snippet: Snippet, targets: set[str]) -> list[str]:
    found = [f"stale CLI name in {snippet.text!r}: the CLI is `./fcl`"
             for _ in docscan.STALE.finditer(snippet.text)][:1]
    if snippet.kind == "code":
        return found
    for inv in docscan.cli_invocations(snippet.text):
        if not (inv.form in ("fcl", "fincore") and not inv.args):  # a name alone, as in prose
            found += check_cli(inv, inline=snippet.kind == "inline")
    for argv in docscan.simple_commands(snippet.text):
        if argv[0] == "make" and snippet.kind in ("shell", "inline"):
            found += check_make(argv, targets)
        if argv[0] in docscan.VENV_ONLY and snippet.kind == "shell":
            found.append(f"`{argv[0]}` is not on PATH in a fresh shell: print `.venv/bin/{argv[0]}`")
    return found


def scan(snippets: list[Snippet], root: Path = ROOT) -> list[str]:
    targets = makefile_targets(root / "Makefile")
    return [f"{s.where}: {p}" for s in snippets for p in problems_in(s, targets)]


def help_snippets() -> list[Snippet]:
    """Every help text of the CLI (commands, options, arguments), as prose with inline code."""
    out: list[Snippet] = []

    def walk(cmd: Any, path: list[str], ctx: Any) -> None:
        texts = [cmd.help or "", *(getattr(p, "help", None) or "" for p in cmd.params)]
        for text in texts:
            out.extend(docscan.markdown_snippets(text, f"fcl {' '.join(path)} --help"))
        if isinstance(cmd, typer.core.TyperGroup):
            for name in cmd.list_commands(ctx):
                walk(cmd.get_command(ctx, name), [*path, name], ctx)

    walk(CLI, [], typer.Context(CLI, info_name="fcl"))
    return out


def test_every_command_in_the_docs_resolves() -> None:
    snippets = docscan.all_snippets()
    invoked = {tuple(i.args[:2]) for s in snippets for i in docscan.cli_invocations(s.text)}
    assert ("drill", "list") in invoked and ("lab", "check") in invoked, "the scan found nothing"
    problems = scan(snippets)
    assert not problems, "\n".join(problems)


def test_every_command_in_help_texts_and_messages_resolves() -> None:
    snippets = help_snippets() + docscan.source_snippets()
    assert any("./fcl" in s.text for s in snippets if s.kind == "inline")
    problems = scan(snippets)
    assert not problems, "\n".join(problems)


FENCE = "```"


@pytest.mark.parametrize(("markdown", "expected"), [
    (f"{FENCE}bash\nfincore drill list\n{FENCE}", "stale CLI name"),
    ("Run `.venv/bin/fincore status`.", "stale CLI name"),
    (f"{FENCE}bash\nmake up   # or: fincore up --phase 1\n{FENCE}", "stale CLI name"),
    (f"{FENCE}bash\nfcl drill list\n{FENCE}", "bare `fcl`"),
    ("`./fcl drills list`", "no such command"),
    ("`./fcl events dlq purge`", "no such command"),
    (f"{FENCE}bash\n./fcl drill run response-lost --agains both\n{FENCE}", "no option --agains"),
    (f"{FENCE}bash\n./fcl up --phase one\n{FENCE}", "valid integer"),
    (f"{FENCE}bash\n./fcl drill run race-for-last-funds --json\n{FENCE}", "no drill named"),
    ("`./fcl lab start 9`", "no lab '9'"),
    (f"{FENCE}sh\n./fcl lab check\n{FENCE}", "Missing argument"),
    (f"{FENCE}bash\nmake drills PHASE=1\n{FENCE}", "`make drills`: no such target"),
    (f"{FENCE}bash\nFINCORE_X=1 pytest tests/unit\n{FENCE}", "`pytest` is not on PATH"),
    ("    fincore drill run db-restart --json", "stale CLI name"),
])
def test_the_scan_catches(markdown: str, expected: str) -> None:
    problems = scan(docscan.markdown_snippets(markdown, "doc.md"))
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize("markdown", [
    f"{FENCE}bash\n./fcl drill run last-funds --against both --json  # for machines\n{FENCE}",
    f"{FENCE}bash\nmake up PHASE=1                    # ./fcl up --phase 1: servers\n{FENCE}",
    "`./fcl drill run NAME [--phase N] [--against both|naive|phase]`, `./fcl lab check N`",
    "the `./fcl lab check` table; `./fcl up -p 2`; the `fcl` CLI; database prefix `fincore`",
    f"{FENCE}\nAPI process (uvicorn + FastAPI)\n{FENCE}",
    f"{FENCE}bash\n.venv/bin/pytest tests/unit -q && ./fcl events replay --from 1 --to 5\n{FENCE}",
])
def test_the_scan_passes_what_works(markdown: str) -> None:
    assert scan(docscan.markdown_snippets(markdown, "doc.md")) == []


def test_the_command_lab_start_prints_is_one_line_that_resolves(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    dest = tmp_path / "a-workspace-path-long-enough-to-wrap-at-eighty-columns" / "lab-1"
    result = CliRunner().invoke(app, ["lab", "start", "1", "--path", str(dest)])
    assert result.exit_code == 0, result.output
    printed = [line.strip() for line in result.output.splitlines() if "./fcl" in line]
    assert printed == [f"./fcl lab check 1 --path {dest}"], result.output
    assert scan(docscan.markdown_snippets(f"`{printed[0]}`", "lab start output")) == []
