"""The gateway's websocket protocol without a broker.

``gateway()`` runs the real app (``services.gateway.app.create_app``) in
FastAPI's TestClient with a ``FakeFeed`` in place of the Kafka ``Feed``. The
fake hands records to the app's ``Relay`` the way the Kafka feed does
(``Relay.apply(topic, key, value)``, JSON bytes built from the
``shared.schemas`` models), on the app's own event loop, so a ``publish``
has reached every socket's send queue when it returns. What the gateway
produces (feedback, whispers) is kept in ``produced``; ``echo()`` reads it
back, as every gateway reads its own records from Kafka. The wall's
coalescing and stats timers do not run: ``flush()`` and ``housekeep()`` are
their ticks.

Waiting is in-band, never a sleep: ``Sock.settle()`` sends a ``ping`` and
returns what arrived before its ``pong`` (one client's messages keep their
order, so that is everything queued for it before the ping). Every message
received is checked against its model in ``shared.socket_messages`` and
against the kinds its socket may carry (docs/asyncapi.yaml).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, get_args

import jwt
import orjson
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from services.gateway.app import create_app
from services.gateway.relay import Relay
from shared import socket_messages
from shared.asyncapi import AGENT_SENT, WALL_SENT
from shared.auth import mint
from shared.config import Settings
from shared.schemas import CallState, Customer, Nudge, UtteranceAnalysis, iso, utcnow
from tests.test_secrets import STRONG

_ticket = itertools.count()


def _models(names: list[str]) -> dict[str, Any]:
    out = {}
    for name in names:
        model = getattr(socket_messages, name)
        (kind,) = get_args(model.model_fields["kind"].annotation)
        out[kind] = model
    return out


SENT = {"agent": _models(AGENT_SENT), "supervisor": _models(WALL_SENT)}


class FakeFeed:
    """A ``GatewayFeed`` with no broker: the test publishes, the app's sends are recorded."""

    def __init__(self, settings: Settings, relay: Relay):
        self.settings = settings
        self.relay = relay
        self.produced: list[tuple[str, bytes, bytes]] = []  # (topic, key, value), in order
        self.echoed = 0
        self.broken = False  # sends raise, as a producer does when the broker is down

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def ready(self) -> tuple[bool, dict]:
        return True, {"feed": "fake"}

    async def send_nudge(self, nudge: Nudge) -> None:
        self._produce(self.settings.topics.nudges, nudge.call_id.encode(), nudge.to_json())

    async def send_feedback(self, key: bytes, value: bytes) -> None:
        self._produce(self.settings.topics.nudge_feedback, key, value)

    def _produce(self, topic: str, key: bytes, value: bytes) -> None:
        if self.broken:
            raise ConnectionError("broker unreachable")
        self.produced.append((topic, key, value))

    def sent(self, topic: str) -> list[dict]:
        return [orjson.loads(v) for t, _, v in self.produced if t == topic]


class Sock:
    """One client socket: JSON in and out, every message checked against the protocol."""

    def __init__(self, ws: Any, role: str):
        self.ws = ws
        self.role = role

    def send(self, msg: Any) -> None:
        self.ws.send_text(msg if isinstance(msg, str) else orjson.dumps(msg).decode())

    def next(self) -> dict:
        msg = self.ws.receive_json()
        model = SENT[self.role].get(msg.get("kind"))
        assert model is not None, f"{self.role} socket got kind {msg.get('kind')!r}"
        model.model_validate(msg)
        return msg

    def settle(self) -> list[dict]:
        """Every message queued for this client so far (up to a ping's pong)."""
        t = f"settle-{next(_ticket)}"
        self.send({"kind": "ping", "t": t})
        out = []
        while (msg := self.next()) != {"kind": "pong", "t": t}:
            out.append(msg)
        return out

    def close_code(self) -> int:
        """Read until the gateway closes the socket; its close code."""
        try:
            while True:
                self.next()
        except WebSocketDisconnect as exc:
            return exc.code


