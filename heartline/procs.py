"""The stack's child processes: each service is ``python -m heartline.cli …`` in its own
process group, its output in ``<log_dir>/<name>.log``; started, restarted alike, waited
for on ``/readyz`` and stopped (SIGTERM, SIGKILL after a wait). ``heartline status``
finds them through ``stack.json`` next to the logs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic import SecretStr

from heartline.broker import free_port, stop_group
from heartline.lifeline import Lifeline
from shared.config import Settings

# Settings the stack decides for each child whatever the user set: the broker it started (or
# was given), each worker's health port, the group generation (supervisor.py: fresh group names
# after a broker reset), the JWT signing key (only to the processes that mint or verify tokens)
# and the customer salt (only to the workers that hash customer ids: a service that reads the
# hashes and holds the salt could recover the ids by trying every phone number).
STACK_OWNED = frozenset({"kafka", "worker_port", "group_generation", "jwt_secret", "customer_salt"})
HASHERS = (["worker", "nudger"], ["worker", "recorder"])


def settings_env(settings: Settings, owned: frozenset[str] = STACK_OWNED) -> dict[str, str]:
    """``HEARTLINE_*`` variables for every setting that was set (in the environment or by
    keyword), written the way Settings reads them back, except ``owned``. A child started with
    them reads the settings its runner read: the customer salt, token audience, retention …"""
    out = {}
    for name in sorted(settings.model_fields_set - owned):
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (list, dict)):
            value = json.dumps(value)
        out[f"HEARTLINE_{name.upper()}"] = str(value)
    return out


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
class ProcessGroup:
    """Heartline's services as child processes of this one, all talking to ``kafka``."""

    settings: Settings
    log_dir: Path
    kafka: str = ""
    extra_env: dict = field(default_factory=dict)
    lifeline: Lifeline | None = None  # heartline run: children stop when the runner dies (lifeline.py)
    procs: list[Proc] = field(default_factory=list)

    def env(self, signs_tokens: bool = True, hashes_customers: bool = False, **extra) -> dict:
        """A child's environment: every setting the user set (``settings_env``), then the ones the
        stack decides (its broker, ports, topic prefix …); the JWT secret only for those that mint
        or verify tokens (not workers), the customer salt only for the nudger and the recorder."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTLINE_")}
        env.update(settings_env(self.settings))
        if signs_tokens:
            env["HEARTLINE_JWT_SECRET"] = self.settings.jwt_secret.get_secret_value()
        if hashes_customers and "customer_salt" in self.settings.model_fields_set:
            env["HEARTLINE_CUSTOMER_SALT"] = self.settings.customer_salt.get_secret_value()
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

    def add_worker(self, kind: str, index: int) -> Proc:
        port = free_port()
        return self.add(f"{kind}-{index}", ["worker", kind], port=port, HEARTLINE_WORKER_PORT=port)

    def add(self, name: str, args: list[str], port: int | None = None, **env) -> Proc:
        proc = Proc(name, args, port, env={k: str(v) for k, v in env.items()})
        self._spawn(proc)
        self.procs.append(proc)
        self.write_state()
        return proc

    def proc_env(self, proc: Proc) -> dict:
        """The environment ``proc`` is started with: workers never get the JWT secret, and only the
        nudger and the recorder get the customer salt."""
        lifeline = self.lifeline.env() if self.lifeline else {}
        return self.env(
            signs_tokens=proc.args[0] != "worker", hashes_customers=proc.args[:2] in HASHERS, **proc.env, **lifeline
        )

    def _spawn(self, proc: Proc) -> None:
        with open(self.log_dir / f"{proc.name}.log", "ab") as log:
            proc.popen = subprocess.Popen(
                [sys.executable, "-m", "heartline.cli", *proc.args],
                env=self.proc_env(proc),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                pass_fds=self.lifeline.pass_fds if self.lifeline else (),
            )

    def restart(self, procs: list[Proc], sig: int = signal.SIGTERM, wait: float = 3.0, between=None) -> None:
        """Stop these processes (all at once, SIGKILL after ``wait``), call ``between()`` if given,
        and start them again alike."""
        for proc in procs:
            _signal(proc, sig)
        for proc in procs:
            self.stop_proc(proc, sig=sig, wait=wait)
        if between is not None:
            between()
        for proc in procs:
            proc.restarts += 1
            self._spawn(proc)
        self.write_state()

    @property
    def group_generation(self) -> int:
        """The generation of the consumer group names the stack's workers use: 0, then raised by
        each broker reset (supervisor.py sets it in the restarted workers' environment)."""
        return max((int(p.env.get("HEARTLINE_GROUP_GENERATION", 0)) for p in self.procs), default=0)

    def write_state(self) -> None:
        """Where `heartline status` finds the processes this stack started, and a worker started
        by hand (HEARTLINE_KAFKA unset) the broker and group generation to join
        (shared/config.py get_settings)."""
        state = {
            "kafka": self.kafka,
            "broker": self.settings.broker,
            "group_generation": self.group_generation,
            "runner_pid": os.getpid(),
            "procs": [{"name": p.name, "pid": p.popen.pid if p.popen else None, "port": p.port} for p in self.procs],
        }
        try:
            (self.log_dir.parent / "stack.json").write_text(json.dumps(state))
        except OSError:
            pass

    def wait_ready(self, timeout: float = 90.0, procs: list[Proc] | None = None) -> None:
        """Until every one of ``procs`` (default: all) with a port answers 200 on /readyz;
        RuntimeError when one exits, TimeoutError after ``timeout`` seconds."""
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

    def stop_all(self) -> None:
        """Every process, the last started first: all signalled at once, then each waited for."""
        for proc in reversed(self.procs):
            _signal(proc, signal.SIGTERM)
        for proc in reversed(self.procs):
            self.stop_proc(proc)

    def named(self, *kinds: str) -> list[Proc]:
        """The started processes of these kinds (``analyzer`` matches analyzer-0, analyzer-1 …)."""
        return [p for p in self.procs if p.name.split("-")[0] in kinds and p.popen is not None]


def _signal(proc: Proc, sig: int) -> None:
    if proc.popen and proc.popen.poll() is None:
        try:
            os.killpg(proc.popen.pid, sig)
        except ProcessLookupError:
            pass
