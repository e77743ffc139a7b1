"""Lab pages: the labs index (hand-written guide plus a table from the lab registry) and one
page per lab, its README followed by the schema it runs against."""

from __future__ import annotations

from collections.abc import Sequence

from fintech_core.labs.criteria import criteria
from fintech_core.labs.registry import LabSpec, PlannedLab
from fintech_core.sitegen.markdown import table


def lab_page_name(spec: LabSpec) -> str:
    return f"labs/lab-{spec.number:02d}.md"


def labs_table(labs: Sequence[LabSpec], planned: Sequence[PlannedLab]) -> str:
    rows: list[list[object]] = [
        [spec.number, f"[{spec.title}](lab-{spec.number:02d}.md)", f"{spec.minutes} min",
         len(criteria(spec.tests_dir)), "ready"] for spec in labs]
    rows += [[p.number, p.title, "-", "-", f"planned: needs {p.depends_on}"] for p in planned]
    return "## The labs\n\n" + table(["Lab", "Title", "Time", "Criteria", "Status"], rows)


def lab_schema_section(spec: LabSpec) -> str:
    schema = spec.folder / "schema.sql"
    if not schema.is_file():
        return ""
    return f"\n## The schema\n\n```sql\n{schema.read_text(encoding='utf-8').strip()}\n```\n"