class Gateway:
    def __init__(self, client: TestClient, settings: Settings, feed: FakeFeed):
        self.client = client
        self.settings = settings
        self.feed = feed
        self.topics = settings.topics

    # ---------------------------------------------------------------- sockets
    def token(self, sub: str, role: str = "agent", ttl_s: int | None = None) -> str:
        return mint(self.settings, sub, role, ttl_s)  # type: ignore[arg-type]

    def forged(self, sub: str, role: str, *, exp: float, secret: str | None = None, aud: str | None = None) -> str:
        """A token with the claims given (an expired one, another secret, another audience)."""
        now = int(time.time())
        claims = {"sub": sub, "role": role, "aud": aud or self.settings.token_audience, "iat": now - 60, "exp": exp}
        key = secret or self.settings.jwt_secret.get_secret_value()
        return jwt.encode(claims, key, algorithm="HS256")

    @contextmanager
    def connect(self, path: str, token: str | None, role: str, **kw: Any) -> Iterator[Sock]:
        url = path if token is None else f"{path}?token={token}"
        with self.client.websocket_connect(url, **kw) as ws:
            yield Sock(ws, role)

    def agent(self, sub: str) -> Any:
        return self.connect("/ws/agent", self.token(sub, "agent"), "agent")

    def wall(self, sub: str = "s-001") -> Any:
        return self.connect("/ws/wall", self.token(sub, "supervisor"), "supervisor")

    # ---------------------------------------------------------------- records in
    def _on_loop(self, fn: Any, *args: Any) -> Any:
        return self.client.portal.call(fn, *args)  # type: ignore[union-attr]

    def publish(self, topic: str, records: list[Any]) -> None:
        """Records (``shared.schemas`` models or plain dicts), keyed by call id, through the relay in order."""
        raw = [
            (str(_field(r, "call_id")).encode(), r.to_json() if hasattr(r, "to_json") else orjson.dumps(r))
            for r in records
        ]
        self._on_loop(self._apply, topic, raw)

    def raw(self, topic: str, call_id: str, values: list[bytes | None]) -> None:
        """Values as the broker holds them: anything, ``None`` for a tombstone."""
        self._on_loop(self._apply, topic, [(call_id.encode(), v) for v in values])

    def _apply(self, topic: str, raw: list[tuple[bytes, bytes | None]]) -> None:
        for key, value in raw:
            self.feed.relay.apply(topic, key, value)

    def state(self, call_id: str, agent_id: str | None, **fields: Any) -> CallState:
        fields.setdefault("started_ts", "2026-11-23T08:00:00.000Z")
        fields.setdefault("customer", Customer(name="王先生", segment="senior"))
        rec = CallState(call_id=call_id, agent_id=agent_id, **fields)
        self.publish(self.topics.call_state, [rec])
        return rec

    def line(self, call_id: str, seq: int, text: str = "你好", **fields: Any) -> UtteranceAnalysis:
        rec = self.make_line(call_id, seq, text, **fields)
        self.publish(self.topics.utterance_analysis, [rec])
        return rec

    def make_line(self, call_id: str, seq: int, text: str = "你好", **fields: Any) -> UtteranceAnalysis:
        """An analysed line: a final of the customer unless ``speaker``/``is_final`` say otherwise."""
        now = iso(utcnow())
        rec = {
            "speaker": "customer",
            "is_final": True,
            "sentiment": 0.3,
            "emotion": "anger",
            "emotion_score": 0.8,
            "start_ms": seq * 1000,
            "end_ms": seq * 1000 + 800,
            "ts": now,
            "ingest_ts": now,
            "analyzed_ts": now,
            **fields,
        }
        return UtteranceAnalysis.model_validate({"call_id": call_id, "seq": seq, "text": text, **rec})

    def nudge(self, call_id: str, agent_id: str | None, kind: str = "acknowledge_emotion", **fields: Any) -> Nudge:
        return self.nudges([self.make_nudge(call_id, agent_id, kind, **fields)])[0]

    def make_nudge(self, call_id: str, agent_id: str | None, kind: str = "acknowledge_emotion", **fields: Any):
        seq = fields.pop("trigger_seq", 1)
        fields.setdefault("nudge_id", f"{call_id}:{seq}:{kind}")
        fields.setdefault("title", "先安抚情绪")
        fields.setdefault("suggestion", "非常理解您的心情,让您久等了,我马上帮您处理。")
        fields.setdefault("reason", "客户情绪: 愤怒 0.86")
        return Nudge(call_id=call_id, agent_id=agent_id, type=kind, trigger_seq=seq, created_ts=utcnow(), **fields)

    def nudges(self, records: list[Nudge]) -> list[Nudge]:
        self.publish(self.topics.nudges, records)
        return records

    def tombstone(self, call_id: str) -> None:
        self.raw(self.topics.call_state, call_id, [None])

    def echo(self) -> None:
        """What the gateway produced since the last echo, read back (Kafka delivers it to every gateway)."""

        new, self.feed.echoed = self.feed.produced[self.feed.echoed :], len(self.feed.produced)
        for topic, key, value in new:
            self._on_loop(self._apply, topic, [(key, value)])

    # ---------------------------------------------------------------- the timers' ticks
    def flush(self) -> None:
        self._on_loop(self.feed.relay.flush_walls)

    def housekeep(self) -> None:
        self._on_loop(self.feed.relay.housekeep)


def _field(rec: Any, name: str) -> Any:
    return rec[name] if isinstance(rec, dict) else getattr(rec, name)


@contextmanager
def gateway(**settings: Any) -> Iterator[Gateway]:
    """The gateway app on a fake feed, started (lifespan) and stopped around the block."""
    feeds: list[FakeFeed] = []

    def factory(s: Settings, relay: Relay) -> FakeFeed:
        feeds.append(FakeFeed(s, relay))
        return feeds[-1]

    s = Settings(mode="local", kafka="127.0.0.1:1", jwt_secret=STRONG, **settings)
    with TestClient(create_app(s, feed_factory=factory)) as client:
        yield Gateway(client, s, feeds[0])
