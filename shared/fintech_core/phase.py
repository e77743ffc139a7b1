"""Phases as data: what each increment adds to the core app, and how increments compose.

A `Phase` lists, explicitly, the migrations, HTTP routers, transfer-pipeline changes, unit-of-work
extensions, background tasks and feature names it contributes. The service for phase N is the
composition of phases 0..N in order; nothing is discovered by import side effects, and no phase
copies another. A phase that serves an earlier phase's route differently (phase 1's richer
GET /transfers/{transfer_id}) names it in `replaces_routes`; an undeclared clash is an error.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter

from fintech_core.service.pipeline import Change, Pipeline

RouterFactory = Callable[[], APIRouter]
# Started with the app and cancelled at shutdown; receives the Container (typed Any: the
# container module imports this one).
BackgroundTask = Callable[[Any], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class Phase:
    number: int
    slug: str
    title: str
    folder: Path
    routers: tuple[RouterFactory, ...] = ()
    transfer_steps: tuple[Change, ...] = ()
    extensions: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    features: frozenset[str] = frozenset()
    background_tasks: tuple[BackgroundTask, ...] = ()
    replaces_routes: frozenset[str] = frozenset()  # "METHOD /path" of earlier phases' routes

    @property
    def migrations(self) -> Path:
        return self.folder / "migrations"


@dataclass(frozen=True)
class Composition:
    phases: tuple[Phase, ...]
    pipeline: Pipeline
    routers: tuple[RouterFactory, ...]
    extensions: Mapping[str, Callable[[Any], Any]]
    features: frozenset[str]
    background_tasks: tuple[BackgroundTask, ...] = ()
    replaced_routes: frozenset[str] = frozenset()

    @property
    def number(self) -> int:
        return self.phases[-1].number

    def migration_dirs(self) -> list[Path]:
        return [p.migrations for p in self.phases if p.migrations.is_dir()]


def compose(phases: Sequence[Phase]) -> Composition:
    numbers = [p.number for p in phases]
    if numbers != list(range(len(phases))):
        raise ValueError(f"phases must be 0..N in order, got {numbers}")
    pipeline = Pipeline()
    routers: list[RouterFactory] = []
    extensions: dict[str, Callable[[Any], Any]] = {}
    features: set[str] = set()
    tasks: list[BackgroundTask] = []
    replaced: set[str] = set()
    for phase in phases:
        for change in phase.transfer_steps:
            pipeline = pipeline.apply(change)
        routers.extend(phase.routers)
        extensions.update(phase.extensions)
        features |= phase.features
        tasks.extend(phase.background_tasks)
        replaced |= phase.replaces_routes
    return Composition(tuple(phases), pipeline, tuple(routers), extensions, frozenset(features),
                       tuple(tasks), frozenset(replaced))
