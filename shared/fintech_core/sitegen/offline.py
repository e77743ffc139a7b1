"""The site works without network: mermaid is shipped with it, nothing is fetched from a CDN.

Two places would otherwise load mermaid from a CDN when a page is viewed:
- Material's bundle imports it from a CDN unless a global `mermaid` already exists. The build
  copies mermaid.min.js out of the pinned `mermaidx` wheel (a Python package that renders mermaid
  and ships the official browser build) into the docs, and mkdocs.yml loads it on every page
  (`extra_javascript`), so the global is always there first.
- nbconvert's notebook template carries its own loader that imports mermaid's ESM build from a
  CDN. `on_post_page` below, an mkdocs hook, points it at the same global instead.
A page that still names an off-machine script or stylesheet fails tests/site.
"""

from __future__ import annotations

import re
import shutil
from importlib.resources import files
from pathlib import Path
from typing import Any

# Where the script lands in the docs folder; site/mkdocs.yml lists the same path.
MERMAID_JS = "assets/javascripts/mermaid.min.js"

# nbconvert's lab template: `(await import("<cdn>/mermaid.esm.min.mjs")).default` and an
# `elkUrl` it imports when non-empty.
_NB_IMPORT = re.compile(r'\(await import\("https?://[^"]+/mermaid\.esm\.min\.mjs"\)\)\.default')
_NB_ELK = re.compile(r'const elkUrl = "https?://[^"]*";')


def copy_mermaid(docs: Path) -> Path:
    """Copy the browser build of mermaid from the installed wheel into `docs`."""
    source = files("mermaidx") / "assets" / "mermaid.js"
    dest = docs / MERMAID_JS
    dest.parent.mkdir(parents=True, exist_ok=True)
    with source.open("rb") as src, dest.open("wb") as out:
        shutil.copyfileobj(src, out)
    return dest


def local_notebook_mermaid(html: str) -> str:
    """nbconvert's mermaid loader, made to use the global that the page already loaded; the
    ELK layouts (an optional add-on, unused here) are dropped rather than fetched."""
    html = _NB_IMPORT.sub("window.mermaid", html)
    return _NB_ELK.sub('const elkUrl = "";', html)


def on_post_page(output: str, **_: Any) -> str:
    """mkdocs hook, named in the generated config (see build.py)."""
    return local_notebook_mermaid(output)
