"""The embedded stack as a user drives it: `fcl up`, `status`, `down`, and crash recovery."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fintech_core.settings import Settings
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import free_port, port_open

pytestmark = pytest.mark.integration

FINCORE = [sys.executable, "-m", "phases.entrypoints"]


@pytest.fixture
def lab_env() -> Iterator[dict[str, str]]:
    # Not tmp_path: another pytest session of the same user prunes old basetemp directories
    # when it starts (see tests/conftest.py), which deleted a running lab's pid files and data
    # under our feet (seen: `down` found no pid file and left a server listening).
    lab_dir = Path(tempfile.mkdtemp(prefix="fincore-stack-test-"))
    env = dict(os.environ)
    for key in ("FINCORE_DATABASE_URL", "FINCORE_REDIS_URL", "FINCORE_KAFKA_BOOTSTRAP"):
        env.pop(key, None)
    env.update(FINCORE_LAB_DIR=str(lab_dir / "lab"), FINCORE_PG_PORT=str(free_port()),
               FINCORE_REDIS_PORT=str(free_port()), FINCORE_BROKER_PORT=str(free_port()),
               FINCORE_API_PORT=str(free_port()))
    env["COLUMNS"] = "200"  # rich wraps at the terminal width; tests read whole lines
    yield env
    subprocess.run([*FINCORE, "down"], env=env, capture_output=True, timeout=120)
    shutil.rmtree(lab_dir, ignore_errors=True)


def fcl(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*FINCORE, *args], env=env, capture_output=True, text=True, timeout=180)


def ports(env: dict[str, str]) -> list[int]:
    return [int(env[k]) for k in ("FINCORE_PG_PORT", "FINCORE_REDIS_PORT",
                                  "FINCORE_BROKER_PORT", "FINCORE_API_PORT")]


def test_up_status_down_leaves_nothing_running(lab_env: dict[str, str]) -> None:
    up = fcl(lab_env, "up", "--detach", "--phase", "0")
    assert up.returncode == 0, up.stdout + up.stderr
    assert "OpenAPI" in up.stdout
    assert all(port_open("127.0.0.1", p) for p in ports(lab_env))
    api = f"http://127.0.0.1:{lab_env['FINCORE_API_PORT']}"
    assert httpx.get(f"{api}/ready").json()["phase"] == 0
    status = fcl(lab_env, "status", "--phase", "0")
    assert status.returncode == 0, status.stdout
    for name in ("postgres", "redis", "broker", "api"):
        assert name in status.stdout
    down = fcl(lab_env, "down")
    assert down.returncode == 0, down.stderr
    assert not any(port_open("127.0.0.1", p) for p in ports(lab_env))
    assert fcl(lab_env, "status", "--phase", "0").returncode == 1


def test_second_up_after_a_crash_recovers(lab_env: dict[str, str]) -> None:
    assert fcl(lab_env, "up", "--detach", "--phase", "0").returncode == 0
    lab_dir = Path(lab_env["FINCORE_LAB_DIR"])
    # Simulate a crash: SIGKILL Redis, the broker and the API; PostgreSQL is left running.
    for name in ("redis", "broker", f"api-{lab_env['FINCORE_API_PORT']}"):
        os.kill(int((lab_dir / "run" / f"{name}.pid").read_text()), signal.SIGKILL)
    again = fcl(lab_env, "up", "--detach", "--phase", "0")
    assert again.returncode == 0, again.stdout + again.stderr
    assert fcl(lab_env, "status", "--phase", "0").returncode == 0


def test_data_survives_a_restart(lab_env: dict[str, str]) -> None:
    assert fcl(lab_env, "up", "--detach", "--phase", "0").returncode == 0
    api = f"http://127.0.0.1:{lab_env['FINCORE_API_PORT']}"
    account = httpx.post(f"{api}/accounts", json={"owner": "persist", "currency": "EUR"}).json()
    assert fcl(lab_env, "down").returncode == 0
    assert fcl(lab_env, "up", "--detach", "--phase", "0").returncode == 0
    assert httpx.get(f"{api}/accounts/{account['id']}").json()["owner"] == "persist"


@pytest.mark.parametrize(("setting", "squatter"), [
    ("FINCORE_PG_PORT", "listening"), ("FINCORE_PG_PORT", "bound only"),
    ("FINCORE_REDIS_PORT", "bound only"), ("FINCORE_BROKER_PORT", "bound only"),
    ("FINCORE_API_PORT", "listening")])
def test_a_taken_port_stops_up_before_anything_starts(lab_env: dict[str, str], setting: str,
                                                      squatter: str) -> None:
    """Any of the four ports held by another program: one line naming the variable and a free
    port, and nothing started (no initdb, no process, no other port listening). A socket that is
    bound but not listening is missed by a connect test (pg_ctl then failed with its log).
    (A silent listener on the broker port works too, but the broker health check that decides
    "reuse or refuse" takes ~30 s to give up on it.)"""
    import re
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", int(lab_env[setting])))
        if squatter == "listening":
            holder.listen()
        result = fcl(lab_env, "up", "--detach", "--phase", "2")
        others_listening = [p for p in ports(lab_env)
                            if p != int(lab_env[setting]) and port_open("127.0.0.1", p)]
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "Traceback" not in out
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1, out  # one line, also when rich would wrap it (COLUMNS is set wide)
    suggested = re.search(rf"port {lab_env[setting]} \(\w+\) is taken by another program; "
                          rf"set {setting}=(\d+)", out)
    assert suggested, out
    with socket.socket() as probe:  # the suggestion was free
        probe.bind(("127.0.0.1", int(suggested.group(1))))
    assert others_listening == []
    lab_dir = Path(lab_env["FINCORE_LAB_DIR"])
    assert not (lab_dir / "postgres").exists()
    assert not list(lab_dir.glob("run/*.pid"))


def test_external_servers_are_used_and_never_started(lab: Lab, tmp_path: Path) -> None:
    """With FINCORE_* URLs set, the lab starts nothing and reports those servers' health."""
    settings = Settings(lab_dir=tmp_path / "ext", database_url=lab.database_url(),
                        redis_url=lab.redis_url(), kafka_bootstrap=lab.kafka_bootstrap())
    external = Lab(settings)
    assert external.embedded() == []
    external.start_servers()
    assert not (tmp_path / "ext" / "postgres").exists()
    checks = {h.name: h for h in external.status()}
    assert set(checks) == {"postgres", "redis", "broker"}
    assert all(h.ok for h in checks.values()), checks
    broken = Lab(Settings(lab_dir=tmp_path / "ext", redis_url="redis://127.0.0.1:1/0",
                          database_url=lab.database_url(), kafka_bootstrap=lab.kafka_bootstrap()))
    assert {h.name: h.ok for h in broken.status()}["redis"] is False


