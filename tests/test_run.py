"""`heartline run` as a developer runs it: starts everything, stops everything (the e2e tests);
and, without a broker, what each of its services is started with and what a worker started by
hand reads from the stack's state file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from heartline.broker import free_port
from tests.brokerkit import broker_marks, on_broker


def _wait_line(proc, needle: str, timeout: float) -> list[str]:
    lines = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        lines.append(line)
        if needle in line:
            return lines
    raise AssertionError(f"{needle!r} not printed; got:\n{''.join(lines)}")


@pytest.mark.e2e
@pytest.mark.parametrize(
    "broker,sig",
    [
        pytest.param("embedded", signal.SIGTERM, marks=broker_marks("embedded")),
        pytest.param("embedded", signal.SIGINT, marks=broker_marks("embedded")),
        pytest.param("kafka", signal.SIGTERM, marks=broker_marks("kafka")),
    ],
)
def test_run_starts_every_service_and_stops_them_all(tmp_path, broker, sig):
    gw, ing = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTLINE_")}
    env.update(
        HEARTLINE_GATEWAY_PORT=str(gw),
        HEARTLINE_INGEST_PORT=str(ing),
        HEARTLINE_DATA_DIR=str(tmp_path),
        PYTHONUNBUFFERED="1",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "heartline.cli", "run", "--no-demo", "--broker", broker],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        out = _wait_line(proc, "Press Ctrl-C to stop", 150)
        text = "".join(out)
        assert f"http://127.0.0.1:{gw}/agent" in text and f"http://127.0.0.1:{gw}/wall" in text
        assert ("(Apache Kafka)" if broker == "kafka" else "(embedded broker)") in text, text
        if broker == "kafka":
            assert (tmp_path / "kafka" / "data" / "logs" / "meta.properties").exists(), "data under the data dir"
        for port in (gw, ing):
            assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200
        state = json.loads((tmp_path / "stack.json").read_text())
        pids = [p["pid"] for p in state["procs"]]
        assert {p["name"].split("-")[0] for p in state["procs"]} >= {"ingest", "analyzer", "nudger", "gateway"}
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= len(pids) + 1  # the services and the broker
        proc.send_signal(sig)
        rest, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, rest
        assert "Heartline stopped." in rest
        assert "Traceback" not in text + rest
        time.sleep(0.5)
        alive = [c.pid for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
        assert not alive, f"orphans left running: {alive}"
        logs = "".join(p.read_text(errors="replace") for p in (tmp_path / "logs").glob("*.log"))
        assert "Traceback" not in logs, logs[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()


@on_broker("embedded")
@pytest.mark.e2e
def test_run_with_demo_calls_shows_nudges_to_the_demo_agents(tmp_path):
    """What a newcomer sees: `heartline run`, open /agent as a demo agent, nudges arrive."""
    import asyncio

    import websockets

    from shared.auth import mint
    from shared.config import Settings

    gw, ing = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTLINE_")}
    env.update(
        HEARTLINE_GATEWAY_PORT=str(gw),
        HEARTLINE_INGEST_PORT=str(ing),
        HEARTLINE_DATA_DIR=str(tmp_path),
        PYTHONUNBUFFERED="1",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "heartline.cli", "run", "--calls", "4"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_line(proc, "Press Ctrl-C to stop", 120)
        page = httpx.get(f"http://127.0.0.1:{gw}/agent", timeout=5)
        assert page.status_code == 200 and "<html" in page.text.lower()

        async def watch():
            settings = Settings()
            socks = [
                await websockets.connect(f"ws://127.0.0.1:{gw}/ws/agent?token={mint(settings, f'a-00{i}', 'agent')}")
                for i in range(1, 5)
            ]
            kinds: dict[str, set] = {}

            async def listen(i, ws):
                async for text in ws:
                    kinds.setdefault(f"a-00{i}", set()).add(json.loads(text)["kind"])

            tasks = [asyncio.create_task(listen(i, ws)) for i, ws in enumerate(socks, 1)]
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and sum("nudge" in k for k in kinds.values()) < 2:
                await asyncio.sleep(1)
            for t in tasks:
                t.cancel()
            for ws in socks:
                await ws.close()
            return kinds

        kinds = asyncio.run(watch())
        assert sum("transcript" in k for k in kinds.values()) >= 3, kinds
        assert sum("nudge" in k for k in kinds.values()) >= 2, kinds
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0 and "Traceback" not in rest
    finally:
        if proc.poll() is None:
            proc.kill()


@on_broker("kafka")
@pytest.mark.e2e
def test_run_on_kafka_without_java_says_so_in_one_sentence(tmp_path):
    """No `java` on PATH: one clear sentence and exit 1, no stack trace, nothing left running."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("python3", "env", "sh"):  # a PATH with the basics but no java and no mvn
        if (Path("/usr/bin") / tool).exists():
            (bin_dir / tool).symlink_to(Path("/usr/bin") / tool)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTLINE_")}
    env.update(
        PATH=str(bin_dir),
        HEARTLINE_DATA_DIR=str(tmp_path),
        HEARTLINE_GATEWAY_PORT=str(free_port()),
        HEARTLINE_INGEST_PORT=str(free_port()),
    )
    done = subprocess.run(
        [sys.executable, "-m", "heartline.cli", "run", "--no-demo", "--broker", "kafka"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "Traceback" not in out, out
    assert "Java" in out and "`java` is not on PATH" in out, out


@on_broker("kafka")
@pytest.mark.e2e
def test_missing_maven_is_one_sentence(tmp_path, monkeypatch):
    from heartline.kafka_broker import KafkaUnavailable, ensure_jars

    monkeypatch.setenv("PATH", str(tmp_path))  # neither java nor mvn
    with pytest.raises(KafkaUnavailable, match="Java 17"):
        ensure_jars(tmp_path / "lib")
    (tmp_path / "java").symlink_to("/bin/true")
    with pytest.raises(KafkaUnavailable, match="`mvn` is not on PATH"):
        ensure_jars(tmp_path / "lib")


def _env(tmp_path, gw: int, ing: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTLINE_")}
    env.update(
        HEARTLINE_GATEWAY_PORT=str(gw),
        HEARTLINE_INGEST_PORT=str(ing),
        HEARTLINE_DATA_DIR=str(tmp_path),
        PYTHONUNBUFFERED="1",
    )
    return env


def _gone(pids: list[int], within: float) -> list[int]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        alive = [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
        if not alive:
            return []
        time.sleep(0.5)
    return alive


@on_broker("embedded")
@pytest.mark.e2e
def test_a_second_run_a_joined_worker_and_a_killed_runner(tmp_path):
    """Scaling by hand joins the running stack; a second run says plainly that the ports are taken;
    a SIGKILLed runner takes every child with it (services and broker)."""
    gw, ing = free_port(), free_port()
    env = _env(tmp_path, gw, ing)
    proc = subprocess.Popen(
        [sys.executable, "-m", "heartline.cli", "run", "--no-demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    extra = None
    try:
        _wait_line(proc, "Press Ctrl-C to stop", 150)
        children = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]

        # `heartline worker analyzer` with HEARTLINE_KAFKA unset joins this stack's broker and says so
        wport = free_port()
        extra = subprocess.Popen(
            [sys.executable, "-m", "heartline.cli", "worker", "analyzer"],
            env={**env, "HEARTLINE_WORKER_PORT": str(wport)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        said = _wait_line(extra, "joined the local stack's embedded broker at 127.0.0.1:", 60)
        assert "HEARTLINE_KAFKA is not set" not in "".join(said)
        deadline = time.monotonic() + 90
        ready = False
        while time.monotonic() < deadline and not ready:
            try:
                ready = httpx.get(f"http://127.0.0.1:{wport}/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                pass
            time.sleep(1)
        assert ready, "the joined analyzer never got partitions"

        # a second `heartline run` on the same ports: one sentence, nothing started
        second = subprocess.run(
            [sys.executable, "-m", "heartline.cli", "run", "--no-demo"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1
        assert f"port {gw} (gateway)" in second.stderr and f"pid {proc.pid}" in second.stderr, second.stderr
        assert "Heartline is running" not in second.stdout and "Traceback" not in second.stderr

        proc.kill()  # SIGKILL: the runner cannot stop anything itself
        proc.wait(10)
        left = _gone(children, 30)
        assert not left, f"orphans after the runner was SIGKILLed: {left}"
    finally:
        for p in (proc, extra):
            if p is not None and p.poll() is None:
                p.kill()


@on_broker("embedded")
@pytest.mark.e2e
@pytest.mark.parametrize("sig,when", [(signal.SIGTERM, "starting"), (signal.SIGHUP, "running")])
def test_run_stops_on_a_signal_while_starting_and_when_the_terminal_closes(tmp_path, sig, when):
    proc = subprocess.Popen(
        [sys.executable, "-m", "heartline.cli", "run", "--no-demo"],
        env=_env(tmp_path, free_port(), free_port()),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_line(proc, "starting" if when == "starting" else "Press Ctrl-C to stop", 150)
        if when == "starting":  # services exist but are not ready yet
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and len(psutil.Process(proc.pid).children()) < 3:
                time.sleep(0.1)
        children = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
        assert children
        t0 = time.monotonic()
        proc.send_signal(sig)
        rest, _ = proc.communicate(timeout=60)
        took = time.monotonic() - t0
        print(f"\n{signal.Signals(sig).name} while {when}: stopped in {took:.1f}s")
        assert took < 30, f"took {took:.0f}s to stop"
        assert "Heartline stopped." in rest and "Traceback" not in rest, rest
        assert not _gone(children, 15)
    finally:
        if proc.poll() is None:
            proc.kill()


# ------------------------------------------------- without a broker: what the children are given


def _user_shell(monkeypatch, **variables: str) -> None:
    """The environment `heartline run` is started from: only these HEARTLINE_* variables."""
    for name in [k for k in os.environ if k.startswith("HEARTLINE_")]:
        monkeypatch.delenv(name)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


def _stack_procs(group) -> list:
    """The processes `heartline run` starts (Stack.start), built but not started."""
    from heartline.procs import Proc

    procs = [Proc("ingest", ["serve", "ingest"], group.settings.ingest_port)]
    for kind in ("analyzer", "nudger", "recorder"):
        port = free_port()
        procs.append(Proc(f"{kind}-0", ["worker", kind], port, env={"HEARTLINE_WORKER_PORT": str(port)}))
    procs.append(Proc("gateway", ["serve", "gateway"], group.settings.gateway_port))
    procs.append(Proc("simulator", ["simulate", "--calls", "2", "--target", "ingest"]))
    return procs


def test_every_service_gets_the_settings_the_user_set_and_only_signers_the_jwt_secret(monkeypatch, tmp_path):
    """Guards: the services `heartline run` starts read the settings its user set (the customer
    salt, token audience and lifetime, retention, origins …), so the nudger and recorder hash
    customer ids with the salt `heartline customer delete` uses from the same shell, and in
    production mode they start. Before, every HEARTLINE_* variable the runner did not list was
    dropped: the workers hashed with the placeholder salt and the erasure matched nothing. The
    stack keeps what it decides itself (its broker, ports, topic prefix, group generation), and
    the JWT secret still reaches only the services that mint or verify tokens, the customer salt
    only the nudger and the recorder (the services that read the hashes must not be able to
    recover the ids)."""
    import secrets

    from heartline.procs import ProcessGroup
    from shared.config import Settings

    salt, jwt_secret = secrets.token_hex(32), secrets.token_urlsafe(32)
    user = {
        "HEARTLINE_MODE": "production",
        "HEARTLINE_CUSTOMER_SALT": salt,
        "HEARTLINE_JWT_SECRET": jwt_secret,
        "HEARTLINE_TOKEN_AUDIENCE": "acme-desk",
        "HEARTLINE_TOKEN_TTL_S": "1800",
        "HEARTLINE_TOKEN_MAX_TTL_S": "3600",
        "HEARTLINE_RETENTION_DAYS": "30",
        "HEARTLINE_ALLOWED_ORIGINS": '["https://wall.acme.example"]',
        "HEARTLINE_DATA_DIR": str(tmp_path),
        "HEARTLINE_SESSION_TIMEOUT_S": "5.5",
        "HEARTLINE_GATEWAY_PORT": str(free_port()),
        "HEARTLINE_INGEST_PORT": str(free_port()),
        # the stack's own: each worker gets its port, every service generation 0 and the stack's broker
        "HEARTLINE_WORKER_PORT": "7777",
        "HEARTLINE_GROUP_GENERATION": "5",
    }
    _user_shell(monkeypatch, **user)
    settings = Settings(broker="embedded")  # as `heartline run --broker embedded` reads them
    group = ProcessGroup(settings, tmp_path / "logs", "127.0.0.1:19092")
    hashers = {p.name for p in _stack_procs(group)}
    for proc in _stack_procs(group):
        env = group.proc_env(proc)
        _user_shell(monkeypatch, **{k: v for k, v in env.items() if k.startswith("HEARTLINE_")})
        child = Settings()  # what the child reads
        assert child.mode == "production", proc.name
        assert (child.token_audience, child.token_ttl_s, child.token_max_ttl_s) == ("acme-desk", 1800, 3600)
        assert child.retention_days == 30 and child.allowed_origins == ["https://wall.acme.example"], proc.name
        assert child.data_dir == tmp_path and child.session_timeout_s == 5.5, proc.name
        assert (child.kafka, child.broker, child.topic_prefix) == ("127.0.0.1:19092", "embedded", ""), proc.name
        assert (child.gateway_port, child.ingest_port) == (settings.gateway_port, settings.ingest_port)
        assert child.group_generation == 0, proc.name
        if proc.args[0] == "worker":
            assert child.worker_port == proc.port, proc.name
            assert "HEARTLINE_JWT_SECRET" not in env, f"{proc.name} got the signing key"
        else:
            assert child.jwt_secret.get_secret_value() == jwt_secret, proc.name
        if proc.args[:2] in (["worker", "nudger"], ["worker", "recorder"]):
            assert child.customer_salt.get_secret_value() == salt, proc.name
            child.require_secrets("customer_salt")  # in production mode it starts
        else:  # it reads hashed ids (call-state, history): with the salt it could recover them
            assert "HEARTLINE_CUSTOMER_SALT" not in env, f"{proc.name} got the customer salt"
            hashers.discard(proc.name)
    assert hashers == {"nudger-0", "recorder-0"}, "the salt goes where customer ids are hashed"


def test_a_worker_started_by_hand_joins_the_stacks_group_generation(monkeypatch, tmp_path, capsys):
    """Guards: stack.json records the group generation the stack's workers use (raised by each
    embedded-broker reset, supervisor.py), and `heartline worker …` with HEARTLINE_KAFKA unset
    joins those groups and says so. Before, the state file had only the broker: after a reset a
    worker started by hand joined the base group (heartline-analyzer, not -g1) and read every
    record again beside the stack's workers."""
    from heartline.procs import ProcessGroup
    from heartline.supervisor import CONSUMERS
    from shared.config import Settings, get_settings

    _user_shell(monkeypatch, HEARTLINE_DATA_DIR=str(tmp_path))
    group = ProcessGroup(Settings(), tmp_path / "logs", "127.0.0.1:19092")
    group.procs = _stack_procs(group)
    group.write_state()
    assert json.loads((tmp_path / "stack.json").read_text())["group_generation"] == 0
    for proc in group.procs:  # as BrokerSupervisor.recover() does for the consumers it restarts
        if proc.name.split("-")[0] in CONSUMERS:
            proc.env["HEARTLINE_GROUP_GENERATION"] = "2"
    group.write_state()  # the runner is this process: alive
    assert json.loads((tmp_path / "stack.json").read_text())["group_generation"] == 2

    get_settings.cache_clear()
    try:
        joined = get_settings()
    finally:
        get_settings.cache_clear()
    assert joined.kafka == "127.0.0.1:19092" and joined.group_generation == 2
    assert joined.group("analyzer") == "heartline-analyzer-g2"
    said = capsys.readouterr().err
    assert "joined the local stack's embedded broker at 127.0.0.1:19092, group generation 2" in said, said
