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
* Factories for tests that need their own: ``own_stack`` (a stack with other
  worker counts, settings or environment) and ``settings_for`` (settings on
  the module's broker, no stack); ``browser`` (headless Chromium).
* Plain helpers live in modules, not here: ``tests/callkit.py`` (call ids,
  STT events, reading a socket), ``tests/stackkit.py`` (settings, LiveStack).
"""

from __future__ import annotations

import os
import uuid

import pytest

from heartline.broker import EmbeddedBroker
from heartline.kafka_broker import KafkaBroker
from tests.stackkit import LOGS, make_settings, open_stack
from tests.storekit import PG_SERVER

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


@pytest.fixture(scope="module")
def settings_for(broker):
    """A factory: ``settings_for(**overrides)`` -> Settings on the module's broker with a
    fresh topic prefix and free ports (for tests that talk to the broker without a stack)."""
    return lambda **kw: make_settings(broker, **kw)


@pytest.fixture(scope="module")
def own_stack(broker):
    """A factory for a test's own stack on the module's broker, as a context manager:
    ``with own_stack("failover", analyzers=2, settings={...}) as live:`` (a LiveStack;
    ``live.stack`` is the Stack). Stopped when the block ends."""
    return lambda name, **kw: open_stack(broker, name, **kw)


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
    """The module's stack: every service as a real process on the module's broker."""
    with open_stack(broker, request.module.__name__.rsplit(".", 1)[-1]) as live:
        yield live


@pytest.fixture(scope="session")
def pg_server():
    """A fresh PostgreSQL database for this session on HEARTLINE_TEST_PG, dropped afterwards.
    Skipped where no server answers, except under CI (env CI set), where it fails."""
    import psycopg

    dsn = PG_SERVER.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    name = f"heartline_test_{uuid.uuid4().hex[:10]}"
    try:
        conn = psycopg.connect(dsn, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required under CI and is unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """A migrated history Store, on SQLite and on PostgreSQL (each test starts empty)."""
    from sqlalchemy import text

    from services.recorder import db
    from services.recorder.models import Base
    from services.recorder.store import Store

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/history.db"
    else:
        url = request.getfixturevalue("pg_server")
    engine = db.make_engine(url, writer=True)
    if request.param == "postgresql":  # one database per session: start each test empty
        with engine.begin() as conn:
            Base.metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    db.upgrade(engine)
    yield Store(engine, "test-salt", retention_days=90)
    engine.dispose()
