"""Labs written ahead of the phase that will declare them: proved from their first commit.

A lab becomes visible to `./fcl lab` only through a Phase's `labs` (explicit over discovered).
Lab 4 (signed webhooks) belongs to phase 3, whose manifest is written on another branch; until
it lands, the lab tests take the lab from here, so its starter, README, docs commands and proof
run in CI all the same. Once a phase declares it, `labs()` checks that the declaration is this
exact spec (so the manifest line cannot drift from the proved one); then delete the entry.
"""

from __future__ import annotations

from fintech_core.labs.registry import LabSpec
from phases import composition

PENDING: tuple[LabSpec, ...] = (
    LabSpec(4, "signed-webhooks", "Verify a signed webhook and apply it once",
            "lab04_signed_webhooks", "signed_webhooks.py", minutes=50),
)


def labs() -> tuple[LabSpec, ...]:
    """The composed phases' labs, then the pending ones that no phase declares yet."""
    declared = composition().labs
    by_number = {spec.number: spec for spec in declared}
    for spec in PENDING:
        if spec.number in by_number and by_number[spec.number] != spec:
            raise AssertionError(f"lab {spec.number} is declared as {by_number[spec.number]} "
                                 f"but proved as {spec} (tests/pending_labs.py)")
    return (*declared, *(s for s in PENDING if s.number not in by_number))
