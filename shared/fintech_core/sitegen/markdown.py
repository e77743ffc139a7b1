"""Markdown helpers: table cells, and rewriting relative links of copied READMEs.

A README is written to be read on a repository host, so it links to source files (`../x.py`).
The site has no file browser, and mkdocs --strict rejects links to files it does not contain, so
such a link becomes its text plus the repository path in code. Links to pages that the site does
contain (another phase, a lab, the notebook) are kept, pointed at the page's new place.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

_LINK = re.compile(
    r"(?P<bang>!?)\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)(?P<title>\s+\"[^\"]*\")?\)")
_FENCE = re.compile(r"^\s*(```|~~~)")
_EXTERNAL = ("http://", "https://", "mailto:", "#")


def cell(value: object) -> str:
    """One Markdown table cell: pipes escaped, newlines folded."""
    return " ".join(str(value).split()).replace("|", "\\|")


def table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def rewrite_links(text: str, source_dir: Path, page_dir: Path, repo_root: Path,
                  pages: Mapping[Path, Path], assets: dict[Path, Path]) -> str:
    """Rewrite the relative links of a Markdown file moved from `source_dir` (in the repo) to
    `page_dir` (in the docs folder).

    `pages` maps repository files to docs files that the site publishes. Images next to the
    source are recorded in `assets` (source -> docs destination) for the caller to copy.
    """

    def replace(match: re.Match[str]) -> str:
        target = match["target"]
        if target.startswith(_EXTERNAL):
            return match[0]
        path_part, _, anchor = target.partition("#")
        source = (source_dir / path_part).resolve()
        suffix = f"#{anchor}" if anchor else ""
        if source in pages:
            rel = os.path.relpath(pages[source], page_dir)
            return f"{match['bang']}[{match['text']}]({rel}{suffix}{match['title'] or ''})"
        if match["bang"] and source.is_file() and source.is_relative_to(source_dir):
            dest = page_dir / source.relative_to(source_dir)
            assets[source] = dest
            return match[0]
        try:
            shown = source.relative_to(repo_root).as_posix()
        except ValueError:
            shown = target
        return f"{match['text']} (`{shown}`)" if match["text"] else f"`{shown}`"

    out, in_fence = [], False
    for line in text.splitlines(keepends=True):
        if _FENCE.match(line):
            in_fence = not in_fence
        out.append(line if in_fence else _LINK.sub(replace, line))
    return "".join(out)
