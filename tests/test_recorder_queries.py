"""The gateway reads call history through ``services.recorder.queries`` only.

Guards the boundary between the two services: the gateway's history and review routes open a
read-only engine and run a query, and importing nothing of the recorder's worker (Kafka
client, Alembic, the analyzer's models) on the way — the first history request used to load
``services.recorder.worker`` with aiokafka and Alembic. Pure tier: a SQLite file, no broker.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from services.recorder import db, queries, store

ROOT = Path(__file__).resolve().parent.parent
HEAVY = (
    "services.recorder.worker",
    "services.recorder.store",
    "services.recorder.repeat",
    "aiokafka",
    "alembic",
    "snownlp",
    "jieba",
    "faust",
)

PROBE = """
import json, sys
from shared.config import Settings
from services.gateway.history import LazyStore
from services.recorder.queries import history, review_calls
lazy = LazyStore(Settings(database_url=sys.argv[1]))
found = [lazy.call(history, "c-none", 5), lazy.call(review_calls, limit=5)["total"]]
heavy = json.loads(sys.argv[2])
print(json.dumps({"found": found, "heavy": sorted(m for m in sys.modules
                                                  if any(m == h or m.startswith(h + ".") for h in heavy))}))
"""


def test_the_gateway_reads_history_without_the_recorders_worker(tmp_path):
    url = f"sqlite:///{tmp_path}/history.db"
    db.upgrade(db.make_engine(url, writer=True))
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, url, json.dumps(HEAVY)], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["found"] == [None, 0], "the queries ran on the recorder's schema"
    assert out["heavy"] == [], f"the gateway's history path loaded {out['heavy']}"


def test_the_store_is_a_reader_and_reads_what_it_wrote(tmp_path):
    from shared.schemas import CallState, iso, utcnow

    engine = db.make_engine(f"sqlite:///{tmp_path}/h.db", writer=True)
    db.upgrade(engine)
    writer = store.Store(engine, salt="s" * 32)
    assert isinstance(writer, queries.Reader)
    now = utcnow()
    writer.apply(
        [CallState(call_id="c-q1", agent_id="a-1", started_ts=iso(now), ended_ts=iso(now), last_update_ts=iso(now))]
    )
    reader = queries.Reader(db.make_engine(f"sqlite:///{tmp_path}/h.db"))
    assert queries.review_call(reader, "c-q1")["agent_id"] == "a-1"
    assert [c["call_id"] for c in queries.review_calls(reader)["calls"]] == ["c-q1"]