# `make up` and `./fcl up` run the `fcl` console script; the tests elsewhere use `python -m`. The
# supervisor's pid file must recognise both, or `down` and a second `up` cannot find it.
CONSOLE_SCRIPT = [str(Path(sys.executable).parent / "fcl")]


@pytest.mark.parametrize(("stop_with", "launch"), [("ctrl-c", FINCORE),
                                                   ("fcl down", CONSOLE_SCRIPT)],
                         ids=["ctrl-c", "fcl down"])
def test_foreground_up_stops_everything(lab_env: dict[str, str], stop_with: str,
                                        launch: list[str]) -> None:
    """`make up` runs in the foreground; Ctrl-C there, or `make down` elsewhere, stops it all."""
    from fintech_core.stack.processes import wait_until

    proc = subprocess.Popen([*launch, "up", "--phase", "0"], env=lab_env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    api = f"http://127.0.0.1:{lab_env['FINCORE_API_PORT']}"

    def api_ready() -> bool:
        try:
            return httpx.get(f"{api}/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    assert wait_until(api_ready, timeout=90, interval=0.2), "fcl up did not come up"
    assert wait_until(lambda: (Path(lab_env["FINCORE_LAB_DIR"]) / "run" / "supervisor.pid").exists(),
                      timeout=10)
    if stop_with == "ctrl-c":
        proc.send_signal(signal.SIGINT)
    else:
        again = subprocess.run([*launch, "up", "--phase", "0"], env=lab_env, capture_output=True,
                               text=True, timeout=60)
        assert again.returncode == 1 and "already running" in again.stdout, again.stdout
        assert fcl(lab_env, "down").returncode == 0
    output, _ = proc.communicate(timeout=90)
    assert proc.returncode == 0, output
    assert "stopped." in output
    # `down` signalled the supervisor, which stopped its children in order; it did not merely
    # notice its API gone (what happens when `down` cannot recognise the supervisor's pid file).
    assert "the API process exited" not in output
    assert not any(port_open("127.0.0.1", p) for p in ports(lab_env))


def test_a_healthy_server_from_another_lab_is_reused(lab: Lab, tmp_path: Path) -> None:
    """A second lab pointed at the same ports reuses the running servers and starts none."""
    other = Lab(lab.settings.model_copy(update={"lab_dir": tmp_path / "other"}))
    other.start_servers()
    assert not (tmp_path / "other" / "postgres").exists()
    assert all(h.ok for h in other.status())


def test_phase2_up_starts_the_relay_and_consumers_and_down_stops_them(
        lab_env: dict[str, str]) -> None:
    import psutil

    from fintech_core.stack.processes import wait_until

    up = fcl(lab_env, "up", "--detach", "--phase", "2")
    assert up.returncode == 0, up.stdout + up.stderr
    run = Path(lab_env["FINCORE_LAB_DIR"]) / "run"
    pids = [int((run / f"worker-{name}.pid").read_text()) for name in ("relay", "consume")]
    assert all(psutil.pid_exists(p) for p in pids)
    api = f"http://127.0.0.1:{lab_env['FINCORE_API_PORT']}"
    account = httpx.post(f"{api}/accounts", json={"owner": "ev", "currency": "EUR"}).json()
    deposit = httpx.post(f"{api}/accounts/{account['id']}/deposits",
                         json={"amount": 500, "currency": "EUR"},
                         headers={"Idempotency-Key": "up-phase2-deposit"})
    assert deposit.status_code == 201, deposit.text

    def consumed() -> bool:  # verify exits 0 once both read models match the ledger
        return fcl(lab_env, "events", "verify", "--phase", "2").returncode == 0

    assert wait_until(consumed, timeout=60, interval=1), fcl(
        lab_env, "events", "verify", "--phase", "2").stdout
    status = fcl(lab_env, "events", "status", "--phase", "2").stdout
    assert "0 unpublished" in status and "activity" in status and "audit" in status
    assert fcl(lab_env, "down").returncode == 0
    assert not any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE
                   for p in pids)


def test_up_after_a_crash_says_what_it_reused_and_what_it_started(
        lab_env: dict[str, str]) -> None:
    """`fcl up` and its API killed with SIGKILL leave the servers, the relay and the
    consumers running: the next `up` reuses them and says so, and starts only the API."""
    from fintech_core.stack.processes import wait_until

    run = Path(lab_env["FINCORE_LAB_DIR"]) / "run"
    first = subprocess.Popen([*FINCORE, "up", "--phase", "2"], env=lab_env, text=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    names = ("supervisor", f"api-{lab_env['FINCORE_API_PORT']}", "worker-relay", "worker-consume")
    assert wait_until(lambda: all((run / f"{n}.pid").exists() for n in names), 120, 0.2)
    pid = {n: int((run / f"{n}.pid").read_text()) for n in names}
    os.kill(pid["supervisor"], signal.SIGKILL)
    os.kill(pid[names[1]], signal.SIGKILL)
    first.wait(timeout=10)
    again = fcl(lab_env, "up", "--detach", "--phase", "2")
    assert again.returncode == 0, again.stdout + again.stderr
    out = again.stdout
    for name in ("postgres", "redis", "broker"):
        assert f"reusing the {name} already at" in out, out
    assert f"reusing relay (pid {pid['worker-relay']})" in out, out
    assert f"reusing consume (pid {pid['worker-consume']})" in out, out
    assert "started the API at" in out, out
    assert "starting relay" not in out and "started relay" not in out, out
