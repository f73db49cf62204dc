"""Database engines and the Alembic upgrade that the recorder runs at start.

SQLite (the local default) runs in WAL mode so the gateway reads while the
recorder writes; a writing engine starts its transactions with
``BEGIN IMMEDIATE`` so two writers queue on the lock instead of failing.
PostgreSQL (production, ``postgresql+psycopg://``) needs nothing special.

Every engine hides the bound parameters from its error messages
(``hide_parameters=True``): a failed insert would otherwise print the
transcript text and customer names into the log. Log ``error_class(exc)``,
not the message: a database's own message may quote the row too.
"""

from __future__ import annotations

import fcntl
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
PG_MIGRATE_LOCK = 0x4845_4152  # pg_advisory_lock key: one migrating recorder at a time


def make_engine(url: str, writer: bool = False) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, hide_parameters=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine


def error_class(exc: BaseException) -> str:
    """``IntegrityError(CheckViolation)``: what failed, without the message (which may quote values)."""
    orig = getattr(exc, "orig", None) or exc.__cause__
    return f"{type(exc).__name__}({type(orig).__name__})" if orig is not None else type(exc).__name__


def unavailable(exc: BaseException) -> bool:
    """The database takes no writes now — unreachable, busy, a table missing (retry the batch
    later) — as opposed to refusing this record's values (a constraint, a number out of range,
    a value our code cannot bind: ``IntegrityError``, ``DataError``, anything not from the driver)."""
    if isinstance(exc, (sa_exc.IntegrityError, sa_exc.DataError)):
        return False
    return isinstance(exc, (sa_exc.DBAPIError, sa_exc.DisconnectionError, sa_exc.TimeoutError, ConnectionError))


@contextmanager
def _migration_lock(engine: Engine):
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": PG_MIGRATE_LOCK})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PG_MIGRATE_LOCK})
                conn.commit()
        return
    db = engine.url.database
    if not db or db == ":memory:":
        yield
        return
    with open(f"{db}.migrate.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _alembic():
    """Alembic's command and its config (imported here: readers of the database never migrate it)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return command, cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """``alembic upgrade head`` on this engine (safe to run from several processes)."""
    command, cfg = _alembic()
    with _migration_lock(engine), engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    command, cfg = _alembic()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
