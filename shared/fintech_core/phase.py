"""Phases as data: everything an increment adds to the core, and how increments compose.

A `Phase` declares, explicitly, what it contributes: migrations (its folder), HTTP routers,
transfer-pipeline changes, unit-of-work extensions, background tasks, worker processes, CLI
commands, problem types, drills, chaos hooks and faults, bench parts, site pages and labs. The service for
phase N is the composition of phases 0..N in order. The core reads only the `Composition`: it
never imports the `phases` package and never compares phase numbers, so a new phase is a new
folder and one line in the registry, not a branch in shared code.

Nothing is discovered by import side effects, and no phase copies another. A phase that serves
an earlier phase's route differently names it in `replaces_routes`; an undeclared clash is an
error. Declarations that have one answer per composition (how the drills explain a balance) are
"last phase wins"; the others accumulate in phase order.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter

from fintech_core.api.problems import CORE_PROBLEMS, ProblemType
from fintech_core.transfers.pipeline import Change, Pipeline

if TYPE_CHECKING:
    from fintech_core.chaos.faults import Fault
    from fintech_core.chaos.hooks import ChaosHook
    from fintech_core.drills.drill import Drill
    from fintech_core.drills.ledger import MoneyFacts
    from fintech_core.labs.registry import LabSpec

RouterFactory = Callable[[], APIRouter]
# Started with the app and cancelled at shutdown; receives the Container (typed Any: the
# container module imports this one).
BackgroundTask = Callable[[Any], Coroutine[Any, Any, None]]
# A bench part: built per bench run with (lab, composition, database url, tag, drain timeout);
# see bench/parts.py for the protocol it returns.
BenchPart = Callable[..., Any]


@dataclass(frozen=True)
class WorkerSpec:
    """A long-running process `up` starts after the API and `down` stops: the registry's CLI
    run with `command` (e.g. ("relay",)), under a pid file named after `name`.

    A worker that serves HTTP names the Settings fields of its host and port and the path that
    answers 200 once it is ready: `up` then waits for that answer and `status` asks it. Without
    them readiness is "still alive" (the relay, the consumers hold no port)."""

    name: str
    command: tuple[str, ...]
    port_setting: str | None = None  # e.g. "provider_port"
    host_setting: str | None = None  # e.g. "provider_host"; 127.0.0.1 when None
    health_path: str = "/health"


@dataclass(frozen=True)
class CliEntry:
    """A CLI command (a function) or command group (a typer.Typer) under `name`."""

    name: str
    target: Any  # typer.Typer | Callable[..., None]; typed loosely to keep typer out of here


@dataclass(frozen=True)
class SitePage:
    """A page the site builds from a Markdown file of the repository."""

    title: str
    source: Path


@dataclass(frozen=True)
class Entrypoints:
    """Where the processes that know the registry start: the CLI module (`python -m`) and the
    ASGI app factory (`module:function`). Child processes (API, workers) are spawned through
    them, which is how the core runs a composition it never imports."""

    cli_module: str
    app_factory: str


@dataclass(frozen=True)
class Phase:
    number: int
    slug: str
    title: str
    folder: Path
    routers: tuple[RouterFactory, ...] = ()
    replaces_routes: frozenset[str] = frozenset()  # "METHOD /path" of earlier phases' routes
    # The deliberately broken baseline of what this phase teaches, mounted only with
    # FINCORE_NAIVE_BASELINE (drills): its routers, and ASGI middleware classes (innermost).
    naive_routers: tuple[RouterFactory, ...] = ()
    naive_middleware: tuple[type, ...] = ()
    # ASGI middleware classes always mounted (innermost first), e.g. phase 4's rate limiter.
    middleware: tuple[type, ...] = ()
    # Who is calling: a factory (Container -> auth.identity.Identity); the last phase's wins,
    # the core's SelfDeclared (X-Client-Id, unrestricted) when no phase declares one.
    identity: Callable[[Any], Any] | None = None
    # How the lab's own tools (drills, chaos, bench, notebooks) authenticate to this API:
    # (Settings, base url) -> httpx.Auth; the last phase's wins, none when no phase declares one.
    client_auth: Callable[[Any, str], Any] | None = None
    # Run after the migrations on a prepared database: (Settings, database url) -> None.
    seeders: tuple[Callable[[Any, str], object], ...] = ()
    fault_points: Mapping[str, str] = field(default_factory=dict)  # name -> where it fires
    transfer_steps: tuple[Change, ...] = ()
    extensions: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    # Process-wide objects a pipeline step or route needs beyond its transaction (phase 5's
    # fraud engine: rules, a Redis client, a time budget): name -> (Settings) -> object, built
    # once per process by bootstrap, reached as `ctx.resource(name)` or `container.resources`,
    # closed at shutdown when they have `aclose()`. Building one must not connect anything.
    resources: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    # How a group-commit batch wraps an extension that locks rows, so that its locks are
    # answered from the batch's snapshot (transfers/batch.py); the last phase's wins per name.
    batch_extensions: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    features: frozenset[str] = frozenset()
    background_tasks: tuple[BackgroundTask, ...] = ()
    workers: tuple[WorkerSpec, ...] = ()
    cli: tuple[CliEntry, ...] = ()
    problems: Mapping[str, ProblemType] = field(default_factory=dict)
    drills: tuple[Drill, ...] = ()
    chaos_hooks: tuple[ChaosHook, ...] = ()
    # Faults a chaos run can inject on what this phase adds (chaos/faults.py's Fault protocol);
    # `--faults all` includes them, beside the core's own.
    chaos_faults: tuple[Fault, ...] = ()
    bench_parts: tuple[BenchPart, ...] = ()
    site_pages: tuple[SitePage, ...] = ()
    labs: tuple[LabSpec, ...] = ()
    money_facts: MoneyFacts | None = None  # how drills explain a balance; the last one wins
    # The SQL-only yardstick of the bench (bench/yardstick.py): the request path's statements
    # for one transfer in this composition; the last one wins.
    yardstick: Any = None
    # SQLModel table classes (tables off the money path). The migrations create the tables;
    # these classes must match them, which the drift test checks for every composition.
    tables: tuple[type, ...] = ()

    @property
    def migrations(self) -> Path:
        return self.folder / "migrations"


@dataclass(frozen=True)
class Composition:
    phases: tuple[Phase, ...]
    pipeline: Pipeline
    entrypoints: Entrypoints
    routers: tuple[RouterFactory, ...] = ()
    extensions: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    batch_extensions: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    resources: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    features: frozenset[str] = frozenset()
    background_tasks: tuple[BackgroundTask, ...] = ()
    replaced_routes: frozenset[str] = frozenset()
    naive_routers: tuple[RouterFactory, ...] = ()
    naive_middleware: tuple[type, ...] = ()
    middleware: tuple[type, ...] = ()
    identity: Callable[[Any], Any] | None = None
    client_auth: Callable[[Any, str], Any] | None = None
    seeders: tuple[Callable[[Any, str], object], ...] = ()
    fault_points: Mapping[str, str] = field(default_factory=dict)
    workers: tuple[WorkerSpec, ...] = ()
    cli: tuple[CliEntry, ...] = ()
    problems: Mapping[str, ProblemType] = field(default_factory=lambda: dict(CORE_PROBLEMS))
    drills: tuple[Drill, ...] = ()
    chaos_hooks: tuple[ChaosHook, ...] = ()
    chaos_faults: tuple[Fault, ...] = ()
    bench_parts: tuple[BenchPart, ...] = ()
    site_pages: tuple[SitePage, ...] = ()
    labs: tuple[LabSpec, ...] = ()
    money_facts: MoneyFacts | None = None
    yardstick: Any = None
    tables: tuple[type, ...] = ()

    @property
    def number(self) -> int:
        return self.phases[-1].number

    def migration_dirs(self) -> list[Path]:
        return [p.migrations for p in self.phases if p.migrations.is_dir()]


def _last(values: Sequence[Any]) -> Any:
    present = [v for v in values if v is not None]
    return present[-1] if present else None


def compose(phases: Sequence[Phase], entrypoints: Entrypoints) -> Composition:
    numbers = [p.number for p in phases]
    if numbers != list(range(len(phases))):
        raise ValueError(f"phases must be 0..N in order, got {numbers}")
    pipeline = Pipeline()
    for phase in phases:
        for change in phase.transfer_steps:
            pipeline = pipeline.apply(change)
    problems = dict(CORE_PROBLEMS)
    for phase in phases:
        clash = set(problems) & set(phase.problems)
        if clash:
            raise ValueError(f"phase {phase.slug} redefines problem types {sorted(clash)}")
        problems.update(phase.problems)
    for kind in ("workers", "cli", "drills", "chaos_faults"):
        names = [item.name for p in phases for item in getattr(p, kind)]
        if len(set(names)) != len(names):
            raise ValueError(f"two phases declare the same {kind} name: {sorted(names)}")

    def every(attr: str) -> tuple[Any, ...]:
        return tuple(item for p in phases for item in getattr(p, attr))

    resources: dict[str, Callable[[Any], Any]] = {}
    for phase in phases:
        clash = set(resources) & set(phase.resources)
        if clash:
            raise ValueError(f"phase {phase.slug} redefines resources {sorted(clash)}")
        resources.update(phase.resources)
    extensions: dict[str, Callable[[Any], Any]] = {}
    batch_extensions: dict[str, Callable[[Any], Any]] = {}
    for phase in phases:
        extensions.update(phase.extensions)  # a later phase may wrap an earlier extension
        batch_extensions.update(phase.batch_extensions)
    return Composition(
        phases=tuple(phases), pipeline=pipeline, entrypoints=entrypoints,
        routers=every("routers"), extensions=extensions, batch_extensions=batch_extensions,
        resources=resources, features=frozenset(every("features")),
        background_tasks=every("background_tasks"),
        replaced_routes=frozenset(every("replaces_routes")), workers=every("workers"),
        naive_routers=every("naive_routers"), naive_middleware=every("naive_middleware"),
        middleware=every("middleware"), seeders=every("seeders"),
        identity=_last([p.identity for p in phases]),
        client_auth=_last([p.client_auth for p in phases]),
        fault_points={k: v for p in phases for k, v in p.fault_points.items()},
        cli=every("cli"), problems=problems, drills=every("drills"),
        chaos_hooks=every("chaos_hooks"), chaos_faults=every("chaos_faults"),
        bench_parts=every("bench_parts"),
        site_pages=every("site_pages"), labs=every("labs"), tables=every("tables"),
        money_facts=_last([p.money_facts for p in phases]),
        yardstick=_last([p.yardstick for p in phases]),
    )


@dataclass(frozen=True)
class Registry:
    """The ordered list of built phases and the entry points that run them. Only the code above
    the core (the `phases` package, tests, notebooks) builds one; the core receives it."""

    phases: tuple[Phase, ...]
    entrypoints: Entrypoints

    def latest(self) -> int:
        return self.phases[-1].number

    def composition(self, n: int) -> Composition:
        if not 0 <= n <= self.latest():
            raise ValueError(f"phase {n} does not exist yet; phases 0..{self.latest()} are built")
        return compose(self.phases[: n + 1], self.entrypoints)

    def with_phase(self, phase: Phase) -> Registry:
        """This registry plus one more phase (a test's throwaway phase, a workshop's own)."""
        return Registry((*self.phases, phase), self.entrypoints)
