"""The two websockets: ``/ws/agent`` (one agent's calls) and ``/ws/wall``.

On connect the current state is sent first, then live messages (see
docs/websocket.md). A bad or missing token closes with 4401, a role mismatch
with 4403, a disallowed Origin with 1008, a client flooding messages with
4429, a token that expires while connected with 4401 (at its ``exp``). A
malformed message (not JSON, binary frame, unknown kind) gets an ``error``
and the socket stays open; a message over ``MAX_CLIENT_MESSAGE`` bytes closes
it with 1009 (uvicorn, before buffering it). The pages send their token as a
subprotocol (below), never in the URL. Clients are unregistered in ``finally``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from urllib.parse import urlparse

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from services.gateway import messages as M
from services.gateway.calls import CallBook
from services.gateway.feed import GatewayFeed
from services.gateway.hub import Client, Hub
from services.gateway.messages import encode
from services.gateway.whisper import Whisperer, WhisperError
from shared.auth import TokenError, verify
from shared.config import Settings
from shared.schemas import NudgeFeedback

FEEDBACK_RETRY_S = 5.0  # when the broker did not take an agent's feedback, the desk sends it again after this
MAX_CLIENT_MESSAGE = 16_384  # bytes; uvicorn's ws_max_size (app.py) refuses more before buffering it
# Browsers cannot set headers on a websocket, so the pages send the token as a subprotocol,
# ``new WebSocket(url, ["heartline", "heartline.bearer.<JWT>"])``, and it never appears in a
# URL (access logs, proxies, history). ``?token=`` still works for other clients.
WS_PROTOCOL = "heartline"
BEARER_PROTOCOL = "heartline.bearer."
log = logging.getLogger("gateway.sockets")


def socket_router(
    settings: Settings, book: CallBook, hub: Hub, feed: GatewayFeed, whisperer: Whisperer | None = None
) -> APIRouter:
    router = APIRouter()

    async def admit(ws: WebSocket, role: str) -> Client | None:
        offered = ws.scope.get("subprotocols") or []
        await ws.accept(subprotocol=WS_PROTOCOL if WS_PROTOCOL in offered else None)
        origin = ws.headers.get("origin")
        if origin and not _origin_ok(origin, ws.headers.get("host", ""), settings.allowed_origins):
            await ws.close(code=1008, reason="origin not allowed")
            return None
        try:
            claims = verify(settings, ws.query_params.get("token") or _bearer(offered))
        except TokenError as exc:
            await ws.close(code=4401, reason=f"unauthorized: {exc}"[:120])
            return None
        if claims["role"] != role:
            await ws.close(code=4403, reason=f"role {claims['role']} may not use this socket")
            return None
        client = Client(ws=ws, role=role, sub=claims["sub"], expires_at=float(claims["exp"]))
        return client

    async def serve(client: Client, greet, on_message) -> None:
        hub.add(client)
        sender = asyncio.create_task(client.run_sender())
        expiry = asyncio.create_task(asyncio.sleep(max(0.0, (client.expires_at or float("inf")) - time.time())))
        try:
            greet(client)
            while True:
                receive = asyncio.create_task(_receive(client.ws))
                done, _ = await asyncio.wait({receive, sender, expiry}, return_when=asyncio.FIRST_COMPLETED)
                if sender in done:
                    receive.cancel()
                    break
                if expiry in done:
                    receive.cancel()
                    await client.ws.close(code=4401, reason="unauthorized: token expired")
                    break
                text = receive.result()
                if not client.allow_message():
                    await client.ws.close(code=4429, reason="too many messages")
                    break
                msg = _parse(text) if text is not None else "binary frames are not supported; send JSON text"
                if isinstance(msg, str):
                    client.offer(encode(M.error(msg)))
                    continue
                if msg["kind"] == "ping":
                    client.offer(encode(M.pong(msg.get("t"))))
                    continue
                await on_message(client, msg)
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            hub.remove(client)
            sender.cancel()
            expiry.cancel()

    @router.websocket("/ws/agent")
    async def agent_socket(ws: WebSocket) -> None:
        client = await admit(ws, "agent")
        if client is None:
            return

        def greet(c: Client) -> None:
            for buf in sorted(book.agent_calls(c.sub), key=lambda b: (b.state or {}).get("started_ts") or ""):
                _send_call(c, buf, after_seq=-1, seen=set(), greeting=True)

        async def on_message(c: Client, msg: dict) -> None:
            if msg["kind"] == "feedback":
                await _feedback(c, msg)
            elif msg["kind"] == "resume":
                buf = book.calls.get(str(msg.get("call_id")))
                after = msg.get("after_seq", -1)
                seen = msg.get("seen_nudges") or []
                if buf is None or buf.agent_id != c.sub or not isinstance(after, int) or not isinstance(seen, list):
                    c.offer(encode(M.error("resume: unknown call or bad after_seq/seen_nudges")))
                    return
                _send_call(c, buf, after_seq=after, seen={str(s) for s in seen})
                c.offer(encode(M.resumed(buf.call_id, after)))
            else:
                c.offer(encode(M.error(f"unknown kind {msg['kind']!r}")))

        await serve(client, greet, on_message)

    async def _feedback(c: Client, msg: dict) -> None:
        nudge_id, action = msg.get("nudge_id"), msg.get("action")
        if not isinstance(nudge_id, str):  # (a list or an object is not a key: it raised TypeError)
            c.offer(encode(M.error("feedback: nudge_id must be a string")))
            return
        buf = next((b for b in book.calls.values() if b.agent_id == c.sub and nudge_id in b.nudges), None)
        if buf is None:
            c.offer(encode(M.error("feedback: unknown nudge_id for this agent")))
            return
        try:
            fb = NudgeFeedback(
                nudge_id=nudge_id,
                call_id=buf.call_id,
                agent_id=c.sub,
                type=buf.nudges[nudge_id].get("type"),
                action=action,
            )
        except ValidationError:
            c.offer(encode(M.error("feedback: action must be accepted or dismissed")))
            return
        try:
            await feed.send_feedback(buf.call_id.encode(), fb.to_json())
        except Exception as exc:  # broker unreachable: the desk keeps it unacknowledged and sends it again
            log.warning("feedback not queued (%s)", type(exc).__name__)
            c.offer(encode(M.feedback_not_recorded(nudge_id, FEEDBACK_RETRY_S)))
            return
        book.on_feedback(fb.model_dump(mode="json"))
        c.offer(encode(M.feedback_ack(nudge_id, action)))

    @router.websocket("/ws/wall")
    async def wall_socket(ws: WebSocket) -> None:
        client = await admit(ws, "supervisor")
        if client is None:
            return

        def greet(c: Client) -> None:
            for buf in sorted(book.live(), key=lambda b: -(b.state or {}).get("risk", 0)):
                c.offer(encode(M.record(M.CALL_STATE, buf.state)), greeting=True)
            for alert in list(book.alerts):
                c.offer(encode(alert), nudge=alert, greeting=True)
            c.offer(encode(M.stats(book.stats())), greeting=True)

        async def on_message(c: Client, msg: dict) -> None:
            if msg["kind"] == "watch":
                buf = book.calls.get(str(msg.get("call_id")))
                if buf is None:
                    c.offer(encode(M.error("watch: unknown call")))
                    return
                c.watching = buf.call_id
                c.sent_nudges.difference_update(buf.nudges.keys() - {a["nudge_id"] for a in book.alerts})
                c.offer(encode(buf.call_message()))
                for line in buf.transcript.values():
                    c.offer(encode(line))
                for nudge in buf.nudges.values():
                    c.offer(encode(nudge), nudge=nudge)
            elif msg["kind"] == "unwatch":
                c.watching = None
            elif msg["kind"] == "whisper" and whisperer is not None:
                try:
                    nudge = await whisperer.send(c.sub, msg.get("call_id"), msg.get("text"))
                except WhisperError as exc:
                    c.offer(encode(M.whisper_refused(msg.get("call_id"), exc.status, exc.message)))
                    return
                c.offer(encode(M.whisper_ack(nudge.call_id, nudge.nudge_id)))
            else:
                c.offer(encode(M.error(f"unknown kind {msg['kind']!r}")))

        await serve(client, greet, on_message)

    return router


def _send_call(c: Client, buf, after_seq: int, seen: set[str], greeting: bool = False) -> None:
    c.offer(encode(buf.call_message()), greeting=greeting)
    for line in buf.transcript_after(after_seq):
        c.offer(encode(line), droppable=not line.get("is_final", True), greeting=greeting)
    if buf.state:
        c.offer(encode(M.record(M.CALL_STATE, buf.state)), greeting=greeting)
    c.sent_nudges.update(seen)
    for nudge in buf.agent_nudges():  # not the alerts: the wall's only, as live
        c.offer(encode(nudge), nudge=nudge, greeting=greeting)


async def _receive(ws: WebSocket) -> str | None:
    """The next text message; None for a binary frame (``receive_text`` would raise KeyError)."""
    message = await ws.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    return message.get("text")


def _bearer(subprotocols: list[str]) -> str | None:
    return next((p[len(BEARER_PROTOCOL) :] for p in subprotocols if p.startswith(BEARER_PROTOCOL)), None)


def _parse(text: str) -> dict | str:
    if len(text.encode()) > MAX_CLIENT_MESSAGE:  # behind a server without ws_max_size
        return "message too large"
    try:
        msg = orjson.loads(text)
    except orjson.JSONDecodeError:
        return "not valid JSON"
    if not isinstance(msg, dict) or not isinstance(msg.get("kind"), str):
        return "a message must be a JSON object with a string 'kind'"
    return msg


def _origin_ok(origin: str, host: str, allowed: list[str]) -> bool:
    if "*" in allowed or origin in allowed:
        return True
    return urlparse(origin).netloc == host
