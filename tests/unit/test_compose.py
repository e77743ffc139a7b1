"""Structure tests for the Docker path: there is no Docker engine on the lab machines, so instead of
running compose.yaml we check that it agrees with the code (Settings fields and defaults, the
console script) and with the rules it promises (health-gated startup, one owner per host port)."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from fintech_core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
PYPROJECT = ROOT / "pyproject.toml"

SERVICES = ("postgres", "redpanda", "console", "redis", "api", "relay", "consumers", "provider")
# Phase 2's long-running processes: service -> the `fcl` command it runs.
WORKERS = {"relay": "relay", "consumers": "consume"}
HEALTHCHECKED = ("postgres", "redis", "redpanda", "api", "provider")
API_DEPENDENCIES = ("postgres", "redis", "redpanda")
API_ENV = ("FINCORE_DATABASE_URL", "FINCORE_REDIS_URL", "FINCORE_KAFKA_BOOTSTRAP")
# service -> the Settings field whose default is the host port it must publish.
HOST_PORT_FIELDS = {
    "postgres": "pg_port",
    "redis": "redis_port",
    "redpanda": "broker_port",
    "api": "api_port",
    "provider": "provider_port",
}
FINCORE_NAME = re.compile(r"\bFINCORE_[A-Z0-9_]+\b")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict) and isinstance(data.get("services"), dict), (
        "compose.yaml must be a mapping with a `services` mapping"
    )
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def settings_env_names() -> set[str]:
    return {"FINCORE_" + name.upper() for name in Settings.model_fields}


def host_ports(service: dict[str, Any]) -> list[tuple[int, int]]:
    """(host, container) pairs from short ("[ip:]host:container[/proto]") or long syntax."""
    pairs = []
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            if "published" in entry:
                pairs.append((int(entry["published"]), int(entry["target"])))
            continue
        parts = str(entry).split("/")[0].split(":")
        if len(parts) >= 2:  # a bare container port publishes on a random host port: not ours
            pairs.append((int(parts[-2]), int(parts[-1])))
    return pairs


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):  # ["NAME=value", ...]
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): str(v) for k, v in env.items()}


def command_words(command: Any) -> list[str]:
    return list(command) if isinstance(command, list) else shlex.split(str(command))


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction, continuation lines joined, comments dropped."""
    logical, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        logical.append(current + stripped)
        current = ""
    if current:
        logical.append(current)
    instructions = []
    for ln in logical:
        keyword, _, arguments = ln.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def exec_or_shell(arguments: str) -> list[str]:
    arguments = arguments.strip()
    return json.loads(arguments) if arguments.startswith("[") else shlex.split(arguments)


# --- compose.yaml ---------------------------------------------------------------------------------


def test_all_services_are_declared(services: dict[str, Any]) -> None:
    missing = [name for name in SERVICES if name not in services]
    assert not missing, f"compose.yaml lacks services {missing}; has {sorted(services)}"


@pytest.mark.parametrize("name", HEALTHCHECKED)
def test_service_has_a_healthcheck(services: dict[str, Any], name: str) -> None:
    check = services.get(name, {}).get("healthcheck") or {}
    assert check.get("test"), (
        f"service {name!r} needs a healthcheck with a `test`: dependants wait on service_healthy"
    )


@pytest.mark.parametrize("dependency", API_DEPENDENCIES)
def test_api_waits_for_healthy_dependency(services: dict[str, Any], dependency: str) -> None:
    depends = services.get("api", {}).get("depends_on") or {}
    assert isinstance(depends, dict), (
        "api.depends_on must be the long form with `condition:`; a list only waits for start"
    )
    condition = (depends.get(dependency) or {}).get("condition")
    assert condition == "service_healthy", (
        f"api must depend on {dependency!r} with condition service_healthy, got {condition!r}"
    )


