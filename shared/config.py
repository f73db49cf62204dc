"""All Heartline settings in one pydantic-settings class (env prefix HEARTLINE_)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.topics import Topics

PLACEHOLDER_SECRET = "heartline-local-dev-secret-change-me"
PLACEHOLDER_SALT = "heartline-local-customer-salt"
# Secrets checked outside local mode (shared/secret_strength.py): field -> variable.
SECRETS = {"jwt_secret": "HEARTLINE_JWT_SECRET", "customer_salt": "HEARTLINE_CUSTOMER_SALT"}
DEFAULT_RULES = Path(__file__).resolve().parent.parent / "rules" / "default.yaml"
DEFAULT_KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


class Settings(BaseSettings):
    # hide_input_in_errors: a refused setting's message must not quote the secrets beside it.
    model_config = SettingsConfigDict(env_prefix="HEARTLINE_", extra="ignore", hide_input_in_errors=True)

    # "local" (one box, embedded broker, demo secret allowed) or "production".
    mode: Literal["local", "production"] = "local"
    # Bootstrap servers; unset = `heartline run` starts the embedded broker.
    kafka: str | None = None
    # Only the services that mint or verify user tokens need it (gateway, ingest, asr bridge).
    jwt_secret: SecretStr = SecretStr(PLACEHOLDER_SECRET)
    token_ttl_s: int = 12 * 3600
    # Tokens carry this `aud`; a token without it, or living longer than the max, is refused.
    token_audience: str = "heartline"
    token_max_ttl_s: int = 12 * 3600

    host: str = "127.0.0.1"
    gateway_port: int = 8000
    ingest_port: int = 8001
    # HTTP port of a worker's /healthz, /readyz, /metrics (0 = any free port).
    worker_port: int = 6066

    rules: Path = DEFAULT_RULES
    # The knowledge base (knowledge/*.yaml, docs/knowledge.md): the analyzer answers customers' questions from it.
    knowledge: Path = DEFAULT_KNOWLEDGE
    demo: bool = True
    demo_calls: int = 6
    data_dir: Path = Path(".heartline")

    topic_prefix: str = ""
    group_generation: int = 0
    partitions: int = 8
    # Which broker is behind `kafka`: "kafka" (Apache Kafka or any broker that
    # behaves like it) or "embedded" (the Tansu broker `heartline run` starts by
    # default; its settings below: fetch wait, session timeout, acks).
    # Unset: "kafka" when HEARTLINE_KAFKA is set, else "embedded".
    broker: Literal["embedded", "kafka"] | None = None
    # The embedded broker answers a waiting fetch only when the wait expires,
    # so every consumer uses a short wait there (10 ms); Apache Kafka answers as
    # soon as data arrives, so 500 ms costs no latency. Unset = per broker.
    fetch_max_wait_ms: int | None = None
    # How long a producer waits to fill a batch (aiokafka's linger): fewer, larger
    # produce requests for the broker to handle, at up to this much latency per hop. 0: under
    # load the producers batch anyway (5 ms saved 7 % of the broker's CPU at 250 calls and
    # added ~14 ms to the transcript's p50; docs/benchmark.md).
    producer_linger_ms: int = 0
    # Group timing: short so a killed worker's partitions move within seconds.
    # Apache Kafka refuses sessions under its group.min.session.timeout.ms
    # (6 s by default), so the default there is 6 s; the embedded broker takes 4 s.
    session_timeout_s: float | None = None
    heartbeat_interval_s: float = 0.5
    rebalance_timeout_s: float = 4.0

    # Ingest limits.
    max_body_bytes: int = 1_000_000
    max_batch_events: int = 1000
    ingest_require_token: bool = True
    # How long ingest waits for the broker's ack before answering 503 + Retry-After
    # (the producer's request timeout, so a send never hangs for aiokafka's default 40 s).
    ingest_send_timeout_s: float = 5.0
    # Messages per second (and burst) one /v1/stream connection may send; more closes it with
    # 4429. One bridge connection often carries every call of a site: size for that.
    ingest_stream_rate: float = 500.0
    ingest_stream_burst: int = 1000
    # The gateway's POST bodies (sign-in, whisper, feedback): larger is a 413 before the route runs.
    gateway_max_body_bytes: int = 64 * 1024

    # Extra browser origins allowed on the websockets (same origin always is).
    allowed_origins: list[str] = []

    log_level: str = "INFO"

    # ASR bridge (services/asr_bridge, docs/speech.md; needs `make install-speech`).
    # Unset asr_model = <data_dir>/models/whisper-base, assembled on first use.
    asr_model: Path | None = None
    asr_device: Literal["cpu", "cuda"] = "cpu"
    asr_compute_type: str | None = None  # None: int8 on cpu, float16 on cuda
    asr_cpu_threads: int = 0  # 0: CTranslate2 picks
    asr_workers: int = 1  # decodes at once (one model, shared by every call)
    asr_port: int = 8003
    asr_target: Literal["kafka", "ingest"] = "kafka"
    asr_beam_size: int = 5  # finals; partials are always greedy
    asr_window_s: float = 10.0  # least audio window whisper encodes (30 = whisper's own)
    asr_partial_interval_ms: int = 1000  # re-decode the growing segment this often (0: no partials)
    asr_end_silence_ms: int = 500  # silence that closes a segment
    asr_max_segment_ms: int = 15000
    asr_vad_aggressiveness: int = 2  # webrtcvad 0..3

    # Call history (services/recorder, docs/history.md). Unset database_url =
    # a SQLite file under data_dir; production: postgresql+psycopg://...
    database_url: str | None = None
    retention_days: int = 90
    # Salt of the customer-id hash (SHA-256): customer ids are never stored in clear.
    customer_salt: SecretStr = SecretStr(PLACEHOLDER_SALT)
    history_calls: int = 5  # last N calls shown to the agent
    repeat_window_days: int = 7  # repeat_caller: an unresolved call on the same topic this recent
    purge_every_s: float = 24 * 3600
    # How long an ended call stays on the compacted call-state topic (and in the
    # nudger's memory, for late events) before the nudger deletes it with a
    # tombstone; a call whose end never came is deleted after 30 min of silence.
    call_state_keep_s: float = 120.0
    # The call scorecard standard (质检): items and weights, reloaded when the file changes.
    scorecard_rules: Path = DEFAULT_RULES.parent / "scorecard.yaml"

    @model_validator(mode="after")
    def _broker_defaults(self) -> Settings:
        # Written past __setattr__ so they stay "unset": `on_broker` derives them again.
        if self.broker is None:
            self.__dict__["broker"] = "kafka" if self.kafka else "embedded"
        embedded = self.broker == "embedded"
        if self.fetch_max_wait_ms is None:
            self.__dict__["fetch_max_wait_ms"] = 10 if embedded else 500
        if self.session_timeout_s is None:
            self.__dict__["session_timeout_s"] = 4.0 if embedded else 6.0
        return self

    def on_broker(self, kafka: str, broker: str | None = None) -> Settings:
        """These settings pointed at another broker, with that broker's defaults."""
        data = self.model_dump(exclude_unset=True)
        data.update(kafka=kafka, broker=broker or self.broker)
        return Settings(**data)

    @property
    def on_embedded_broker(self) -> bool:
        return self.broker == "embedded"

    @model_validator(mode="after")
    def _refuse_weak_secrets(self) -> Settings:
        """Outside local mode every secret that is given must be strong; one not given
        is refused where it is needed (``require_secrets``), so a worker that signs
        nothing runs without the signing key."""
        from shared.secret_strength import weakness

        if self.token_ttl_s > self.token_max_ttl_s:
            raise ValueError(
                f"HEARTLINE_TOKEN_TTL_S ({self.token_ttl_s}) is over HEARTLINE_TOKEN_MAX_TTL_S ({self.token_max_ttl_s})"
            )
        if self.mode == "local":
            return self
        for field, variable in SECRETS.items():
            if field in self.model_fields_set:
                problem = weakness(getattr(self, field).get_secret_value())
                if problem:
                    raise ValueError(
                        f"{variable} {problem}; outside local mode it must be at least 32 random "
                        f"bytes, e.g. `openssl rand -hex 32`"
                    )
        return self

    def require_secrets(self, *fields: str) -> None:
        """Raise ValueError naming the variable when a secret this service needs is not set
        outside local mode (local mode uses the local placeholders)."""
        if self.mode == "local":
            return
        for field in fields:
            if field not in self.model_fields_set:
                raise ValueError(
                    f"{SECRETS[field]} is not set; outside local mode it must be at least "
                    f"32 random bytes, e.g. `openssl rand -hex 32`"
                )

    @property
    def topics(self) -> Topics:
        return Topics(self.topic_prefix)

    @property
    def bootstrap(self) -> str:
        if not self.kafka:
            raise RuntimeError(
                "HEARTLINE_KAFKA is not set and no `heartline run` is going on in "
                f"{self.data_dir}: start one (make run), or set HEARTLINE_KAFKA"
            )
        return self.kafka

    @property
    def db_url(self) -> str:
        """The history database: HEARTLINE_DATABASE_URL, else ``<data_dir>/heartline.db``."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'heartline.db').resolve()}"

    def group(self, name: str) -> str:
        """Consumer group id (and the nudger's changelog name), namespaced like the topics.

        ``group_generation`` > 0 only after the embedded broker was reset: the
        restarted workers then use fresh group and changelog names, so nothing
        left from before the reset (auto-created changelogs, stale offsets) can
        stall them. The reset already emptied every topic, so nothing is lost.
        """
        suffix = f"-g{self.group_generation}" if self.group_generation else ""
        return f"{self.topic_prefix}heartline-{name}{suffix}"


def running_stack(data_dir: Path) -> dict[str, Any] | None:
    """The state of a `heartline run` whose runner is alive (``<data_dir>/stack.json``), else None."""
    import json
    import os

    try:
        state = json.loads((Path(data_dir) / "stack.json").read_text())
        os.kill(int(state["runner_pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return state if state.get("kafka") else None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings from the environment. With HEARTLINE_KAFKA unset, a service started by hand
    joins the broker of the `heartline run` going on in this data dir, and the group generation
    its workers use (and says so)."""
    settings = Settings()
    if not settings.kafka:
        state = running_stack(settings.data_dir)
        if state:
            import sys

            settings = settings.on_broker(state["kafka"], state.get("broker"))
            # The stack's workers use fresh group names after a broker reset: join theirs.
            generation = int(state.get("group_generation") or 0)
            if generation != settings.group_generation:
                settings = Settings(**{**settings.model_dump(exclude_unset=True), "group_generation": generation})
            kind = "Apache Kafka" if settings.broker == "kafka" else "embedded"
            groups = f", group generation {generation}" if generation else ""
            print(
                f"heartline: joined the local stack's {kind} broker at {settings.kafka}{groups} "
                f"({Path(settings.data_dir) / 'stack.json'})",
                file=sys.stderr,
                flush=True,
            )
    return settings
