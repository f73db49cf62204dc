"""Broker supervision for a stack (see docs/reliability.md).

``supervise_once`` (every second from ``heartline run``; ``supervise()`` runs it on
a thread for tests): a broker process the stack started that exited is started
again on the same port (Apache Kafka with its data; the clients reconnect by
themselves). The embedded broker keeps everything in memory, so a restart is a
full reset, and group consumers then loop forever on
"OffsetCommit failed ... UnknownTopicOrPartition" (DESIGN.md, "Embedded
broker"). The supervisor marks each broker it set up with an epoch topic that no
client ever touches; when the broker is reachable again and that topic is gone,
the broker was reset: it re-creates the topics (replacing any that clients
auto-created with the wrong partition count), restarts the workers, the recorder
and the gateway (whose manual assignment points past the end of the new, empty
partitions), and marks the new epoch.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
import time
from dataclasses import dataclass, field

from heartline.broker import EmbeddedBroker
from heartline.procs import ProcessGroup
from shared.config import Settings
from shared.kafka import ensure_topics

CONSUMERS = ("analyzer", "nudger", "recorder", "gateway")


@dataclass
class BrokerSupervisor:
    """The topics on the stack's broker, and the broker's health as the stack sees it."""

    settings: Settings
    group: ProcessGroup
    broker: EmbeddedBroker | None = None  # or a KafkaBroker: the broker the stack started, if any
    recoveries: int = 0
    broker_down_since: float | None = None
    events: list[str] = field(default_factory=list)
    _hold_broker_down: bool = field(default=False, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def kafka(self) -> str:
        return self.group.kafka

    def note(self, text: str) -> None:
        """A supervision event: kept for tests, printed for `heartline run`."""
        self.events.append(f"{time.strftime('%H:%M:%S')} {text}")
        print(f"Heartline supervisor: {text}", flush=True)

    # -- topics and the broker epoch -------------------------------------------------

    @property
    def epoch_topic(self) -> str:
        return f"{self.settings.topic_prefix}heartline-stack-epoch"

    async def create_topics(self, mark_epoch: bool) -> None:
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
        """After a reset, with the workers stopped: drop the worker-internal topics written since
        (the nudger's changelog: nothing in it predates the reset), re-create ours."""
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
        await self.create_topics(mark_epoch=False)

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
                    self.start_broker()
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
        consumers = self.group.named(*CONSUMERS)
        # Stop the consumers first: until they are gone, the old workers keep writing (their
        # changelogs included, into topics auto-created after the reset), and a restarted nudger then
        # waited forever in table recovery on such a changelog. Then topics, then start them again.
        # Fresh group and changelog names for the restarted workers (Settings.group).
        for proc in consumers:
            proc.env["HEARTLINE_GROUP_GENERATION"] = str(self.recoveries + 1)
        self.group.restart(consumers, between=lambda: asyncio.run(self._reset_topics()))
        ingest = self.group.named("ingest")
        try:
            self.group.wait_ready(15, procs=ingest)
        except (TimeoutError, RuntimeError):
            self.note("ingest not ready after the reset; restarting it")
            self.group.restart(ingest)
        self.group.wait_ready(timeout, procs=consumers + ingest)
        asyncio.run(self.create_topics(mark_epoch=True))
        self.recoveries += 1
        self.note(f"recovered: {len(consumers)} processes restarted")

    def start_broker(self) -> None:
        if self.broker is None:
            raise RuntimeError("no broker of the stack's own to start")
        self.broker.start()
        # Before any client reconnects and auto-creates them with the broker's default partitions.
        asyncio.run(self.create_topics(mark_epoch=False))

    def restart_broker(self, down_s: float = 10.0, sig: int = signal.SIGTERM) -> None:
        """Stop the broker the stack started, keep it down ``down_s`` seconds, start it again on the
        same port: the embedded one comes back empty (memory storage), Apache Kafka with its data.
        Supervision and the clients do the rest."""
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
                self.start_broker()
                self._hold_broker_down = False
                self.note(
                    f"{self.broker.kind} broker started again"
                    + (" (empty)" if self.broker.kind == "embedded" else " (data kept)")
                )

    def start(self, every_s: float = 1.0) -> threading.Thread:
        """Run ``supervise_once`` every ``every_s`` seconds on a daemon thread until ``stop``."""

        def loop() -> None:
            while not self._stop.wait(every_s):
                try:
                    self.supervise_once()
                except Exception as exc:  # keep supervising
                    self.note(f"supervision step failed: {type(exc).__name__}: {exc}")

        self._stop.clear()
        self._thread = threading.Thread(target=loop, name="heartline-supervisor", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(30)
