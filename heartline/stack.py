"""``heartline run``: the whole system as child processes on this machine.

Starts a broker (unless ``HEARTLINE_KAFKA`` is set): the embedded one, or
Apache Kafka with ``--broker kafka`` / ``HEARTLINE_BROKER=kafka``; creates the
topics, starts ingest, the analyzer and nudger workers, the gateway and
(optionally) the demo simulator, waits until each is ready, and stops every
process it started on Ctrl-C / SIGTERM. The tests and the benchmark use the
same class, so they run exactly what a developer runs.

Supervision (``supervise_once``, called every second by ``heartline run``;
``supervise()`` runs it on a thread for tests): a broker process that exited
is started again on the same port (Apache Kafka with its data; the clients
reconnect by themselves). The embedded broker keeps
everything in memory, so a restart is a full reset, and faust and plain
group consumers then loop forever on "OffsetCommit failed ...
UnknownTopicOrPartition" (DESIGN.md, "Embedded broker"). The stack marks
each broker it set up with an epoch topic that no client ever touches; when
the broker is reachable again and that topic is gone, the broker was reset:
the supervisor re-creates the topics (replacing any that clients
auto-created with the wrong partition count), restarts the workers, the
recorder and the gateway (whose manual assignment points past the end of the
new, empty partitions), and marks the new epoch. A broker process that
exited is started again on the same port. See docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from heartline.broker import EmbeddedBroker, free_port, make_broker, stop_group
from heartline.lifeline import Lifeline
from shared.config import Settings
from shared.kafka import ensure_topics


@dataclass
class Proc:
    name: str
    args: list[str]
    port: int | None = None
    popen: subprocess.Popen | None = None
    env: dict = field(default_factory=dict)
    restarts: int = 0

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
    lifeline: Lifeline | None = None  # heartline run: children stop when the runner dies (lifeline.py)
    broker_port: int | None = None
    broker: EmbeddedBroker | None = None  # or a KafkaBroker: the broker this stack started
    procs: list[Proc] = field(default_factory=list)
    # supervision state (see the module docstring)
    recoveries: int = 0
    broker_down_since: float | None = None
    events: list[str] = field(default_factory=list)
    _hold_broker_down: bool = field(default=False, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _supervisor: threading.Thread | None = field(default=None, repr=False)
    _supervisor_stop: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def kafka(self) -> str:
        return self.settings.kafka or self.broker.bootstrap

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.gateway_port}"

    @property
    def ingest_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.ingest_port}"

    def env(self, signs_tokens: bool = True, **extra) -> dict:
        """A child's environment; the JWT secret only for those that mint or verify tokens (not workers)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTLINE_")}
        if signs_tokens:
            env["HEARTLINE_JWT_SECRET"] = self.settings.jwt_secret.get_secret_value()
        env.update(
            {
                "HEARTLINE_KAFKA": self.kafka,
                "HEARTLINE_BROKER": self.settings.broker,
                "HEARTLINE_MODE": self.settings.mode,
                "HEARTLINE_TOPIC_PREFIX": self.settings.topic_prefix,
                "HEARTLINE_PARTITIONS": str(self.settings.partitions),
                "HEARTLINE_FETCH_MAX_WAIT_MS": str(self.settings.fetch_max_wait_ms),
                "HEARTLINE_RULES": str(self.settings.rules),
                "HEARTLINE_GATEWAY_PORT": str(self.settings.gateway_port),
                "HEARTLINE_INGEST_PORT": str(self.settings.ingest_port),
                "HEARTLINE_LOG_LEVEL": self.settings.log_level,
                "HEARTLINE_DATABASE_URL": self.settings.db_url,
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def start(self, timeout: float = 90.0) -> Stack:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if not self.settings.kafka:
            self.broker = make_broker(
                self.settings.broker, self.broker_port, self.log_dir, self.settings.data_dir / "kafka" / "data"
            )
            self.broker.die_with_parent = self.lifeline is not None
            self.broker.start()
        asyncio.run(self._create_topics(mark_epoch=True))
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
        proc = Proc(name, args, port, env={k: str(v) for k, v in env.items()})
        self._spawn(proc)
        self.procs.append(proc)
        self._write_state()
        return proc

    def _spawn(self, proc: Proc) -> None:
        lifeline = self.lifeline.env() if self.lifeline else {}
        with open(self.log_dir / f"{proc.name}.log", "ab") as log:
            proc.popen = subprocess.Popen(
                [sys.executable, "-m", "heartline.cli", *proc.args],
                env=self.env(signs_tokens=proc.args[0] != "worker", **proc.env, **lifeline),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                pass_fds=self.lifeline.pass_fds if self.lifeline else (),
            )

    def restart_procs(self, procs: list[Proc], sig: int = signal.SIGTERM, wait: float = 3.0, between=None) -> None:
        """Stop these processes (all at once, SIGKILL after ``wait``), call ``between()`` if given,
        and start them again alike."""
        for proc in procs:
            if proc.popen and proc.popen.poll() is None:
                try:
                    os.killpg(proc.popen.pid, sig)
                except ProcessLookupError:
                    pass
        for proc in procs:
            self.stop_proc(proc, sig=sig, wait=wait)
        if between is not None:
            between()
        for proc in procs:
            proc.restarts += 1
            self._spawn(proc)
        self._write_state()

    def note(self, text: str) -> None:
        """A supervision event: kept for tests, printed for `heartline run`."""
        self.events.append(f"{time.strftime('%H:%M:%S')} {text}")
        print(f"Heartline supervisor: {text}", flush=True)

    # -- topics and the broker epoch -------------------------------------------------

    @property
    def epoch_topic(self) -> str:
        return f"{self.settings.topic_prefix}heartline-stack-epoch"

    async def _create_topics(self, mark_epoch: bool) -> None:
        """Create the topics; replace any a client auto-created with the wrong partition count."""
        from aiokafka.admin import AIOKafkaAdminClient, NewTopic

        settings = self.settings.model_copy(update={"kafka": self.kafka})
        await ensure_topics(settings)
        admin = AIOKafkaAdminClient(bootstrap_servers=self.kafka)
        await admin.start()
        try:
            names = settings.topics.all_with_dlq()
            wrong = []
            for desc in await admin.describe_topics(names):
                if desc.get("error_code") == 0 and len(desc.get("partitions") or ()) != settings.partitions:
                    wrong.append(desc["topic"])
            if wrong:
                # Auto-created (4 partitions on the embedded broker) by a client that reconnected before
                # the topics were re-created. Their records were written after the reset; say so loudly.
                self.note(
                    f"re-creating auto-created topics with {settings.partitions} partitions "
                    f"(records written to them since the reset are dropped): {wrong}"
                )
                await admin.delete_topics(wrong)
                await asyncio.sleep(0.2)
                await ensure_topics(settings)
            if mark_epoch:
                existing = set(await admin.list_topics())
                if self.epoch_topic not in existing:
                    await admin.create_topics([NewTopic(self.epoch_topic, num_partitions=1, replication_factor=1)])
        finally:
            await admin.close()

    async def _reset_topics(self) -> None:
        """After a reset, with the workers stopped: drop the faust-internal topics written since
        (changelogs, repartition topics: nothing in them predates the reset), re-create ours."""
        from aiokafka.admin import AIOKafkaAdminClient

        ours = set(self.settings.topics.all_with_dlq()) | {self.epoch_topic}
        prefix = self.settings.group("")
        admin = AIOKafkaAdminClient(bootstrap_servers=self.kafka)
        await admin.start()
        try:
            stale = [t for t in await admin.list_topics() if t.startswith(prefix) and t not in ours]
            if stale:
                self.note(f"dropping worker-internal topics re-created since the reset: {stale}")
                await admin.delete_topics(stale)
                await asyncio.sleep(0.2)
        finally:
            await admin.close()
        await self._create_topics(mark_epoch=False)

    async def _epoch_present(self) -> bool | None:
        """True: the broker still holds this stack's epoch; False: it was reset; None: no answer."""
        from aiokafka.admin import AIOKafkaAdminClient

        admin = AIOKafkaAdminClient(bootstrap_servers=self.kafka, request_timeout_ms=3000)
        try:
            await asyncio.wait_for(admin.start(), 3)
            return self.epoch_topic in set(await asyncio.wait_for(admin.list_topics(), 3))
        except Exception:
            return None
        finally:
            try:
                await admin.close()
            except Exception:
                pass

    def _broker_reachable(self) -> bool:
        for server in self.kafka.split(","):
            host, _, port = server.strip().rpartition(":")
            try:
                with socket.create_connection((host or "127.0.0.1", int(port)), timeout=1.0):
                    return True
            except (OSError, ValueError):
                continue
        return False

    # -- supervision -------------------------------------------------------------------

    def supervise_once(self) -> str:
        """One look at the broker: "ok", "down" (unreachable), or "recovered" (it was reset and
        the stack re-created the topics and restarted the consumers)."""
        with self._lock:
            if self.broker and not self.broker.alive() and not self._hold_broker_down:
                self.note(
                    f"{self.broker.kind} broker exited ({self.broker.proc.returncode if self.broker.proc else None}); "
                    f"starting it again on port {self.broker.port}"
                )
                try:
                    self._start_broker()
                except Exception as exc:
                    self.note(f"broker did not start: {exc}")
                    return "down"
            if not self._broker_reachable():
                if self.broker_down_since is None:
                    self.broker_down_since = time.monotonic()
                    self.note(f"broker {self.kafka} unreachable")
                return "down"
            present = asyncio.run(self._epoch_present())
            if present is None:
                return "down"
            if self.broker_down_since is not None:
                self.note(f"broker reachable again after {time.monotonic() - self.broker_down_since:.1f}s")
                self.broker_down_since = None
            if present:
                return "ok"
            self.recover()
            return "recovered"

    def recover(self, timeout: float = 120.0) -> None:
        """The broker came back empty: topics again, consumers restarted, a new epoch."""
        self.note("broker was reset (epoch topic gone): re-creating topics, restarting workers and gateway")
        consumers = [
            p
            for p in self.procs
            if p.name.split("-")[0] in ("analyzer", "nudger", "recorder", "gateway") and p.popen is not None
        ]
        # Stop the consumers first: until they are gone, the old workers keep writing (their faust
        # changelogs included, into topics auto-created after the reset), and a restarted nudger then
        # waited forever in table recovery on such a changelog. Then topics, then start them again.
        # Fresh group and changelog names for the restarted workers (Settings.group).
        for proc in consumers:
            proc.env["HEARTLINE_GROUP_GENERATION"] = str(self.recoveries + 1)
        self.restart_procs(consumers, between=lambda: asyncio.run(self._reset_topics()))
        ingest = [p for p in self.procs if p.name == "ingest"]
        try:
            self.wait_ready(15, procs=ingest)
        except (TimeoutError, RuntimeError):
            self.note("ingest not ready after the reset; restarting it")
            self.restart_procs(ingest)
        self.wait_ready(timeout, procs=consumers + ingest)
        asyncio.run(self._create_topics(mark_epoch=True))
        self.recoveries += 1
        self.note(f"recovered: {len(consumers)} processes restarted")

    def _start_broker(self) -> None:
        self.broker.start()
        # Before any client reconnects and auto-creates them with the broker's default partitions.
        asyncio.run(self._create_topics(mark_epoch=False))

    def restart_broker(self, down_s: float = 10.0, sig: int = signal.SIGTERM) -> None:
        """Stop the broker this stack started, keep it down ``down_s`` seconds, start it again on the
        same port: the embedded one comes back empty (memory storage), Apache Kafka with its data.
        The supervisor and the clients do the rest."""
        if not self.broker:
            raise RuntimeError("only a broker the stack started can be restarted by the stack")
        with self._lock:
            self._hold_broker_down = True
            if self.broker.kind == "kafka":
                self.broker.stop(sig=sig)
            else:
                self.broker.stop()
            self.note(f"{self.broker.kind} broker stopped for {down_s:.0f}s")
        try:
            time.sleep(down_s)
        finally:
            with self._lock:
                self._start_broker()
                self._hold_broker_down = False
                self.note(
                    f"{self.broker.kind} broker started again"
                    + (" (empty)" if self.broker.kind == "embedded" else " (data kept)")
                )

    def supervise(self, every_s: float = 1.0) -> threading.Thread:
        """Run ``supervise_once`` every ``every_s`` seconds on a daemon thread until ``stop``."""

        def loop() -> None:
            while not self._supervisor_stop.wait(every_s):
                try:
                    self.supervise_once()
                except Exception as exc:  # keep supervising
                    self.note(f"supervision step failed: {type(exc).__name__}: {exc}")

        self._supervisor_stop.clear()
        self._supervisor = threading.Thread(target=loop, name="heartline-supervisor", daemon=True)
        self._supervisor.start()
        return self._supervisor

    def _write_state(self) -> None:
        """Where `heartline status` finds the processes this stack started."""
        import json

        state = {
            "kafka": self.kafka,
            "broker": self.settings.broker,
            "runner_pid": os.getpid(),
            "procs": [{"name": p.name, "pid": p.popen.pid if p.popen else None, "port": p.port} for p in self.procs],
        }
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
                    raise RuntimeError(
                        f"{proc.name} exited with {proc.popen.returncode}; see {self.log_dir}/{proc.name}.log"
                    )
                try:
                    if httpx.get(f"{proc.url}/readyz", timeout=1).status_code == 200:
                        pending.remove(proc)
                except httpx.HTTPError:
                    pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"not ready after {timeout:.0f}s: {[p.name for p in pending]}")
            time.sleep(0.2)

    def stop_proc(self, proc: Proc, sig: int = signal.SIGTERM, wait: float = 10.0) -> None:
        stop_group(proc.popen, sig, wait)

    def stop(self) -> None:
        self._supervisor_stop.set()
        if self._supervisor:
            self._supervisor.join(30)
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

    def __enter__(self) -> Stack:
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
