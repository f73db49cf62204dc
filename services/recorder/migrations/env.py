"""Alembic environment: run with a connection from services.recorder.db.upgrade (the
recorder migrates at start), or by hand through an Alembic config whose script location is
this directory, with ``-x url=...``.
From the command line it opens the recorder's own engine (``db.make_engine``): its errors hide
the bound parameters too."""

from alembic import context

from services.recorder.db import make_engine
from services.recorder.models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    conn = config.attributes.get("connection")
    if conn is not None:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    engine = make_engine(url, writer=True)
    try:
        with engine.begin() as connection:
            context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) mode is not supported; pass -x url=...")
run()
