"""Pipeline composition rules, and the steps each composed phase actually runs."""

from __future__ import annotations

import asyncio

import pytest

from fintech_core.transfers.pipeline import (
    Append,
    InsertBefore,
    Pipeline,
    PipelineError,
    Replace,
    Step,
    TransferContext,
)
from fintech_core.transfers.steps import PHASE0_STEPS, phase0_pipeline
from phases import REGISTRY, composition

PHASE0_NAMES = ["lock_accounts", "check_currency", "check_status", "check_funds",
                "move_balances", "record_transfer"]


async def _noop(ctx: TransferContext) -> None:
    return None


def check(name: str) -> Step:
    return Step(name, "check", _noop)


def effect(name: str) -> Step:
    return Step(name, "effect", _noop)


BASE = Pipeline((check("a"), check("b"), effect("c")))


def test_append_adds_at_the_end() -> None:
    assert BASE.apply(Append(effect("d"))).names() == ["a", "b", "c", "d"]


def test_insert_before_places_the_step_in_front_of_its_anchor() -> None:
    assert BASE.apply(InsertBefore("b", check("x"))).names() == ["a", "x", "b", "c"]
    assert BASE.apply(InsertBefore("a", check("x"))).names() == ["x", "a", "b", "c"]


def test_replace_swaps_the_named_step_in_place() -> None:
    new_c = effect("c2")
    replaced = BASE.apply(Replace("c", new_c))
    assert replaced.names() == ["a", "b", "c2"]
    assert replaced.steps[2] is new_c


def test_apply_returns_a_new_pipeline_and_leaves_the_old_one_alone() -> None:
    BASE.apply(Append(effect("d")))
    assert BASE.names() == ["a", "b", "c"]


@pytest.mark.parametrize("change", [InsertBefore("nope", check("x")), Replace("nope", check("x"))])
def test_an_unknown_anchor_is_refused(change: InsertBefore | Replace) -> None:
    with pytest.raises(PipelineError, match="nope"):
        BASE.apply(change)


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(PipelineError, match="duplicate"):
        BASE.apply(Append(effect("a")))
    with pytest.raises(PipelineError, match="duplicate"):
        Pipeline((check("a"), check("a"))).validated()


def test_a_check_after_an_effect_is_refused() -> None:
    with pytest.raises(PipelineError, match="'late' runs after effect 'c'"):
        BASE.apply(Append(check("late")))
    with pytest.raises(PipelineError, match="runs after effect"):
        Pipeline((effect("write"), check("read"))).validated()


def test_replacing_a_check_by_an_effect_before_a_check_is_refused() -> None:
    with pytest.raises(PipelineError, match="check 'b' runs after effect 'a'"):
        BASE.apply(Replace("a", effect("a")))


def test_a_check_inserted_before_an_effect_is_allowed() -> None:
    assert BASE.apply(InsertBefore("c", check("x"))).names() == ["a", "b", "x", "c"]


def test_the_pipeline_runs_its_steps_in_order() -> None:
    ran: list[str] = []

    def recording(name: str, kind: str) -> Step:
        async def run(ctx: TransferContext) -> None:
            ran.append(name)
        return Step(name, kind, run)  # type: ignore[arg-type]

    pipeline = Pipeline((recording("one", "check"), recording("two", "effect"))).validated()
    asyncio.run(pipeline.run(None))  # type: ignore[arg-type]
    assert ran == ["one", "two"]


def test_phase0_pipeline_steps_in_order() -> None:
    assert phase0_pipeline().names() == PHASE0_NAMES
    kinds = [s.kind for s in PHASE0_STEPS]
    assert kinds == ["check"] * 4 + ["effect"] * 2


def test_composed_phase0_runs_exactly_the_phase0_steps() -> None:
    assert REGISTRY.phases[0].number == 0
    assert composition(0).pipeline.names() == PHASE0_NAMES
    assert composition(0).number == 0


@pytest.mark.parametrize("n", [-1, 99])
def test_a_phase_that_does_not_exist_is_refused(n: int) -> None:
    with pytest.raises(ValueError, match=f"phase {n} does not exist"):
        composition(n)