def test_every_fincore_name_is_a_settings_field() -> None:
    used = set(FINCORE_NAME.findall(COMPOSE.read_text()))
    assert used, "compose.yaml uses no FINCORE_* variable at all"
    unknown = sorted(used - settings_env_names())
    assert not unknown, (
        f"compose.yaml uses {unknown}, which Settings does not declare "
        f"(known: {sorted(settings_env_names())}); the app would silently ignore them"
    )


@pytest.mark.parametrize("variable", API_ENV)
def test_api_points_at_the_compose_servers(services: dict[str, Any], variable: str) -> None:
    env = environment(services.get("api", {}))
    assert env.get(variable), f"api must set {variable}; it sets {sorted(env)}"


def test_api_server_urls_name_compose_services(services: dict[str, Any]) -> None:
    env = environment(services.get("api", {}))
    for variable, service in zip(API_ENV, API_DEPENDENCIES, strict=True):
        assert service in env.get(variable, ""), (
            f"{variable}={env.get(variable)!r} should name the compose service {service!r}"
        )


@pytest.mark.parametrize(("service", "field"), sorted(HOST_PORT_FIELDS.items()))
def test_host_port_matches_settings_default(
    services: dict[str, Any], service: str, field: str
) -> None:
    # Field defaults, not Settings(): a FINCORE_* variable in the test's environment must not
    # change what compose.yaml is required to publish.
    expected = Settings.model_fields[field].default
    published = [host for host, _ in host_ports(services.get(service, {}))]
    assert expected in published, (
        f"service {service!r} must publish host port {expected} (Settings.{field} default) "
        f"so host code reaches it unchanged; publishes {published}"
    )


def test_each_host_port_has_one_owner(services: dict[str, Any]) -> None:
    owners: dict[int, list[str]] = {}
    for name, service in services.items():
        for host, _ in host_ports(service):
            owners.setdefault(host, []).append(name)
    clashes = {port: names for port, names in owners.items() if len(names) > 1}
    assert not clashes, f"host ports published more than once: {clashes}"


def test_api_publishes_the_port_it_serves_on(services: dict[str, Any]) -> None:
    api = services.get("api", {})
    words = command_words(api.get("command", ""))
    assert "--port" in words, f"api command must pass --port explicitly: {words}"
    serve_port = int(words[words.index("--port") + 1])
    targets = [container for _, container in host_ports(api)]
    assert serve_port in targets, (
        f"api serves on {serve_port} but publishes container ports {targets}"
    )


def test_api_command_is_the_console_script(services: dict[str, Any]) -> None:
    scripts = tomllib.loads(PYPROJECT.read_text())["project"]["scripts"]
    words = command_words(services.get("api", {}).get("command", ""))
    assert words and words[0] in scripts, (
        f"api command {words} must start with a [project.scripts] entry {sorted(scripts)}"
    )


# --- Dockerfile ---------------------------------------------------------------------------------


def test_dockerfile_cmd_uses_the_console_script() -> None:
    scripts = tomllib.loads(PYPROJECT.read_text())["project"]["scripts"]
    cmds = [args for keyword, args in dockerfile_instructions() if keyword == "CMD"]
    assert cmds, "Dockerfile has no CMD"
    words = exec_or_shell(cmds[-1])  # only the last CMD takes effect
    assert words and words[0] in scripts, (
        f"Dockerfile CMD {words} must start with a [project.scripts] entry {sorted(scripts)}"
    )
    assert words[:2] == ["fcl", "serve"], f"Dockerfile CMD should be `fcl serve`: {words}"


@pytest.mark.parametrize("source", ["shared", "phases", "pyproject.toml"])
def test_dockerfile_copies_the_package_sources(source: str) -> None:
    copied: set[str] = set()
    for keyword, args in dockerfile_instructions():
        if keyword in ("COPY", "ADD"):
            words = [w for w in exec_or_shell(args) if not w.startswith("--")]
            copied.update(w.rstrip("/").removeprefix("./") for w in words[:-1])
    assert source in copied, f"Dockerfile must COPY {source!r}; copies {sorted(copied)}"


