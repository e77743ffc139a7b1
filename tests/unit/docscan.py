"""Where the docs print commands: every piece of code a reader may paste, with where it came from.

A *snippet* is one line of a shell code block (or an indented CLI line), one inline code span, or
the text of a notebook code cell or output. Snippets keep their file and line so that a failure
names the place to fix. Parsing is deliberately plain (no Markdown library): fenced blocks,
indented CLI lines and backtick spans are all the docs use.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC_GLOBS = ("README.md", "phases/*/README.md", "labs/**/*.md", "site/pages/*.md",
             "shared/**/README.md")
NOTEBOOK_GLOBS = ("phases/*/*.ipynb", "notebooks/*.ipynb")
SHELL_FENCES = {"bash", "sh", "shell", "console", "zsh"}
CLI_FORMS = ("./fcl", ".venv/bin/fcl", "fcl")
# Installed only in .venv: a fresh shell does not have them on PATH.
VENV_ONLY = {"pytest", "jupyter", "ruff", "mypy", "mkdocs", "alembic", "uvicorn", "schemathesis"}
# The old CLI name as a command: `fincore up`, `.venv/bin/fincore status`, `$(BIN)/fincore down`,
# an exec-form `["fincore", ...]`; not `fincore_p2`, `fincore-api` or the database prefix alone.
STALE = re.compile(r"(?<![\w.-])fincore(?=[ \t]+[a-z])|\[\s*\"fincore\"")
SEPARATORS = re.compile(r"&&|\|\||[;|()]|\$\(")


@dataclass(frozen=True)
class Snippet:
    where: str  # path:line
    text: str
    kind: str  # "shell" (a line of a shell block), "inline", "indented", "code" (other code)


def doc_files(root: Path = ROOT) -> list[Path]:
    found = {p for pattern in DOC_GLOBS for p in root.glob(pattern) if ".venv" not in p.parts}
    return sorted(found)


def notebook_files(root: Path = ROOT) -> list[Path]:
    return sorted(p for pattern in NOTEBOOK_GLOBS for p in root.glob(pattern))


def markdown_snippets(text: str, where: str) -> list[Snippet]:
    out: list[Snippet] = []
    prose: list[tuple[int, str]] = []
    fence: str | None = None
    lang = ""
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        opener = re.match(r"(```+|~~~+)\s*([\w+-]*)", stripped)
        if fence is None and opener:
            fence, lang = opener.group(1), opener.group(2).lower()
            continue
        if fence is not None:
            if stripped.startswith(fence):
                fence = None
            else:
                # An unlabelled block is often a diagram: its lines count as commands only when
                # they start with one.
                starts_command = stripped.split(" ", 1)[0] in (*CLI_FORMS, "fincore", "make")
                kind = "shell" if lang in SHELL_FENCES or (not lang and starts_command) else "code"
                out.append(Snippet(f"{where}:{number}", stripped, kind))
            continue
        if line.startswith("    ") and stripped.split(" ", 1)[0] in (*CLI_FORMS, "fincore"):
            out.append(Snippet(f"{where}:{number}", stripped, "indented"))
        prose.append((number, line))
    # Inline spans may wrap across lines; join the prose, then map offsets back to lines.
    joined = "\n".join(line for _, line in prose)
    starts = [0]
    for _, line in prose:
        starts.append(starts[-1] + len(line) + 1)
    for m in re.finditer(r"(?<!`)`([^`]+)`(?!`)", joined):
        index = next(i for i in range(len(prose)) if starts[i + 1] > m.start())
        out.append(Snippet(f"{where}:{prose[index][0]}", " ".join(m.group(1).split()), "inline"))
    return out


def notebook_snippets(path: Path, where: str) -> list[Snippet]:
    out: list[Snippet] = []
    for i, cell in enumerate(json.loads(path.read_text())["cells"]):
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            out += markdown_snippets(source, f"{where} cell {i}")
        elif cell["cell_type"] == "code":
            texts = [source] + ["".join(o.get("text", "")) for o in cell.get("outputs", [])]
            out += [Snippet(f"{where} cell {i}", t, "code") for t in texts if t]
    return out


def all_snippets(root: Path = ROOT) -> list[Snippet]:
    out: list[Snippet] = []
    for path in doc_files(root):
        out += markdown_snippets(path.read_text(), str(path.relative_to(root)))
    for path in notebook_files(root):
        out += notebook_snippets(path, str(path.relative_to(root)))
    return out


def words(text: str) -> list[str]:
    try:
        return shlex.split(text, comments=False)
    except ValueError:  # an unbalanced quote in prose: plain words are good enough
        return text.split()


def simple_commands(text: str) -> list[list[str]]:
    """The words of each simple command in a shell line, comment dropped, `VAR=x` prefixes
    skipped: the first word is the program."""
    code = re.split(r"(?:^|\s)#", text, maxsplit=1)[0]
    commands = []
    for part in SEPARATORS.split(code):
        argv = words(part)
        while argv and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=\S*", argv[0]):
            argv = argv[1:]
        if argv:
            commands.append(argv)
    return commands


@dataclass(frozen=True)
class Invocation:
    form: str  # ./fcl, .venv/bin/fcl, a bare fcl, or the old fincore
    args: list[str]  # up to the next shell separator or comment
    in_comment: bool  # `make up  # or: ./fcl up --phase 1`: prose may follow the arguments


def cli_invocations(text: str) -> list[Invocation]:
    """Every invocation of the CLI in a piece of shell code or an inline span, comments
    included."""
    comment = re.search(r"(?:^|\s)#", text)
    found = []
    # The old name is resolved too, so that a stale line also reports what else is wrong in it.
    cli = r"(?<![\w./-])(\./fcl|\.venv/bin/fcl|fcl|(?:\.venv/bin/)?fincore(?=[ \t]+[a-z]))"
    for m in re.finditer(cli + r"(?=\s|$)", text):
        rest = SEPARATORS.split(re.split(r"\s#", text[m.end():], maxsplit=1)[0], maxsplit=1)[0]
        found.append(Invocation(m.group(1), words(rest),
                                comment is not None and m.start() > comment.start()))
    return found


def source_snippets(root: Path = ROOT) -> list[Snippet]:
    """The shipped code: each file whole (for the old name), and every `./fcl ...` span in its
    messages, help texts and docstrings (bare `fcl` there names the program, as prose does)."""
    files = [p for d in ("shared", "phases", "labs") for p in (root / d).rglob("*.py")]
    files += [root / name for name in ("Makefile", "Dockerfile", "compose.yaml")]
    out: list[Snippet] = []
    for path in sorted(files):
        text, where = path.read_text(), str(path.relative_to(root))
        out.append(Snippet(where, text, "code"))
        for m in re.finditer(r"`(\./fcl[^`\n]*)`", text):
            line = text.count("\n", 0, m.start()) + 1
            out.append(Snippet(f"{where}:{line}", m.group(1), "inline"))
    return out
