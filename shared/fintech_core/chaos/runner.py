"""One chaos run end to end: seed, drive writers + readers + faults, then judge and report.

Whose keys are the run's: through phase 3 each run names its own caller (X-Client-Id = the run
id), so every key that caller holds is the run's. From phase 4 the caller is the token's subject
(the lab's driver, shared by every run and tool), so the run's keys are the driver's keys that
start with the run id (`key_scope`); the checker's "unknown key" still catches any key of the
run's that no writer sent.

Authenticated writers (phase 4): tokens the driver gets are counted across the run (`tokens`
record); a run asked to cross token expiries (`extra["token_ttl_s"]`, `fcl chaos --token-ttl`)
that crossed none is a violation, since it did not test what it claims.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from pathlib import Path
from typing import Any

import httpx

from fintech_core.chaos import oplog
from fintech_core.chaos.checker import Violation, check
from fintech_core.chaos.config import ChaosConfig
from fintech_core.chaos.env import ChaosEnv
from fintech_core.chaos.facts import read_facts
from fintech_core.chaos.faults import Fault, registry
from fintech_core.chaos.hooks import HookResult, NetworkFaults
from fintech_core.chaos.report import figures, results, save
from fintech_core.chaos.targets import make_target
from fintech_core.chaos.workload import Workload
from fintech_core.stack.client_auth import token_claims


def key_scope(env: ChaosEnv, run_id: str) -> tuple[str, str | None]:
    """(principal, key prefix) of the run's idempotency keys; see the module docstring."""
    if env.auth is None:
        return run_id, None
    return str(token_claims(env.auth.sync_token())["sub"]), f"{run_id}-"


class TokenWatch:
    """What the driver's Auth did during the drive: tokens granted, how many of the tokens it
    held expired while the writers were running (expiries crossed), and requests retried after
    a 401 (a token refused at its expiry: the writers' renewal path)."""

    def __init__(self, auth: Any) -> None:
        self.auth = auth
        claims = token_claims(auth.sync_token())
        self.ttl_s = int(claims["exp"]) - int(claims["iat"])
        self.grants, self.retried = auth.grants, getattr(auth, "retried_after_401", 0)
        self.began = time.time()
        # From the token in use now: every token the driver holds from here on.
        self.first = max(0, len(getattr(auth, "expiries", [])) - 1)

    def figures(self) -> dict[str, Any]:
        ended = time.time()
        held = getattr(self.auth, "expiries", [])[self.first:]
        crossed = sum(1 for exp in held if self.began < exp <= ended)
        return {"ttl_s": self.ttl_s,
                "refresh_margin_s": getattr(self.auth, "refresh_margin_s", None),
                "grants": self.auth.grants - self.grants, "expiries_crossed": crossed,
                "retried_after_401": getattr(self.auth, "retried_after_401", 0) - self.retried}


def select_faults(names: tuple[str, ...], env: ChaosEnv,
                  proxy: NetworkFaults | None) -> tuple[list[Fault], dict[str, str]]:
    known = registry(proxy, env.faults)
    for name in names:
        if name not in known:
            raise ValueError(f"unknown fault {name!r}; known: {', '.join(known)}")
    active, skipped = [], {}
    for name in names:
        why = known[name].available(env)
        if why is None:
            active.append(known[name])
        else:
            skipped[name] = why
    return active, skipped


def run(env: ChaosEnv, config: ChaosConfig, out_dir: Path) -> dict[str, Any]:
    run_id = f"chaos-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
    target = make_target(config.target, principal=run_id)
    env.run_started, env.measures = time.time(), {}
    with httpx.Client(base_url=env.api_url, timeout=30, auth=env.auth) as http:
        accounts = target.seed(http, config.accounts, config.initial_balance, owner=run_id)
    principal, key_prefix = key_scope(env, run_id)
    proxy = NetworkFaults.open(env.api.host, env.api.port)[0] if "network" in config.faults else None
    faults: list[Fault] = []
    try:
        faults, skipped = select_faults(config.faults, env, proxy)
        for fault in faults:
            if hasattr(fault, "begin"):
                fault.begin(env)
        log = oplog.OpLog(out_dir / f"{run_id}.jsonl")
        log.write("run", run_id=run_id, principal=principal, key_prefix=key_prefix,
                  target=target.name, phase=env.phase,
                  accounts=accounts, seeded_total=config.accounts * config.initial_balance,
                  faults=[f.name for f in faults], faults_skipped=skipped, t=time.time())
        workload = Workload(config, target, accounts, log, run_id)
        watch = TokenWatch(env.auth) if env.auth is not None else None
        began = time.monotonic()
        try:
            asyncio.run(_drive(workload, env, faults, proxy))
        finally:
            if watch is not None:
                log.write("tokens", **watch.figures())
            log.write("end", operations=config.transfers, duration_s=time.monotonic() - began)
            log.close()
        for fault in faults:  # e.g. a side workload of the fault's own stops and settles
            if hasattr(fault, "quiesce"):
                fault.quiesce(env)
        # Judged before the faults end: what they watch (a topic tap) keeps watching while the
        # hooks wait for the async path to drain.
        return judge(env, config, log.path, accounts, principal, key_prefix)
    finally:
        for fault in faults:
            if hasattr(fault, "end"):
                fault.end(env)
        if proxy is not None:
            proxy.close()