def test_dockerfile_does_not_run_as_root() -> None:
    users = [args.strip() for keyword, args in dockerfile_instructions() if keyword == "USER"]
    assert users, "Dockerfile has no USER line, so the container runs as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), f"Dockerfile's final USER is {users[-1]!r}, i.e. root"


def test_dockerfile_fincore_names_are_settings_fields() -> None:
    unknown = sorted(set(FINCORE_NAME.findall(DOCKERFILE.read_text())) - settings_env_names())
    assert not unknown, f"Dockerfile sets {unknown}, which Settings does not declare"


# --- phase 2's relay and consumers ----------------------------------------------------------------


@pytest.mark.parametrize(("service", "command"), sorted(WORKERS.items()))
def test_worker_runs_its_fcl_command(services: dict[str, Any], service: str,
                                         command: str) -> None:
    from fintech_core.cli.main import build_cli
    from phases import REGISTRY

    app = build_cli(REGISTRY)
    words = command_words(services.get(service, {}).get("command", ""))
    known = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    assert words == ["fcl", command], f"{service} must run `fcl {command}`, runs {words}"
    assert command in known, f"`fcl {command}` is not a command of the CLI ({sorted(known)})"


@pytest.mark.parametrize("service", sorted(WORKERS))
def test_worker_shares_the_api_environment(services: dict[str, Any], service: str) -> None:
    assert environment(services.get(service, {})) == environment(services.get("api", {})), (
        f"{service} must talk to the same servers and phase as the api (<<: *fincore-env)"
    )


@pytest.mark.parametrize("service", sorted(WORKERS))
def test_worker_starts_after_the_api_migrated(services: dict[str, Any], service: str) -> None:
    depends = services.get(service, {}).get("depends_on") or {}
    assert (depends.get("api") or {}).get("condition") == "service_healthy", (
        f"{service} must wait for a healthy api: the api migrates the phase database on start"
    )


@pytest.mark.parametrize("service", sorted(WORKERS))
def test_worker_is_opt_in_from_phase_2(services: dict[str, Any], service: str) -> None:
    service_def = services.get(service, {})
    assert "events" in (service_def.get("profiles") or []), (
        f"{service} must be in the `events` profile: phases 0 and 1 have no events"
    )
    assert not host_ports(service_def), f"{service} serves nothing and must publish no port"


# --- phase 3's provider simulator -----------------------------------------------------------------


def test_provider_serves_on_the_port_it_publishes_and_checks(services: dict[str, Any]) -> None:
    provider = services.get("provider", {})
    env = environment(provider)
    port = int(env.get("FINCORE_PROVIDER_PORT", Settings.model_fields["provider_port"].default))
    assert port in [container for _, container in host_ports(provider)], (
        f"provider listens on {port} (FINCORE_PROVIDER_PORT) but publishes {host_ports(provider)}")
    assert f":{port}/health" in " ".join(map(str, provider["healthcheck"]["test"]))
    assert env.get("FINCORE_PROVIDER_HOST") == "0.0.0.0", "reachable from outside its container"


def test_provider_sends_webhooks_to_the_api_and_shares_its_lab_dir(
        services: dict[str, Any]) -> None:
    provider, api = services.get("provider", {}), services.get("api", {})
    env = environment(provider)
    assert env.get("FINCORE_API_HOST") == "api", "webhooks must reach the api service"
    for name in API_ENV:
        assert env.get(name) == environment(api).get(name), f"{name} differs from the api's"
    assert command_words(provider.get("command", "")) == ["fcl", "provider", "serve"]
    # secrets.json: both read the same lab directory (the image's FINCORE_LAB_DIR, /app/.lab).
    shared = [v for v in provider.get("volumes", []) if v in api.get("volumes", [])]
    assert any(str(v).endswith(":/app/.lab") for v in shared), (provider.get("volumes"),
                                                                api.get("volumes"))
