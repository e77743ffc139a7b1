"""Which behaviour is active per phase: phase 0 has no ledger, phase 1 swaps the balance-column
steps for ledger steps, adds routes, tables and a sweeper, and replaces two routes explicitly."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from fastapi import APIRouter

from fintech_core.api.mount import composed_router
from fintech_core.bootstrap import bootstrap
from fintech_core.phase import Phase, compose
from fintech_core.settings import Settings
from phases import REGISTRY, composition

PHASE0_STEPS = ["lock_accounts", "check_currency", "check_status", "check_funds",
                "move_balances", "record_transfer"]
PHASE1_STEPS = ["lock_accounts", "check_currency", "check_status", "check_ledger",
                "post_ledger", "record_ledger_transfer"]
LEDGER_ROUTES = {"GET /ledger/verify", "POST /holds", "POST /transfers/{transfer_id}/post",
                 "POST /transfers/{transfer_id}/void", "POST /transfers/{transfer_id}/reversal",
                 "GET /accounts/{account_id}/balance", "GET /accounts/{account_id}/entries",
                 "POST /accounts/{account_id}/withdrawals"}


def routes(n: int) -> dict[str, str]:
    """'METHOD /path' -> the module serving it."""
    out = {}
    for route in composed_router(composition(n)).routes:
        for method in route.methods:  # type: ignore[attr-defined]
            out[f"{method} {route.path}"] = route.endpoint.__module__  # type: ignore[attr-defined]
    return out


def test_phase0_has_no_ledger() -> None:
    c = composition(0)
    assert c.pipeline.names() == PHASE0_STEPS
    assert "ledger" not in c.features and not c.background_tasks
    assert not set(c.extensions) & {"ledger", "ledger_reads"}
    assert not LEDGER_ROUTES & set(routes(0))
    assert routes(0)["GET /transfers/{transfer_id}"].endswith("transfers.routes")
    assert [d.name for d in c.migration_dirs()] == ["migrations"]
    assert len(c.migration_dirs()) == 1


def test_phase1_swaps_balance_steps_for_ledger_steps() -> None:
    c = composition(1)
    assert c.pipeline.names() == PHASE1_STEPS
    assert [s.kind for s in c.pipeline.steps] == ["check"] * 4 + ["effect"] * 2
    assert {"ledger", "holds", "reversals", "verify"} <= c.features
    assert {"ledger", "ledger_reads"} <= set(c.extensions)
    assert [t.__name__ for t in c.background_tasks] == ["run_sweeper"]
    served = routes(1)
    assert set(served) >= LEDGER_ROUTES
    assert served["GET /transfers/{transfer_id}"].endswith("ledger.routes.transfers")
    assert served["POST /accounts"].endswith("ledger.routes.accounts")
    assert served["POST /transfers"].endswith("transfers.routes")  # phase 0's, unchanged
    assert len(c.migration_dirs()) == 2


def test_phase2_appends_the_outbox_step_and_wraps_the_ledger() -> None:
    c = composition(2)
    assert c.pipeline.names() == [*PHASE1_STEPS, "write_outbox"]
    assert c.pipeline.steps[-1].kind == "effect"
    assert {"outbox", "relay", "idempotent-consumers", "dlq"} <= c.features
    assert c.extensions["ledger"].__name__ == "sql_outbox_ledger"
    assert "outbox" in c.extensions and "outbox" not in composition(1).extensions
    # Events add processes, and two read-model routes; every earlier route is served unchanged.
    assert routes(2) == {**routes(1),
                         "GET /accounts/{account_id}/activity": "fintech_core.events.routes",
                         "GET /transfers/{transfer_id}/story": "fintech_core.events.routes"}
    assert "event_reads" in c.extensions
    assert len(c.migration_dirs()) == 3


def test_phase1_migration_chains_after_phase0() -> None:
    revisions = {}
    for phase in REGISTRY.phases:
        for path in sorted(phase.migrations.glob("*.py")):
            tree = ast.parse(path.read_text())
            values = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign)
                      for t in n.targets if isinstance(t, ast.Name)
                      and isinstance(n.value, ast.Constant)}
            revisions[values["revision"]] = values.get("down_revision")
    assert revisions == {"p0_0001": None, "p1_0001": "p0_0001", "p2_0001": "p1_0001",
                         "p2_0002": "p2_0001", "p3_0001": "p2_0002",
                         "p4_0001": "p3_0001", "p4_0002": "p4_0001", "p5_0001": "p4_0002"}


def test_the_openapi_documents_each_route_once_and_the_replacement_wins() -> None:
    from fintech_core.api.app import build_app

    settings = Settings(phase=1)
    app = build_app(bootstrap(settings, composition(1), uow_factory=object()))  # type: ignore[arg-type]
    spec = app.openapi()
    get = spec["paths"]["/transfers/{transfer_id}"]["get"]
    schema = get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert schema.endswith("/TransferDetailOut")
    opened = spec["paths"]["/accounts"]["post"]["requestBody"]["content"]["application/json"]
    assert opened["schema"]["$ref"].endswith("/LedgerAccountIn")
    for path in ("/holds", "/transfers/{transfer_id}/post", "/accounts/{account_id}/withdrawals"):
        params = spec["paths"][path]["post"]["parameters"]
        assert any(p["name"] == "Idempotency-Key" and p["required"] for p in params), path


ENTRY = REGISTRY.entrypoints


def _phase(n: int, path: str, replaces: frozenset[str] = frozenset()) -> Phase:
    def router() -> APIRouter:
        r = APIRouter()
        r.add_api_route(path, lambda: n, methods=["GET"])
        return r
    return Phase(n, f"p{n}", "t", Path("."), routers=(router,), replaces_routes=replaces)


def test_an_undeclared_route_clash_is_an_error() -> None:
    with pytest.raises(ValueError, match="defined twice"):
        composed_router(compose([_phase(0, "/x"), _phase(1, "/x")], ENTRY))


def test_a_stale_replacement_is_an_error() -> None:
    with pytest.raises(ValueError, match="no earlier phase defines"):
        composed_router(compose([_phase(0, "/x"), _phase(1, "/y", frozenset({"GET /z"}))], ENTRY))


def test_a_declared_replacement_takes_the_place_of_the_original() -> None:
    router = composed_router(compose([_phase(0, "/x"), _phase(1, "/x", frozenset({"GET /x"}))], ENTRY))
    assert len(router.routes) == 1
    assert router.routes[0].endpoint() == 1  # type: ignore[attr-defined]
