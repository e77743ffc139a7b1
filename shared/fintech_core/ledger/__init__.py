"""The double-entry ledger (phase 1): money moves only as balanced, immutable journal entries.

Layers, as in the rest of the core: `model`, `entries`, `holds`, `policy` are pure (no I/O, unit
tested directly); `ports` names what the use cases need from storage; `planning`, `steps`,
`service` and `sweeper` are use cases over those ports. The SQL adapters are in `adapters/`, the
HTTP routes in `routes/`, and the in-memory fakes in `fintech_core.testing`. What phase 1 adds
to the core is declared in phases/phase01_ledger/__init__.py.
"""
