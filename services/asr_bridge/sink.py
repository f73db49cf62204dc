"""Where the bridge's CallEvents go: straight to Kafka (``stt-events``, keyed by
call_id, ``ingest_ts`` stamped here) or through ingest's HTTP API."""

from __future__ import annotations

import httpx

from shared import metrics
from shared.auth import mint
from shared.config import Settings
from shared.kafka import producer
from shared.schemas import utcnow


class KafkaSink:
    def __init__(self, settings: Settings):
        self.topic = settings.topics.stt_events
        self.producer = producer(settings)

    async def start(self) -> None:
        await self.producer.start()

    async def stop(self) -> None:
        await self.producer.stop()

    async def __call__(self, event) -> None:
        event.ingest_ts = event.ingest_ts or utcnow()  # the bridge is where the event enters Heartline
        await self.producer.send_and_wait(self.topic, event.to_json(), key=event.call_id.encode())
        metrics.EVENTS_OUT.labels("asr", self.topic).inc()

    async def ready(self) -> bool:
        await self.producer.client.fetch_all_metadata()
        return True


class IngestSink:
    def __init__(self, settings: Settings):
        self.url = f"http://127.0.0.1:{settings.ingest_port}/v1/events"
        self.client = httpx.AsyncClient(
            timeout=10,
            headers={
                "Authorization": f"Bearer {mint(settings, 'asr-bridge', 'service')}",
                "Content-Type": "application/json",
            },
        )

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        await self.client.aclose()

    async def __call__(self, event) -> None:
        resp = await self.client.post(self.url, content=event.to_json())
        if resp.status_code != 202:
            raise RuntimeError(f"ingest answered {resp.status_code}")
        metrics.EVENTS_OUT.labels("asr", "ingest").inc()

    async def ready(self) -> bool:
        return (await self.client.get(self.url.replace("/v1/events", "/readyz"))).status_code == 200


def make_sink(settings: Settings):
    return KafkaSink(settings) if settings.asr_target == "kafka" else IngestSink(settings)
