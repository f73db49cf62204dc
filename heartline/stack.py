"""``heartline run``: the whole system as child processes on this machine.

Starts the embedded broker (unless ``HEARTLINE_KAFKA`` is set), creates the
topics, starts ingest, the analyzer and nudger workers, the gateway and
(optionally) the demo simulator, waits until each is ready, and stops every
process it started on Ctrl-C / SIGTERM. The tests and the benchmark use the
same class, so they run exactly what a developer runs.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from heartline.broker import EmbeddedBroker, free_port
from shared.config import Settings
from shared.kafka import ensure_topics


@dataclass
class Proc:
    name: str
    args: list[str]
    port: int | None = None
    popen: subprocess.Popen | None = None

    @property
    def url(self) -> str | None:
        return f"http://127.0.0.1:{self.port}" if self.port else None


@dataclass
class Stack:
    settings: Settings
    demo: bool = False
    demo_calls: int = 6
    analyzers: int = 1
    nudgers: int = 1
    recorder: bool = True
    log_dir: Path = Path(".heartline/logs")
    extra_env: dict = field(default_factory=dict)
    broker_port: int | None = None
    broker: EmbeddedBroker | None = None
    procs: list[Proc] = field(default_factory=list)

    @property
    def kafka(self) -> str:
        return self.settings.kafka or self.broker.bootstrap

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.gateway_port}"

    @property
    def ingest_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.ingest_port}"

    def env(self, **extra) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTLINE_")}
        env.update({
            "HEARTLINE_KAFKA": self.kafka,
            "HEARTLINE_MODE": self.settings.mode,
            "HEARTLINE_JWT_SECRET": self.settings.jwt_secret.get_secret_value(),
            "HEARTLINE_TOPIC_PREFIX": self.settings.topic_prefix,
            "HEARTLINE_PARTITIONS": str(self.settings.partitions),
            "HEARTLINE_FETCH_MAX_WAIT_MS": str(self.settings.fetch_max_wait_ms),
            "HEARTLINE_RULES": str(self.settings.rules),
            "HEARTLINE_GATEWAY_PORT": str(self.settings.gateway_port),
            "HEARTLINE_INGEST_PORT": str(self.settings.ingest_port),
            "HEARTLINE_LOG_LEVEL": self.settings.log_level,
            "HEARTLINE_DATABASE_URL": self.settings.db_url,
            "PYTHONUNBUFFERED": "1",
        })
        env.update(self.extra_env)
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def start(self, timeout: float = 90.0) -> "Stack":
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if not self.settings.kafka:
            self.broker = EmbeddedBroker(self.broker_port, log_path=self.log_dir / "broker.log").start()
        asyncio.run(ensure_topics(self.settings.model_copy(update={"kafka": self.kafka})))
        self.add("ingest", ["serve", "ingest"], port=self.settings.ingest_port)
        for i in range(self.analyzers):
            self.add_worker("analyzer", i)
        for i in range(self.nudgers):
            self.add_worker("nudger", i)
        if self.recorder:
            self.add_worker("recorder", 0)
        self.add("gateway", ["serve", "gateway"], port=self.settings.gateway_port)
        self.wait_ready(timeout)
        if self.demo:
            self.add("simulator", ["simulate", "--calls", str(self.demo_calls), "--target", "ingest"])
        return self

    def add_worker(self, kind: str, index: int) -> Proc:
        port = free_port()
        return self.add(f"{kind}-{index}", ["worker", kind], port=port, HEARTLINE_WORKER_PORT=port)

    def add(self, name: str, args: list[str], port: int | None = None, **env) -> Proc:
        proc = Proc(name, args, port)
        log = open(self.log_dir / f"{name}.log", "ab")
        proc.popen = subprocess.Popen(
            [sys.executable, "-m", "heartline.cli", *args], env=self.env(**env),
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
        self.procs.append(proc)
        self._write_state()
        return proc

    def _write_state(self) -> None:
        """Where `heartline status` finds the processes this stack started."""
        import json

        state = {"kafka": self.kafka, "procs": [
            {"name": p.name, "pid": p.popen.pid if p.popen else None, "port": p.port} for p in self.procs]}
        try:
            (self.log_dir.parent / "stack.json").write_text(json.dumps(state))
        except OSError:
            pass

    def wait_ready(self, timeout: float = 90.0, procs: list[Proc] | None = None) -> None:
        deadline = time.monotonic() + timeout
        pending = [p for p in (procs or self.procs) if p.port]
        while pending:
            for proc in list(pending):
                if proc.popen.poll() is not None:
                    raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode}; see {self.log_dir}/{proc.name}.log")
                try:
                    if httpx.get(f"{proc.url}/readyz", timeout=1).status_code == 200:
                        pending.remove(proc)
                except httpx.HTTPError:
                    pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"not ready after {timeout:.0f}s: {[p.name for p in pending]}")
            time.sleep(0.2)

    def stop_proc(self, proc: Proc, sig: int = signal.SIGTERM, wait: float = 10.0) -> None:
        if proc.popen and proc.popen.poll() is None:
            try:
                os.killpg(proc.popen.pid, sig)
            except ProcessLookupError:
                return
            try:
                proc.popen.wait(wait)
            except subprocess.TimeoutExpired:
                os.killpg(proc.popen.pid, signal.SIGKILL)
                proc.popen.wait()

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.popen and proc.popen.poll() is None:
                try:
                    os.killpg(proc.popen.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in reversed(self.procs):
            self.stop_proc(proc)
        if self.broker:
            self.broker.stop()

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _port_or_free(port: int) -> int:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            return free_port()


def run_foreground(settings: Settings, demo: bool, demo_calls: int) -> int:
    """``heartline run``: start everything, print the URLs, stop on a signal."""
    stop = {"flag": False}

    def _stop(signum, frame):
        stop["flag"] = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    stack = Stack(settings, demo=demo, demo_calls=demo_calls, log_dir=settings.data_dir / "logs",
                  broker_port=_port_or_free(9092))
    try:
        print("Heartline: starting" + ("" if settings.kafka else " (embedded broker)") + " …", flush=True)
        stack.start()
        print(f"""
Heartline is running{' with demo calls' if demo else ''}.
  Agent desktop     {stack.gateway_url}/agent
  Supervisor wall   {stack.gateway_url}/wall
  Ingest API        {stack.ingest_url}/v1/events
  Kafka             {stack.kafka}
  Logs              {stack.log_dir}/
Press Ctrl-C to stop.""", flush=True)
        while not stop["flag"]:
            for proc in stack.procs:
                if proc.popen.poll() is not None and proc.name != "simulator":
                    print(f"{proc.name} exited ({proc.popen.returncode}); stopping. See {stack.log_dir}/{proc.name}.log")
                    stop["flag"] = True
            time.sleep(0.5)
    except (TimeoutError, RuntimeError) as exc:
        print(f"Heartline could not start: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
        print("Heartline stopped.", flush=True)
    return 0
