"""Ingest: the front door for ASR / CTI systems.

``POST /v1/events`` takes one CallEvent or a JSON array of them; ``WS
/v1/stream`` takes one CallEvent per text message (at most ``max_body_bytes``
each, enforced by uvicorn before buffering; at most ``ingest_stream_rate`` a
second, else closed with 4429). JSON nested too deeply for the parser is a
400, never a 500. Each valid event is
stamped with ``ingest_ts`` and produced to ``stt-events`` keyed by call_id;
the request is answered only after the broker acknowledged it, so an
accepted event is in Kafka. Bad items get a per-item reason and never block
the good ones in the same batch. Values must have their JSON types
(``shared.schemas``: ``"seq": "17"`` is refused, not read as 17). Error
answers have the one shape of ``shared.errors``; the OpenAPI documents the
body (the CallEvent union, with examples) and every answer.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import orjson
from aiokafka.errors import KafkaError, KafkaTimeoutError
from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from shared import errors, metrics
from shared.api_models import IngestRejected, IngestResult
from shared.auth import TokenError, verify
from shared.config import Settings, get_settings
from shared.health import service_app
from shared.kafka import broker_reachable, producer
from shared.openapi import BEARER, schemas, with_components
from shared.ratelimit import TokenBucket
from shared.schemas import UTTERANCE_EXAMPLE, CallEventAdapter, parse_event, utcnow
from shared.validation import reasons

SERVICE = "ingest"
INGEST_ROLES = {"ingest", "service"}
CLOSE_TOO_MANY = 4429
TOO_DEEP = "JSON nested too deeply"


def _loads(text: str) -> Any:
    """orjson (several times faster than the stdlib on event batches); what it refuses goes
    through the stdlib, which reads the same JSON and NaN/Infinity and very large numbers too
    (they then fail validation with a reason per item) and raises the errors answered below."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


log = logging.getLogger(SERVICE)


