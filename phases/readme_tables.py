"""Regenerate (or check) the "what this phase adds" table in every registered phase's README.

    python -m phases.readme_tables           rewrite the tables in place (`make phase-tables`)
    python -m phases.readme_tables --check   exit 1 and name the READMEs whose table is stale

It lives here, above the core, because only this package knows the registry; the table itself
is rendered by fintech_core.sitegen.phase_table from each phase's `Phase` object.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fintech_core.phase import Registry
from fintech_core.sitegen.phase_table import phase_table, with_table
from phases import REGISTRY


def expected(registry: Registry) -> dict[Path, str]:
    """Each registered phase's README as it should read, tables regenerated."""
    out = {}
    for i, phase in enumerate(registry.phases):
        readme = phase.folder / "README.md"
        out[readme] = with_table(readme.read_text(encoding="utf-8"),
                                 phase_table(phase, registry.phases[:i]))
    return out


def main(argv: list[str] | None = None, registry: Registry = REGISTRY) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    stale = {path: text for path, text in expected(registry).items()
             if path.read_text(encoding="utf-8") != text}
    for path, text in stale.items():
        if args.check:
            print(f"stale table: {path} (run `make phase-tables`)", file=sys.stderr)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"rewrote {path}")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