def judge(env: ChaosEnv, config: ChaosConfig, log_path: Path, accounts: list[str],
          principal: str, key_prefix: str | None = None) -> dict[str, Any]:
    """The checker's half, separable so tests can hand it a doctored log or database."""
    env.ensure_api()
    hooks: list[HookResult] = []
    if config.target == "bank":
        hooks += [hook(env) for hook in env.hooks]
    records = list(oplog.read(log_path))
    facts = read_facts(env.database_url, config.target, accounts, principal, key_prefix)
    violations = check(records, facts, hooks, keyed=config.target == "bank")
    violations += _token_expiry(records, config)
    violations += [Violation("fault-failed", f"{r['fault']}: {r['detail']}")
                   for r in records if r["kind"] == "fault" and not r["ok"]]
    res = results(figures(records), violations, hooks, config.as_json())
    res["log"] = str(log_path)
    save(log_path.with_suffix(".json"), res)
    return res


def _token_expiry(records: list[oplog.Record], config: ChaosConfig) -> list[Violation]:
    """A run asked to cross token expiries must have crossed one (else it proved nothing)."""
    ttl = config.extra.get("token_ttl_s")
    if not ttl:
        return []
    tokens = next((r for r in records if r["kind"] == "tokens"), None)
    crossed = tokens["expiries_crossed"] if tokens else 0
    if crossed >= 1:
        return []
    return [Violation("no-token-expiry", f"token TTL {ttl} s, but the writers crossed no "
                                         f"expiry ({tokens}): run longer or lower the TTL")]


async def _drive(workload: Workload, env: ChaosEnv, faults: list[Fault],
                 proxy: NetworkFaults | None) -> None:
    cfg = workload.config
    limits = httpx.Limits(max_connections=cfg.workers + 2)
    no_reuse = httpx.Limits(max_keepalive_connections=0)  # the proxy breaks connections, not requests
    async with httpx.AsyncClient(base_url=env.api_url, limits=limits, auth=env.auth) as direct, \
            httpx.AsyncClient(base_url=proxy.url if proxy else env.api_url, limits=no_reuse,
                              auth=env.auth) as via:
        readers = [asyncio.create_task(workload.reader(env.database_url)) for _ in range(cfg.readers)]
        injector = asyncio.create_task(_inject(faults, env, workload))
        try:
            await asyncio.gather(*(workload.writer(w, via if proxy and w % 2 else direct)
                                   for w in range(cfg.workers)))
        finally:
            workload.done.set()
            await injector  # a fault under way finishes (and restores service) first
            await asyncio.gather(*readers)


async def _inject(faults: list[Fault], env: ChaosEnv, workload: Workload) -> None:
    rng, cfg, order = random.Random(workload.config.seed + 1), workload.config, list[Fault]()
    due, injected, limit = 0, 0, cfg.fault_rounds * len(faults) or float("inf")
    while faults and injected < limit:
        due += max(1, round(rng.uniform(0.5, 1.5) * cfg.fault_every))
        while workload.settled < due:
            if workload.done.is_set():
                return
            await asyncio.sleep(0.05)
        order = order or rng.sample(faults, len(faults))  # every kind once per round
        fault, began = order.pop(), time.monotonic()
        injected += 1
        try:
            detail, ok = await asyncio.to_thread(fault.inject, env, rng), True
        except Exception as exc:  # reported as a violation: the run did not test what it claims
            detail, ok = f"{type(exc).__name__}: {exc}", False
        workload.log.write("fault", fault=fault.name, t=time.time(), ok=ok, detail=detail,
                           took_s=round(time.monotonic() - began, 2), after_keys=workload.settled)
