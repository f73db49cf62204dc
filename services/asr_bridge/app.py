"""ASR bridge: ``WS /v1/audio`` takes live call audio and emits streaming STT CallEvents.

One websocket per call channel (AudioHook / mod_audio_fork style):
``/v1/audio?call_id=…&speaker=agent|customer&token=…[&agent_id=…][&lifecycle=0]``
with a service token (role ``ingest`` or ``service``). Binary messages are
16 kHz 16-bit little-endian mono PCM, any size; a text message
``{"kind": "end"}`` ends the channel cleanly (closing the socket does too).

Each channel is segmented by its own VAD and decoded by the one shared
model; the two channels of a call share the ``seq`` counter (numbers follow
segment start). Every CallEvent goes to ``stt-events`` (or to ingest,
``HEARTLINE_ASR_TARGET``) and is echoed to the socket as
``{"kind": "event", "event": {...}}``. With ``lifecycle`` (default on) the
bridge also sends ``call_started`` when a call's first channel connects and
``call_ended`` when its last one closes; a CTI that sends its own passes
``lifecycle=0``.

Guaranteed: events of one channel are emitted in order, partials of a
segment before its final. Not guaranteed: when decoding falls behind, a
channel skips partials (never finals) until it has caught up.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI, WebSocket, WebSocketDisconnect

from services.asr_bridge.stream import CallSeq, ChannelStream
from services.asr_bridge.vad import FrameVad
from shared import errors
from shared.auth import TokenError, verify
from shared.config import Settings, get_settings
from shared.health import api_docs, health_router
from shared.logs import setup_logging
from shared.schemas import CALL_ID_PATTERN, CallEnded, CallStarted, utcnow

SERVICE = "asr"
ROLES = {"ingest", "service"}
SPEAKERS = {"agent", "customer"}
QUEUE_CHUNKS = 2000  # ~40 s of 20 ms messages buffered per channel before the socket is slowed
MAX_AUDIO_MESSAGE = 64 * 1024  # one binary message: 2 s of 16 kHz 16-bit mono (clients send 20-100 ms)
log = logging.getLogger(SERVICE)


@dataclass
class Call:
    seqs: CallSeq = field(default_factory=CallSeq)
    channels: set[str] = field(default_factory=set)
    lifecycle: bool = True


def _denied(settings: Settings, token: str | None) -> tuple[int, str] | None:
    try:
        claims = verify(settings, (token or "").removeprefix("Bearer ").strip())
    except TokenError as exc:
        return 4401, f"token: {exc}"
    return None if claims["role"] in ROLES else (4403, "token: role must be ingest or service")


def create_app(settings: Settings | None = None, transcriber=None, sink=None) -> FastAPI:
    settings = settings or get_settings()
    settings.require_secrets("jwt_secret")  # verifies service tokens, mints one for ingest
    state = {"transcriber": transcriber, "sink": sink}
    calls: dict[str, Call] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        setup_logging(SERVICE, settings.log_level)
        if state["transcriber"] is None:
            from services.asr_bridge.transcriber import Transcriber

            state["transcriber"] = await asyncio.to_thread(Transcriber, settings)
        if state["sink"] is None:
            from services.asr_bridge.sink import make_sink

            state["sink"] = make_sink(settings)
        await _maybe(state["sink"], "start")
        log.info("asr bridge ready", extra={"target": settings.asr_target, "device": settings.asr_device})
        yield
        await _maybe(state["sink"], "stop")

    async def ready() -> tuple[bool, dict]:
        try:
            ok = await asyncio.wait_for(_maybe(state["sink"], "ready", True), 2)
            return bool(ok), {"model": "loaded", "target": settings.asr_target}
        except Exception as exc:
            return False, {"target": f"unreachable: {type(exc).__name__}"}

    app = FastAPI(title="Heartline ASR bridge", lifespan=lifespan, **api_docs(settings))
    app.state.ws_max_size = MAX_AUDIO_MESSAGE  # uvicorn refuses a bigger message before buffering it
    errors.install(app)
    app.include_router(health_router(SERVICE, ready))

    async def emit(ws: WebSocket, event) -> None:
        await state["sink"](event)
        try:
            await ws.send_text(json.dumps({"kind": "event", "event": json.loads(event.to_json())}, ensure_ascii=False))
        except Exception:  # the client went away; the event is already out
            pass

    @app.websocket("/v1/audio")
    async def audio(ws: WebSocket) -> None:
        await ws.accept()
        q = ws.query_params
        denied = _denied(settings, q.get("token") or ws.headers.get("authorization"))
        call_id, speaker = q.get("call_id", ""), q.get("speaker", "")
        if not denied and (not re.match(CALL_ID_PATTERN, call_id) or speaker not in SPEAKERS):
            denied = 4400, "call_id and speaker=agent|customer are required"
        call = calls.setdefault(call_id, Call(lifecycle=q.get("lifecycle", "1") not in ("0", "false")))
        if not denied and speaker in call.channels:
            denied = 4409, f"{speaker} channel of {call_id} is already streaming"
        if denied:
            if not call.channels:
                calls.pop(call_id, None)
            await ws.close(code=denied[0], reason=denied[1][:120])
            return
        first = not call.channels
        call.channels.add(speaker)
        stream = ChannelStream(
            call_id,
            speaker,
            call.seqs,
            state["transcriber"].decode,
            FrameVad(settings.asr_vad_aggressiveness),
            settings,
        )
        try:
            if first and call.lifecycle:
                await emit(
                    ws, CallStarted(type="call_started", call_id=call_id, ts=utcnow(), agent_id=q.get("agent_id"))
                )
            await _run_channel(ws, stream, lambda e: emit(ws, e))
        finally:
            call.channels.discard(speaker)
            if not call.channels:
                calls.pop(call_id, None)
                if call.lifecycle:
                    await emit(ws, CallEnded(type="call_ended", call_id=call_id, ts=utcnow(), reason="hangup"))
        try:
            await ws.send_text(json.dumps({"kind": "ended", "call_id": call_id, "speaker": speaker}))
            await ws.close()
        except Exception:
            pass

    return app


async def _run_channel(ws: WebSocket, stream: ChannelStream, emit) -> None:
    """Receive audio into a bounded queue; decode what has piled up in one go."""
    queue: asyncio.Queue = asyncio.Queue(QUEUE_CHUNKS)

    async def receive() -> None:
        try:
            while True:
                msg = await ws.receive()
                if msg["type"] == "websocket.disconnect":
                    break
                if msg.get("bytes"):
                    await queue.put(msg["bytes"])
                elif msg.get("text") and '"end"' in msg["text"]:
                    break
        except WebSocketDisconnect:
            pass
        finally:
            await queue.put(None)

    receiver = asyncio.create_task(receive())
    try:
        done = False
        while not done:
            parts = [await queue.get()]
            while not queue.empty():
                parts.append(queue.get_nowait())
            done = parts[-1] is None
            pcm = b"".join(p for p in parts if p)
            for event in await asyncio.to_thread(stream.feed, pcm):
                await emit(event)
        for event in await asyncio.to_thread(stream.finish):
            await emit(event)
    finally:
        receiver.cancel()


async def _maybe(obj, name: str, default=None):
    fn = getattr(obj, name, None)
    return await fn() if fn else default
