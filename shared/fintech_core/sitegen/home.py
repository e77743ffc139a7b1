"""The home page: what the lab is, the eight concerns behind one transfer, and the phase map
with an honest status taken from the phase registry (never typed by hand)."""

from __future__ import annotations

from collections.abc import Sequence

from fintech_core.sitegen.markdown import table
from fintech_core.sitegen.phases import PhaseDoc

# The whole plan, so the map on the wall is complete; status comes from the registry.
ROADMAP: tuple[tuple[str, str, str], ...] = (
    ("0", "Modular monolith", "Accounts as a hexagonal module, an OpenAPI contract, "
     "Idempotency-Key on the first endpoint that moves money"),
    ("1", "Ledger and money", "Integer minor units, double-entry postings, invariants the "
     "database enforces"),
    ("2", "Events", "Transactional outbox, a Kafka-protocol broker, idempotent consumers, "
     "dead-letter queue"),
    ("3", "Payments", "A provider adapter, signed webhooks, a small saga"),
    ("4", "Auth and limits", "JWT, roles, rate limits in Redis"),
    ("5", "Fraud", "Rules first, models only when rules stop being enough"),
    ("6", "Platform", "Notifications, observability, receipts in object storage"),
    ("7+", "Gateway, KYC lite, deployment", "Stretch goals, described honestly"),
)

# Article 1's eight concerns behind "Send", and where this lab deals with each.
CONCERNS: tuple[tuple[str, str, str, str, str], ...] = (
    ("1", "API gateway", "Who gets in, and how fast (TLS, rate limits, WAF)", "sync", "7+"),
    ("2", "Auth", "May this caller do this (tokens, scopes, MFA)", "sync", "4"),
    ("3", "Accounts", "Is the account open, funded, within its limits", "sync", "0"),
    ("4", "Transfers and ledger", "Does money move without breaking an invariant",
     "sync, one DB transaction", "0, 1"),
    ("5", "Fraud", "Does this look wrong", "sync or async", "5"),
    ("6", "Outbox and bus", "Who else must hear about it", "async", "2"),
    ("7", "Notifications", "How the customer is told", "async", "6"),
    ("8", "Observability", "Can we reconstruct what happened later", "async / sidecar", "6"),
)

INTRO = """\
# Fintech Core Lab

You tap *Send*, the spinner turns, the request times out. Did the money move? This lab answers
with running code: a small fintech core rebuilt one phase at a time, where every phase comes
with a notebook and drills that replay its failures (lost responses, retries, crashes, races,
duplicate deliveries) against a **real** PostgreSQL, Redis and Kafka-protocol broker that run
on your laptop without Docker.

It accompanies an article series about rebuilding a banking core slowly, and it is meant for
readers of that series, for interview preparation, and for workshops (see the
[instructor guide](instructor.md)).

```bash
make up      # PostgreSQL, Redis, the broker and the API of the latest phase (Ctrl-C stops)
make test    # every test, against real servers the test session starts itself
```
"""


def _phase_status(number: str, built: dict[int, PhaseDoc]) -> tuple[str, str]:
    if not number.isdigit() or int(number) not in built:
        return "planned", "-"
    doc = built[int(number)]
    page = doc.page
    notebook = f"[notebook]({doc.notebook_page})" if doc.notebook else "notebook to come"
    return "built", f"[article]({page}) · {notebook}"


def home_page(phases: Sequence[PhaseDoc]) -> str:
    built = {p.number: p for p in phases}
    rows: list[list[object]] = []
    for number, title, idea in ROADMAP:
        status, links = _phase_status(number, built)
        rows.append([number, title, idea, f"**{status}**" if status == "built" else status,
                     links])
    return "\n".join([
        INTRO,
        "## What happens behind one POST /transfers\n",
        "Four gestures for the customer; eight concerns for the system. The first four sit on "
        "the path the customer waits for; the rest can wait, and mixing the two is the "
        "original sin of the naive version (its receipt email was sent inside the transfer).\n",
        table(["Step", "Concern", "The question it answers", "Path", "Phase"],
              [list[object](c) for c in CONCERNS]),
        "## The phases\n",
        "The full map stays on the wall; only the bricks marked *built* exist in the code. A "
        "phase is listed as built when it is in the phase registry (`phases/__init__.py`).\n",
        table(["Phase", "Topic", "Idea", "Status", "Read"], rows),
    ])
