"""Generate a lab's starter from its reference solution, so the two can never drift apart.

In a solution file, each part the student writes sits between two marker lines:

    # --- solution begin
    # hint: one or more hint lines, kept in the starter
    ...reference code...
    # --- solution end

The starter keeps everything outside the markers byte for byte and replaces each region with its
hint lines and a `raise NotImplementedError`, at the marker's indentation. Regions cannot nest,
and an unclosed region is an error rather than a silently truncated starter.
"""

from __future__ import annotations

from pathlib import Path

BEGIN = "# --- solution begin"
END = "# --- solution end"
HINT = "# hint:"

HEADER = (
    "# GENERATED from the lab's solution/ by `./fcl lab generate`: do not edit in the "
    "repository.\n# Start lab {n} as its README says (that copies this file to your workspace) and "
    "edit your copy.\n"
)


class MarkerError(ValueError):
    pass


def generate(solution: str, lab_number: int) -> str:
    out: list[str] = [HEADER.format(n=lab_number)]
    region: list[str] | None = None  # the hint lines of the open region, or None outside one
    indent = ""
    regions = 0
    for lineno, line in enumerate(solution.splitlines(keepends=True), start=1):
        stripped = line.strip()
        if stripped.startswith(BEGIN):
            if region is not None:
                raise MarkerError(f"line {lineno}: nested '{BEGIN}'")
            region, indent = [], line[: len(line) - len(line.lstrip())]
        elif stripped.startswith(END):
            if region is None:
                raise MarkerError(f"line {lineno}: '{END}' without a begin")
            out.append(f"{indent}# TODO (lab {lab_number}): write this part.\n")
            out.extend(f"{indent}{hint}\n" for hint in region)
            out.append(f'{indent}raise NotImplementedError("lab {lab_number}: this part is '
                       f'yours to write (see the hint above)")\n')
            region = None
            regions += 1
        elif region is not None:
            if stripped.startswith(HINT):
                region.append(stripped)
        else:
            out.append(line)
    if region is not None:
        raise MarkerError(f"'{BEGIN}' is never closed")
    if regions == 0:
        raise MarkerError("the solution has no solution regions: the starter would be the answer")
    return "".join(out)


def generate_file(solution: Path, lab_number: int) -> str:
    return generate(solution.read_text(encoding="utf-8"), lab_number)
