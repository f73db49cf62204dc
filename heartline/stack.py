"""``heartline run``: the whole system as child processes on this machine.

Starts a broker (unless ``HEARTLINE_KAFKA`` is set): the embedded one, or
Apache Kafka with ``--broker kafka`` / ``HEARTLINE_BROKER=kafka``; creates the
topics, starts ingest, the analyzer and nudger workers, the recorder, the
gateway and (optionally) the demo simulator, waits until each is ready, and
stops every process it started on Ctrl-C / SIGTERM. The tests and the
benchmark use the same class, so they run exactly what a developer runs.

A ``Stack`` is two parts: a ``ProcessGroup`` (``procs.py``: the services as
child processes) and a ``BrokerSupervisor`` (``supervisor.py``: the topics,
and a broker that exited or came back empty). See docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from heartline.broker import EmbeddedBroker, free_port, make_broker
from heartline.lifeline import Lifeline
from heartline.procs import Proc, ProcessGroup
from heartline.supervisor import BrokerSupervisor
from shared.config import Settings

__all__ = ["Proc", "Stack", "run_foreground"]


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
    lifeline: Lifeline | None = None  # heartline run: children stop when the runner dies (lifeline.py)
    broker_port: int | None = None
    broker: EmbeddedBroker | None = None  # or a KafkaBroker: the broker this stack started
    group: ProcessGroup = field(init=False)
    supervisor: BrokerSupervisor = field(init=False)

    def __post_init__(self) -> None:
        self.group = ProcessGroup(
            self.settings, self.log_dir, self.settings.kafka or "", extra_env=self.extra_env, lifeline=self.lifeline
        )
        self.supervisor = BrokerSupervisor(self.settings, self.group)

    @property
    def kafka(self) -> str:
        return self.group.kafka

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.gateway_port}"

    @property
    def ingest_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.ingest_port}"

    def start(self, timeout: float = 90.0) -> Stack:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if not self.settings.kafka:
            self.broker = make_broker(
                self.settings.broker, self.broker_port, self.log_dir, self.settings.data_dir / "kafka" / "data"
            )
            self.broker.die_with_parent = self.lifeline is not None
            self.broker.start()
            self.group.kafka = self.broker.bootstrap
            self.supervisor.broker = self.broker
        asyncio.run(self.supervisor.create_topics(mark_epoch=True))
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

    def stop(self) -> None:
        self.supervisor.stop()
        self.group.stop_all()
        if self.broker:
            self.broker.stop()

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- the processes (ProcessGroup) ----------------------------------------------------

    @property
    def procs(self) -> list[Proc]:
        return self.group.procs

    def env(self, signs_tokens: bool = True, **extra) -> dict:
        return self.group.env(signs_tokens, **extra)

    def add(self, name: str, args: list[str], port: int | None = None, **env) -> Proc:
        return self.group.add(name, args, port, **env)

    def add_worker(self, kind: str, index: int) -> Proc:
        return self.group.add_worker(kind, index)

    def restart_procs(self, procs: list[Proc], sig: int = signal.SIGTERM, wait: float = 3.0, between=None) -> None:
        self.group.restart(procs, sig, wait, between)

    def wait_ready(self, timeout: float = 90.0, procs: list[Proc] | None = None) -> None:
        self.group.wait_ready(timeout, procs)

    def stop_proc(self, proc: Proc, sig: int = signal.SIGTERM, wait: float = 10.0) -> None:
        self.group.stop_proc(proc, sig, wait)

    # -- the broker (BrokerSupervisor) ---------------------------------------------------

    @property
    def events(self) -> list[str]:
        return self.supervisor.events

    @property
    def recoveries(self) -> int:
        return self.supervisor.recoveries

    def supervise_once(self) -> str:
        return self.supervisor.supervise_once()

    def supervise(self, every_s: float = 1.0):
        return self.supervisor.start(every_s)

    def restart_broker(self, down_s: float = 10.0, sig: int = signal.SIGTERM) -> None:
        self.supervisor.restart_broker(down_s, sig)


def _port_or_free(port: int) -> int:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            return free_port()


class _Interrupted(Exception):
    """A stop signal while ``heartline run`` was still starting."""


def _busy_ports(settings: Settings) -> list[str]:
    busy = []
    for name, port in (("gateway", settings.gateway_port), ("ingest", settings.ingest_port)):
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((settings.host, port))
            except OSError:
                busy.append(f"{port} ({name})")
    return busy


def _running_stack_note(settings: Settings) -> str:
    from shared.config import running_stack

    state = running_stack(settings.data_dir)
    if state:
        return (
            f" Another `heartline run` (pid {state['runner_pid']}, {settings.data_dir}/stack.json) "
            "holds them: stop it first (Ctrl-C in its terminal, or kill it: its services follow)."
        )
    return " Stop what listens there, or set HEARTLINE_GATEWAY_PORT / HEARTLINE_INGEST_PORT."


def run_foreground(settings: Settings, demo: bool, demo_calls: int) -> int:
    """``heartline run``: start everything, print the URLs, stop on a signal.

    SIGINT, SIGTERM and SIGHUP (the terminal closed) stop everything, during
    start-up too; a SIGKILLed runner's children stop by themselves (lifeline.py)."""
    busy = _busy_ports(settings)
    if busy:
        print(
            f"Heartline could not start: port {' and '.join(busy)} already in use." + _running_stack_note(settings),
            file=sys.stderr,
        )
        return 1
    state = {"stop": False, "starting": True}

    def _stop(signum, frame):
        state["stop"] = True
        if state["starting"]:
            state["starting"] = False  # raise once; stopping is then stack.stop()'s job
            raise _Interrupted(signal.Signals(signum).name)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _stop)
    stack = Stack(
        settings,
        demo=demo,
        demo_calls=demo_calls,
        log_dir=settings.data_dir / "logs",
        broker_port=_port_or_free(9092),
        lifeline=Lifeline(),
    )
    try:
        where = (
            f"on {settings.kafka}"
            if settings.kafka
            else "(Apache Kafka broker)"
            if settings.broker == "kafka"
            else "(embedded broker)"
        )
        print(f"Heartline: starting {where} …", flush=True)
        stack.start()
        state["starting"] = False
        print(
            f"""
Heartline is running{" with demo calls" if demo else ""}.
  Agent desktop     {stack.gateway_url}/agent
  Supervisor wall   {stack.gateway_url}/wall
  Ingest API        {stack.ingest_url}/v1/events
  Kafka             {stack.kafka} ({"Apache Kafka" if settings.broker == "kafka" else "embedded broker"})
  Logs              {stack.log_dir}/
Press Ctrl-C to stop.""",
            flush=True,
        )
        last_check = time.monotonic()
        while not state["stop"]:
            for proc in stack.procs:
                if proc.popen.poll() is not None and proc.name != "simulator":
                    print(
                        f"{proc.name} exited ({proc.popen.returncode}); stopping. See {stack.log_dir}/{proc.name}.log"
                    )
                    state["stop"] = True
            if not state["stop"] and time.monotonic() - last_check >= 1.0:
                last_check = time.monotonic()
                try:
                    stack.supervise_once()  # broker reset: topics again, workers restarted
                except (TimeoutError, RuntimeError) as exc:
                    print(f"Heartline supervisor: recovery failed: {exc}", flush=True)
            time.sleep(0.5)
    except _Interrupted as exc:
        print(f"Heartline: {exc} while starting; stopping.", flush=True)
    except (TimeoutError, RuntimeError) as exc:
        print(f"Heartline could not start: {exc}", file=sys.stderr)
        return 1
    finally:
        state["starting"] = False
        stack.stop()
        print("Heartline stopped.", flush=True)
    return 0