class Publisher:
    """Validates, stamps and produces CallEvents."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.topic = settings.topics.stt_events
        self.producer = None

    async def start(self) -> None:
        # A bounded request timeout: while the broker is down a send fails within
        # ingest_send_timeout_s (-> 503 + Retry-After) instead of aiokafka's 40 s.
        self.producer = producer(self.settings, request_timeout_ms=int(self.settings.ingest_send_timeout_s * 1000))
        await self.producer.start()

    async def stop(self) -> None:
        if self.producer:
            await self.producer.stop()

    def validate(self, item) -> tuple[bytes, bytes] | str:
        """(key, value) for a valid event, else the reason."""
        if not isinstance(item, dict):
            return "a CallEvent must be a JSON object"
        try:
            event = parse_event(item)
        except ValidationError as exc:
            return "; ".join(reasons(exc, 10))  # where and what, never the values sent
        event.ingest_ts = utcnow()
        return event.call_id.encode(), event.to_json()

    async def publish(self, records: list[tuple[bytes, bytes]]) -> None:
        """Returns once the broker acknowledged every record; raises KafkaError otherwise.

        Bounded by ``ingest_send_timeout_s``: a record not acknowledged by then makes the
        request fail (503), even if the producer still delivers it later — the client
        retries and the duplicate is harmless (every consumer dedupes; DESIGN.md).
        """
        deadline = self.settings.ingest_send_timeout_s

        async def send_all():
            return [await self.producer.send(self.topic, value, key=key) for key, value in records]

        try:
            futures = await asyncio.wait_for(send_all(), deadline)
        except TimeoutError:
            raise KafkaTimeoutError("metadata not available in time") from None
        done, pending = await asyncio.wait(futures, timeout=deadline)
        if pending:
            raise KafkaTimeoutError(f"{len(pending)} records not acknowledged in {deadline:.0f}s")
        for fut in done:
            fut.result()  # raises the send's KafkaError
        metrics.EVENTS_OUT.labels(SERVICE, self.topic).inc(len(records))

    async def ready(self) -> tuple[bool, dict]:
        if not await broker_reachable(self.settings.bootstrap):
            return False, {"broker": "unreachable"}
        try:
            await asyncio.wait_for(self.producer.client.fetch_all_metadata(), 2)
            return True, {"broker": "reachable"}
        except Exception as exc:
            return False, {"broker": f"unreachable: {type(exc).__name__}"}


def _authorized(settings: Settings, header_or_token: str | None) -> str | None:
    """None when allowed, else the reason."""
    if not settings.ingest_require_token:
        return None
    token = (header_or_token or "").removeprefix("Bearer ").strip()
    try:
        claims = verify(settings, token)
    except TokenError as exc:
        return f"token: {exc}"
    if claims["role"] not in INGEST_ROLES:
        return "token: role must be ingest"
    return None


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    if settings.ingest_require_token:
        settings.require_secrets("jwt_secret")
    pub = Publisher(settings)

    app = service_app(SERVICE, "Heartline ingest", settings, pub)
    app.state.ws_max_size = settings.max_body_bytes  # uvicorn closes a bigger /v1/stream message (1009)

    @app.post(
        "/v1/events",
        status_code=202,
        response_model=IngestResult,
        tags=["events"],
        summary="Post one CallEvent or a batch of them",
        dependencies=[BEARER],
        response_description="Every event accepted: each is in Kafka (the broker acknowledged it)",
        openapi_extra=_events_doc(settings),
        responses={
            **errors.responses(400, 401, 413),
            422: {
                "model": IngestRejected,
                "description": "Some events are invalid (each with its `index` and reason; an "
                "event whose `ts` is more than a day ahead is refused too); the "
                "valid events of the batch were accepted all the same.",
            },
            **errors.responses(
                503,
                s503="The broker did not acknowledge in time: take nothing in "
                "the batch as accepted; retry after `Retry-After`.",
            ),
        },
    )
    async def post_events(request: Request) -> JSONResponse:
        denied = _authorized(settings, request.headers.get("authorization"))
        if denied:
            metrics.INGEST_REJECTED.labels("unauthorized").inc()
            return errors.error_response(401, denied, headers={"WWW-Authenticate": "Bearer"})
        too_large = f"body over {settings.max_body_bytes} bytes"
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > settings.max_body_bytes:
            metrics.INGEST_REJECTED.labels("too_large").inc()
            return errors.error_response(413, too_large)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > settings.max_body_bytes:
                metrics.INGEST_REJECTED.labels("too_large").inc()
                return errors.error_response(413, too_large)
        try:
            payload = _loads(bytes(body).decode("utf-8"))
        except UnicodeDecodeError:
            metrics.INGEST_REJECTED.labels("not_utf8").inc()
            return errors.error_response(400, "body is not valid UTF-8")
        except json.JSONDecodeError as exc:
            metrics.INGEST_REJECTED.labels("not_json").inc()
            return errors.error_response(400, f"body is not valid JSON: {exc}")
        except RecursionError:
            metrics.INGEST_REJECTED.labels("not_json").inc()
            return errors.error_response(400, f"body is not valid JSON: {TOO_DEEP}")
        items = payload if isinstance(payload, list) else [payload]
        if len(items) > settings.max_batch_events:
            metrics.INGEST_REJECTED.labels("too_large").inc()
            return errors.error_response(413, f"more than {settings.max_batch_events} events")
        good, bad = [], []
        for index, item in enumerate(items):
            result = pub.validate(item)
            if isinstance(result, str):
                bad.append(errors.ErrorItem(index=index, error=result))
            else:
                good.append(result)
        metrics.EVENTS_IN.labels(SERVICE, "http").inc(len(items))
        if bad:
            metrics.INGEST_REJECTED.labels("invalid").inc(len(bad))
        try:
            if good:
                await pub.publish(good)
        except KafkaError as exc:
            log.warning("broker unavailable", extra={"error": type(exc).__name__})
            return errors.error_response(503, "broker unavailable, retry", headers={"Retry-After": "1"})
        if bad:
            return errors.error_response(
                422, f"{len(bad)} of {len(items)} events rejected", bad, accepted=len(good), rejected=len(bad)
            )
        return JSONResponse({"accepted": len(good), "rejected": 0, "errors": []}, status_code=202)

    @app.websocket("/v1/stream")
    async def stream(ws: WebSocket) -> None:
        await ws.accept()
        denied = _authorized(settings, ws.query_params.get("token") or ws.headers.get("authorization"))
        if denied:
            await ws.close(code=4401, reason=denied[:120])
            return
        bucket = TokenBucket(settings.ingest_stream_rate, settings.ingest_stream_burst)
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                if not bucket.allow():
                    metrics.INGEST_REJECTED.labels("rate_limited").inc()
                    await ws.close(code=CLOSE_TOO_MANY, reason=f"over {settings.ingest_stream_rate:g} messages/s")
                    break
                text = message.get("text")
                if text is None:  # a binary frame: receive_text() would raise
                    await ws.send_json({"kind": "error", "error": "binary frames are not supported; send JSON text"})
                    continue
                if len(text.encode()) > settings.max_body_bytes:
                    await ws.send_json({"kind": "error", "error": "message too large"})
                    continue
                try:
                    item = _loads(text)
                except json.JSONDecodeError as exc:
                    await ws.send_json({"kind": "error", "error": f"not valid JSON: {exc}"})
                    continue
                except RecursionError:
                    await ws.send_json({"kind": "error", "error": f"not valid JSON: {TOO_DEEP}"})
                    continue
                result = pub.validate(item)
                if isinstance(result, str):
                    metrics.INGEST_REJECTED.labels("invalid").inc()
                    await ws.send_json({"kind": "error", "error": result})
                    continue
                try:
                    await pub.publish([result])
                except KafkaError:
                    await ws.send_json({"kind": "error", "error": "broker unavailable, resend"})
        except WebSocketDisconnect:
            pass

    return with_components(app, schemas({"CallEvent": CallEventAdapter}))


def _events_doc(settings: Settings) -> dict:
    """The request body ``POST /v1/events`` reads itself: one CallEvent, or an array of them."""
    event = {"$ref": "#/components/schemas/CallEvent"}
    examples = {
        "batch": {
            "summary": "a call starts and the customer speaks",
            "value": [
                {
                    "type": "call_started",
                    "call_id": "c-20261123-0001",
                    "ts": "2026-11-23T08:00:00.000Z",
                    "agent_id": "a-007",
                    "customer": {"id": "cust-88412", "name": "王先生", "segment": "senior"},
                },
                UTTERANCE_EXAMPLE,
            ],
        },
        "one": {
            "summary": "one event",
            "value": {
                "type": "call_ended",
                "call_id": "c-20261123-0001",
                "ts": "2026-11-23T08:06:40.000Z",
                "reason": "hangup",
            },
        },
    }
    return {
        "requestBody": {
            "required": True,
            "description": (
                f"One CallEvent or a JSON array of at most {settings.max_batch_events}; the whole "
                f"body at most {settings.max_body_bytes} bytes. Values must have the schema's JSON "
                "types (a number in quotes is refused)."
            ),
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [event, {"type": "array", "items": event, "maxItems": settings.max_batch_events}]
                    },
                    "examples": examples,
                }
            },
        },
    }
