"""The faust app every Heartline worker is built on.

Two things differ from faust's defaults, both measured on the embedded broker
(DESIGN.md, "Embedded broker"):

* faust-streaming 0.15.3 hard-codes ``fetch_max_wait_ms=1500`` in its worker
  consumer; the embedded broker answers a waiting fetch only when that wait
  expires, so one faust hop took ~424 ms. ``_short_fetch_wait`` wraps the
  method that creates that consumer and sets our setting before the consumer
  starts (aiokafka reads ``_fetch_max_wait_ms`` at start).
* Group timing is short (session 4 s, heartbeat 0.5 s, rebalance 4 s) so a
  killed worker's partitions move within seconds, not minutes.

Each worker serves ``/healthz``, ``/readyz`` and ``/metrics`` on its web port.
"""

from __future__ import annotations

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from shared.config import Settings

_FETCH_WAIT_MS = {"value": None}


def _short_fetch_wait(original):
    def create_worker_consumer(self, transport):
        consumer = original(self, transport)
        if _FETCH_WAIT_MS["value"] is not None:
            consumer._fetch_max_wait_ms = _FETCH_WAIT_MS["value"]
        return consumer

    create_worker_consumer.__wrapped__ = original
    return create_worker_consumer


_thread = faust_aiokafka.AIOKafkaConsumerThread
if not hasattr(_thread._create_worker_consumer, "__wrapped__"):
    _thread._create_worker_consumer = _short_fetch_wait(_thread._create_worker_consumer)


def _fetched_highwaters(original):
    """Table recovery reads a changelog up to its "highwater", which faust takes
    from ListOffsets. The embedded broker answers ListOffsets with the first
    offset of the last batch + 1 (DESIGN.md), so recovery stopped early and
    state went backwards unless every record was its own batch — which capped
    the nudger near one record per broker round trip. The fetch response's high
    watermark is right: read it with a short-lived plain consumer from just
    before the listed end. On Apache Kafka both agree, and this costs one fetch."""

    async def _highwaters(self, partitions):
        listed = dict(await original(self, partitions))
        wanted = [tp for tp, end in listed.items() if end]
        if not wanted:
            return listed
        from aiokafka import AIOKafkaConsumer
        from aiokafka.structs import TopicPartition

        client = AIOKafkaConsumer(bootstrap_servers=_BOOTSTRAP["value"], enable_auto_commit=False,
                                  fetch_max_wait_ms=_FETCH_WAIT_MS["value"] or 10)
        await client.start()
        try:
            tps = {tp: TopicPartition(tp.topic, tp.partition) for tp in wanted}
            client.assign(list(tps.values()))
            for tp, atp in tps.items():
                client.seek(atp, max(0, listed[tp] - 1))
            for _ in range(20):
                await client.getmany(timeout_ms=100)
                if all(client.highwater(atp) is not None for atp in tps.values()):
                    break
            for tp, atp in tps.items():
                high = client.highwater(atp)
                if high is not None and high > listed[tp]:
                    listed[tp] = high
        finally:
            await client.stop()
        return listed

    _highwaters.__wrapped__ = original
    return _highwaters


_BOOTSTRAP = {"value": None}
if not hasattr(_thread._highwaters, "__wrapped__"):
    _thread._highwaters = _fetched_highwaters(_thread._highwaters)


def make_app(name: str, settings: Settings, tables: bool = False) -> faust.App:
    _FETCH_WAIT_MS["value"] = settings.fetch_max_wait_ms
    _BOOTSTRAP["value"] = settings.bootstrap
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
        # Normal batching for every app: table recovery reads the true high watermark
        # (_fetched_highwaters), so the one-record-per-batch workaround of DESIGN.md is not
        # needed — it capped an agent near one record per broker round trip (docs/benchmark.md).
        producer_max_batch_size=16384,
        producer_linger_ms=0,
        table_standby_replicas=0,
        web_enabled=True,
        web_host=settings.host,
        web_port=settings.worker_port,
        web_in_thread=False,
        stream_wait_empty=False,
    )

    @app.timer(5.0)
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
            done = app.consumer._committed_offset.get(tp)
            if high is None:
                continue
            per_topic[tp.topic] = per_topic.get(tp.topic, 0) + max(0, high - (done or 0))
        for topic, lag in per_topic.items():
            metrics.CONSUMER_LAG.labels(app.conf.id, topic).set(lag)

    @app.page("/healthz")
    async def healthz(web, request):
        return web.json({"status": "ok", "service": name})

    @app.page("/readyz")
    async def readyz(web, request):
        from shared.kafka import broker_reachable

        ready, detail = worker_ready(app)
        if not await broker_reachable(settings.bootstrap):
            ready, detail = False, {**detail, "broker": "unreachable"}
        return web.json({"ready": ready, **detail}, status=200 if ready else 503)

    @app.page("/metrics")
    async def metrics_view(web, request):
        # aiohttp refuses a charset inside content_type (500 on every scrape); the body is UTF-8 anyway
        return web.bytes(generate_latest(), content_type=CONTENT_TYPE_LATEST.split("; charset")[0])

    return app


def worker_ready(app: faust.App) -> tuple[bool, dict]:
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
    worker = Worker(app, loglevel=settings.log_level, quiet=True, redirect_stdouts=False,
                    logging_config=_logging_config(app.conf.id, settings.log_level))
    worker.execute_from_commandline()


def _logging_config(service: str, level: str) -> dict:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "ts", "levelname": "level", "name": "logger"},
            "static_fields": {"service": service},
        }},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {name: {"level": "INFO" if level == "DEBUG" else "WARNING"}
                    for name in ("aiokafka", "kafka", "faust", "mode")},
    }
