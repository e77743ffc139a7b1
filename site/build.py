"""Build the site: generate the pages from the repository, then run mkdocs.

    python site/build.py                 generate into site/, then `mkdocs build --strict`
    python site/build.py --serve         generate, then serve on http://127.0.0.1:8001
    python site/build.py --generate-only generate only (the tests run mkdocs themselves)

The generator lives in fintech_core.sitegen so the tests can import it. Re-run after editing a
README or a notebook: `mkdocs serve` reloads generated pages, it does not regenerate them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from fintech_core.sitegen.build import Sources, generate
from fintech_core.sitegen.phases import MissingReadme
from phases import REGISTRY

SITE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SITE, help="where docs/ and the config go")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--serve", action="store_true")
    mode.add_argument("--generate-only", action="store_true")
    parser.add_argument("--addr", default="127.0.0.1:8001")
    args = parser.parse_args()
    try:
        config = generate(args.out, Sources(REGISTRY))
    except MissingReadme as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"generated {config}")
    if args.generate_only:
        return 0
    mkdocs = [sys.executable, "-m", "mkdocs"]
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")  # an upstream notice, not about this site
    if args.serve:
        return subprocess.call([*mkdocs, "serve", "--strict", "-f", str(config), "-a", args.addr])
    return subprocess.call([*mkdocs, "build", "--strict", "-f", str(config)])


if __name__ == "__main__":
    sys.exit(main())
