"""The faust app every Heartline worker is built on.

Group timing is short (session 4 s on the embedded broker, 6 s on Apache
Kafka, heartbeat 0.5 s, rebalance 4 s) so a killed worker's partitions move
within seconds, not minutes. On the embedded broker
``shared/embedded_broker.py`` patches faust's consumer first (fetch wait,
table-recovery high water); on Apache Kafka faust runs stock.

Each worker serves ``/healthz``, ``/readyz`` and ``/metrics`` on its web port.
"""

from __future__ import annotations

from typing import Any

import faust
from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from shared.config import Settings
from shared.embedded_broker import apply_faust_workarounds


def make_app(name: str, settings: Settings, tables: bool = False) -> faust.App:
    apply_faust_workarounds(settings)
    app = faust.App(
        settings.group(name),
        broker=f"kafka://{settings.bootstrap}",
        store="memory://",
        value_serializer="raw",
        key_serializer="raw",
        topic_partitions=settings.partitions,
        topic_allow_declare=True,
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=settings.heartbeat_interval_s,
        broker_rebalance_timeout=settings.rebalance_timeout_s,
        broker_commit_interval=0.5,
        # at-least-once + idempotent handlers. faust's "exactly_once" (Kafka transactions) was tried on
        # Apache Kafka 4.1: faust-streaming 0.15.3 crashes at the first assignment (KeyError in
        # PartitionAssignor.group_for_topic, upstream issue #440), so it is not an option (reliability.md).
        # Normal batching for every app: table recovery reads the true high watermark
        # (_fetched_highwaters), so the one-record-per-batch workaround of DESIGN.md is not
        # needed — it capped an agent near one record per broker round trip (docs/benchmark.md).
        producer_max_batch_size=16384,
        producer_linger_ms=settings.producer_linger_ms,
        table_standby_replicas=0,
        web_enabled=True,
        web_host=settings.host,
        web_port=settings.worker_port,
        web_in_thread=False,
        # Only our /healthz, /readyz and /metrics (below): faust's /table pages would serve
        # table data (calls in progress) and /router the cluster's worker URLs to anyone on the port.
        web_router_enabled=False,
        web_tables_enabled=False,
        web_graph_enabled=False,
        web_stats_enabled=False,
        web_metrics_enabled=False,
        stream_wait_empty=False,
    )

    @app.timer(5.0)  # type: ignore[untyped-decorator]  # faust's timer() returns a bare Callable
    async def report_lag() -> None:
        """Consumer lag of this worker's partitions: fetch high watermark - committed."""
        from shared import metrics

        try:
            assignment = app.consumer.assignment()
        except Exception:
            return
        per_topic: dict[str, int] = {}
        for tp in assignment:
            if tp.topic.startswith(app.conf.id):  # changelog topics are not input
                continue
            high = app.consumer.highwater(tp)
            done = app.consumer._committed_offset.get(tp)  # type: ignore[attr-defined]  # faust's Consumer
            if high is None:
                continue
            per_topic[tp.topic] = per_topic.get(tp.topic, 0) + max(0, high - (done or 0))
        for topic, lag in per_topic.items():
            metrics.CONSUMER_LAG.labels(app.conf.id, topic).set(lag)

    @app.page("/healthz")
    async def healthz(web: View, request: Request) -> Response:
        return web.json({"status": "ok", "service": name})

    @app.page("/readyz")
    async def readyz(web: View, request: Request) -> Response:
        from shared.kafka import broker_reachable

        ready, detail = worker_ready(app)
        if not await broker_reachable(settings.bootstrap):
            ready, detail = False, {**detail, "broker": "unreachable"}
        return web.json({"ready": ready, **detail}, status=200 if ready else 503)

    @app.page("/metrics")
    async def metrics_view(web: View, request: Request) -> Response:
        # aiohttp refuses a charset inside content_type (500 on every scrape); the body is UTF-8 anyway
        return web.bytes(generate_latest(), content_type=CONTENT_TYPE_LATEST.split("; charset")[0])

    return app


class ChangelogPartitions:
    """Make the producer know a table's changelog partitions before the first write.

    A table with ``use_partitioner=True`` picks each changelog record's partition
    synchronously from the producer's metadata. On Apache Kafka that metadata
    holds only topics the producer has already asked about, so the first write
    after a start raised TypeError (``partitions_for_topic`` None) and the record
    was dead-lettered: a lost nudge (the embedded broker's metadata answer
    happened to list every topic). ``await ready()`` asks once, then costs nothing."""

    def __init__(self, app: faust.App, table: faust.Table[Any, Any]) -> None:
        self.app = app
        self.table = table
        self.known = False

    async def ready(self) -> None:
        if not self.known:
            topic = self.table.changelog_topic.get_topic_name()
            await self.app.producer._ensure_producer().partitions_for(topic)  # type: ignore[attr-defined]
            self.known = True


def worker_ready(app: faust.App) -> tuple[bool, dict[str, Any]]:
    """Ready = connected to the broker, not rebalancing, partitions assigned."""
    try:
        assignment = app.consumer.assignment() if app.consumer else set()
    except Exception:
        assignment = set()
    rebalancing = bool(app.rebalancing)
    parts = sorted(f"{tp.topic}:{tp.partition}" for tp in assignment)
    return (bool(parts) and not rebalancing), {"rebalancing": rebalancing, "partitions": parts}


def run_worker(app: faust.App, settings: Settings) -> None:
    """Run the faust worker in this process until SIGINT/SIGTERM."""
    from faust.worker import Worker

    from shared.logs import setup_logging

    setup_logging(app.conf.id, settings.log_level)
    worker = Worker(
        app,
        loglevel=settings.log_level,
        quiet=True,
        redirect_stdouts=False,
        logging_config=_logging_config(app.conf.id, settings.log_level),
    )
    worker.execute_from_commandline()


def _logging_config(service: str, level: str) -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
                "rename_fields": {"asctime": "ts", "levelname": "level", "name": "logger"},
                "static_fields": {"service": service},
            }
        },
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            name: {"level": "INFO" if level == "DEBUG" else "WARNING"}
            for name in ("aiokafka", "kafka", "faust", "mode")
        },
    }
