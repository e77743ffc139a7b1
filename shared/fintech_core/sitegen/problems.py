"""The problem types page, generated from PROBLEM_TYPES: the same table the API serves at
/problems/{code}, so a reader who meets an unfamiliar `type` URI finds it here too."""

from __future__ import annotations

from collections.abc import Mapping

from fintech_core.api.problems import ProblemType
from fintech_core.sitegen.markdown import table


def problems_page(types: Mapping[str, ProblemType]) -> str:
    summary = table(["Code", "Status", "Title"],
                    [[f"[`{code}`](#{code})", t.status, t.title] for code, t in types.items()])
    sections = [f"## {code}\n\n**{t.status}** · {t.title}\n\n{t.description}\n\n"
                f"`type`: `/problems/{code}`\n" for code, t in types.items()]
    return "\n".join([
        "# Problem types\n",
        "Every error the API returns is an RFC 9457 problem document "
        "(`application/problem+json`) with `type`, `title`, `status` and a stable `code`. "
        "Clients and tests match on `code`, never on the wording of `title` or `detail`.\n",
        f"There are {len(types)} codes.\n",
        summary,
        *sections,
    ])
