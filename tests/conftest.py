"""Test fixtures: real brokers and the real services.

* Two brokers, each one process per test session on a free port, started on
  first use: Apache Kafka (``kafka_broker``, from its Maven artifacts) and the
  embedded Tansu broker (``embedded_broker``).
* ``broker``: the one a test module runs on. A broker-crossing test runs on
  Apache Kafka; ``@pytest.mark.brokers("embedded", "kafka")`` (or
  ``pytestmark``) runs it on both, as ``test_x[embedded]`` and ``test_x[kafka]``.
  ``pytest --broker kafka`` (repeatable) keeps only those runs.
* ``stack``: ingest, analyzer, nudger, recorder and gateway as real processes
  on that broker (module scope), with a fresh topic prefix so modules never
  see each other's records. Tests use fresh call ids.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path

import httpx
import pytest

from heartline.broker import EmbeddedBroker, free_port
from heartline.kafka_broker import KafkaBroker
from heartline.stack import Stack
from shared.auth import mint
from shared.config import Settings
from shared.schemas import iso, utcnow

ROOT = Path(__file__).resolve().parent.parent
LOGS = ROOT / ".heartline" / "test-logs"


BROKERS = ("embedded", "kafka")


def pytest_addoption(parser):
    parser.addoption(
        "--broker",
        action="append",
        choices=BROKERS,
        default=None,
        help="run broker-crossing tests only on this broker (repeatable)",
    )


def pytest_configure(config):
    config.addinivalue_line("markers", "brokers(*kinds): the brokers a broker-crossing test runs on (default: kafka)")
    config.addinivalue_line("markers", "speech: needs the speech extra (whisper model)")
    config.addinivalue_line("markers", "kafka: runs on Apache Kafka (set for every [kafka] test)")
    config.addinivalue_line("markers", "embedded: runs on the embedded broker (set for every [embedded] test)")


def pytest_collection_modifyitems(config, items):
    """Tiers: a test that uses a broker is ``e2e`` and carries its broker's marker, so
    ``make test-fast`` (-m "not e2e and not browser and not speech") needs no broker."""
    for item in items:
        kind = getattr(item, "callspec", None) and item.callspec.params.get("broker_kind")
        if kind not in BROKERS:  # not parametrized, or --broker left this test no broker (NOTSET)
            kind = None
        if kind or "broker" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.e2e)
        if kind:
            item.add_marker(getattr(pytest.mark, kind))


def pytest_generate_tests(metafunc):
    if "broker_kind" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("brokers")
    kinds = list(marker.args) if marker else ["kafka"]
    only = metafunc.config.getoption("--broker")
    if only:
        kinds = [k for k in kinds if k in only]
    metafunc.parametrize("broker_kind", kinds, scope="module")


@pytest.fixture(scope="session")
def embedded_broker():
    LOGS.mkdir(parents=True, exist_ok=True)
    with EmbeddedBroker(log_path=LOGS / "broker.log") as b:
        yield b


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory):
    LOGS.mkdir(parents=True, exist_ok=True)
    with KafkaBroker(log_path=LOGS / "kafka.log", data_dir=tmp_path_factory.mktemp("kafka")) as b:
        yield b


@pytest.fixture(scope="module")
def broker(request, broker_kind):
    return request.getfixturevalue(f"{broker_kind}_broker")


def make_settings(broker, **kw) -> Settings:
    base = dict(
        kafka=broker.bootstrap,
        broker=broker.kind,
        topic_prefix=f"t{uuid.uuid4().hex[:8]}-",
        gateway_port=free_port(),
        ingest_port=free_port(),
        partitions=8,
    )
    base.update(kw)
    return Settings(**base)


class LiveStack:
    """A started Stack plus helpers to talk to it the way clients do."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self.settings = stack.settings

    @property
    def gateway_url(self) -> str:
        return self.stack.gateway_url

    @property
    def gateway_ws(self) -> str:
        return self.stack.gateway_url.replace("http://", "ws://")

    @property
    def ingest_url(self) -> str:
        return self.stack.ingest_url

    def token(self, sub: str, role: str = "agent", ttl_s: int | None = None) -> str:
        return mint(self.settings, sub, role, ttl_s)

    def post_events(self, events, token: str | None = None) -> httpx.Response:
        token = token or self.token("tests", "service")
        return httpx.post(
            f"{self.ingest_url}/v1/events", json=events, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )


def new_call_id(prefix: str = "c") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def call_started(call_id: str, agent_id: str = "a-007", **extra) -> dict:
    return {
        "type": "call_started",
        "call_id": call_id,
        "ts": iso(utcnow()),
        "agent_id": agent_id,
        "customer": {"name": "王先生", "segment": "senior"},
        "queue": "brokerage",
        **extra,
    }


def utterance(
    call_id: str, seq: int, text: str, speaker: str = "customer", final: bool = True, start_ms: int = 0, end_ms: int = 0
) -> dict:
    return {
        "type": "utterance",
        "call_id": call_id,
        "seq": seq,
        "speaker": speaker,
        "text": text,
        "is_final": final,
        "start_ms": start_ms,
        "end_ms": end_ms or start_ms + 1500,
        "confidence": 0.93,
        "ts": iso(utcnow()),
    }


async def collect(ws, seconds: float, until=None) -> list[dict]:
    """Messages from a websocket for up to ``seconds`` (or until ``until(msgs)``)."""
    out: list[dict] = []
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return out
        try:
            out.append(json.loads(await asyncio.wait_for(ws.recv(), left)))
        except TimeoutError:
            return out
        if until and until(out):
            return out


@pytest.fixture(scope="module")
def browser(stack):
    """Headless Debian Chromium for the page tests, one per module and broker.

    Started after the module's stack (which may be the module's own ``stack``):
    Playwright's sync API keeps an event loop running in this thread, and a
    stack's set-up calls asyncio.run()."""
    from playwright import sync_api as pw

    p = pw.sync_playwright().start()
    b = p.chromium.launch(
        executable_path="/usr/bin/chromium",
        args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    )
    try:
        yield b
    finally:
        b.close()
        p.stop()


@pytest.fixture(scope="module")
def stack(broker, request):
    settings = make_settings(broker)
    log_dir = LOGS / f"{request.module.__name__.rsplit('.', 1)[-1]}-{broker.kind}"
    st = Stack(settings, log_dir=log_dir)
    try:
        st.start(timeout=120)
        yield LiveStack(st)
    finally:
        st.stop()
