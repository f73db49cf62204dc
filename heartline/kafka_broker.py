"""Apache Kafka's own broker on this machine, without Docker.

``deploy/kafka/pom.xml`` names ``org.apache.kafka:kafka_2.13`` (the version of
docker-compose.yml's ``apache/kafka`` image); Maven resolves it and its
runtime dependencies into ``.heartline/kafka/lib`` once. Heartline then
formats a KRaft storage directory (one node, combined broker + controller) and
runs ``java -cp <lib>/* kafka.Kafka server.properties``: the same broker the
image runs, with the same settings the compose file gives it.

Used by ``heartline run --broker kafka``, the tests (one process per test
session) and ``make bench BROKER=kafka``. Data survives a stop and a restart:
it lives under ``<data_dir>/kafka/<name>``.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import signal
import subprocess
import uuid
from pathlib import Path

from heartline.broker import free_port, log_to, stop_group, wait_port
from heartline.lifeline import die_with_parent_preexec

ROOT = Path(__file__).resolve().parent.parent
POM = ROOT / "deploy" / "kafka" / "pom.xml"
LIB = ROOT / ".heartline" / "kafka" / "lib"
JVM_OPTS = ["-Xms256m", "-Xmx1g", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true"]


NO_JAVA = (
    "Apache Kafka needs Java 17 or newer and `java` is not on PATH; "
    "install a JDK, or use the embedded broker (make run)."
)


class KafkaUnavailable(RuntimeError):
    """Java or Maven is missing, or the broker's jars could not be resolved: one sentence why."""


def kafka_version() -> str:
    match = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", POM.read_text())
    if not match:
        raise KafkaUnavailable(f"{POM} names no kafka.version")
    return match.group(1)


def ensure_jars(lib: Path = LIB, quiet: bool = True) -> Path:
    """The broker's jars in ``lib``, resolved by Maven on first use (about 15 s, then cached).

    Several processes may ask at once (parallel test runs): one resolves under a
    file lock into a fresh folder and renames it into place, so no broker ever
    starts on a half-copied class path."""
    import fcntl

    version = kafka_version()
    jar = f"kafka_2.13-{version}.jar"
    if (lib / jar).exists():
        return lib
    if not shutil.which("java"):
        raise KafkaUnavailable(NO_JAVA)
    if not shutil.which("mvn"):
        raise KafkaUnavailable(
            "Apache Kafka's jars are resolved with Maven and `mvn` is not on PATH; "
            "install Maven, or use the embedded broker (make run)."
        )
    lib.parent.mkdir(parents=True, exist_ok=True)
    with open(lib.parent / ".resolve.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (lib / jar).exists():  # another process resolved it meanwhile
            return lib
        fresh = lib.parent / f".lib-{os.getpid()}"
        shutil.rmtree(fresh, ignore_errors=True)
        cmd = ["mvn", "-B", *(["-q"] if quiet else []), "-f", str(POM), "package", f"-Dkafka.lib={fresh}"]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0 or not (fresh / jar).exists():
            shutil.rmtree(fresh, ignore_errors=True)
            tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
            raise KafkaUnavailable(f"Maven could not resolve Apache Kafka {version} ({' / '.join(tail)})")
        if lib.exists():  # another version's jars must not share the class path
            shutil.rmtree(lib)
        fresh.rename(lib)
    return lib


def cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (Kafka's Uuid)."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def server_properties(data: Path, port: int, controller_port: int) -> str:
    """One node, broker and controller in one process, on 127.0.0.1 only."""
    return f"""# written by Heartline (heartline/kafka_broker.py) on every start
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{controller_port}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs={data / "logs"}
num.partitions=8
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=24
"""


LOG4J2 = """Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.server.KafkaRaftServer
        level: INFO
"""


class KafkaBroker:
    """One Apache Kafka process (KRaft, single node) on 127.0.0.1:<port>, data on disk.

    The same interface as :class:`heartline.broker.EmbeddedBroker`, so the stack,
    the tests and the benchmark take either."""

    kind = "kafka"
    die_with_parent = False  # set by heartline run: the broker stops if the runner dies (lifeline.py)

    def __init__(
        self, port: int | None = None, log_path: Path | None = None, data_dir: Path | None = None, lib: Path = LIB
    ):
        self.port = port or free_port()
        self.controller_port = free_port()
        self.log_path = log_path
        self.data = Path(data_dir or ROOT / ".heartline" / "kafka" / "data").resolve()
        self.lib = lib
        self.proc: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _java(self, *args: str) -> list[str]:
        return [
            "java",
            *JVM_OPTS,
            f"-Dlog4j2.configurationFile={self.data / 'log4j2.yaml'}",
            "-cp",
            f"{self.lib}/*",
            *args,
        ]

    def _prepare(self) -> Path:
        if not shutil.which("java"):
            raise KafkaUnavailable(NO_JAVA)
        ensure_jars(self.lib)
        self.data.mkdir(parents=True, exist_ok=True)
        (self.data / "log4j2.yaml").write_text(LOG4J2)
        props = self.data / "server.properties"
        props.write_text(server_properties(self.data, self.port, self.controller_port))
        if not (self.data / "logs" / "meta.properties").exists():
            done = subprocess.run(
                self._java(
                    # --cluster-id=…: an id may start with "-" (1 in 64), which as a separate word reads as an option
                    "kafka.tools.StorageTool",
                    "format",
                    f"--cluster-id={cluster_id()}",
                    "-c",
                    str(props),
                    "--ignore-formatted",
                ),
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                raise KafkaUnavailable(f"Kafka storage could not be formatted: {done.stderr.strip()[-300:]}")
        return props

    def start(self, timeout: float = 60.0) -> KafkaBroker:
        props = self._prepare()
        with log_to(self.log_path) as out:
            self.proc = subprocess.Popen(
                self._java("kafka.Kafka", str(props)),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=die_with_parent_preexec() if self.die_with_parent else None,
            )
        try:
            wait_port("127.0.0.1", self.port, timeout=timeout, alive=self.alive)
        except TimeoutError:
            self.stop()
            raise
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, wait: float = 30.0) -> None:
        """SIGTERM: a controlled shutdown (logs flushed, clean); SIGKILL for a crash."""
        stop_group(self.proc, sig, wait)

    def __enter__(self) -> KafkaBroker:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
