"""Fan-out to websocket clients without head-of-line blocking.

Each connection has its own bounded send queue drained by its own task, so a
slow browser never slows the others. Guarantees: messages to one client keep
their order; the greeting (the state sent on connect) is queued whole, however
large (a wall with more live calls than the limit still connects);
``QUEUE_LIMIT`` bounds what is queued behind it. Past the limit, partial
transcript lines and an agent's ``call_state`` may be dropped (the final, the
next state replace them); anything else closes that client with 4408 — it
reconnects and resumes, so a nudge is never silently lost. Messages are
JSON-encoded once and shared.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field

from fastapi import WebSocket

from services.gateway.messages import encode, is_nudge
from shared import metrics
from shared.ratelimit import TokenBucket

QUEUE_LIMIT = 2000
CLOSE_SLOW = 4408
log = logging.getLogger("gateway.hub")


@dataclass(eq=False)
class Client:
    ws: WebSocket
    role: str
    sub: str
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)  # bounded by offer: QUEUE_LIMIT past the greeting
    greeting: int = 0  # greeting messages still queued
    sent_nudges: set = field(default_factory=set)
    watching: str | None = None
    closed: bool = False
    expires_at: float | None = None  # the token's exp (epoch s): closed with 4401 then
    # client messages: 20 a second, 40 at once (more closes the socket with 4429)
    limiter: TokenBucket = field(default_factory=lambda: TokenBucket(rate=20.0, burst=40.0))

    def offer(self, text: str, droppable: bool = False, nudge: dict | None = None, greeting: bool = False) -> None:
        if self.closed:
            return
        if nudge is not None:
            if nudge["nudge_id"] in self.sent_nudges:
                return
            self.sent_nudges.add(nudge["nudge_id"])
        if not greeting and self.queue.qsize() - self.greeting >= QUEUE_LIMIT:
            if droppable:
                return
            self.closed = True
            metrics.WS_DROPPED.labels(self.role, "slow").inc()
            self.queue = asyncio.Queue()
            self.queue.put_nowait((None, None, False))  # tell the sender to close
            return
        self.greeting += greeting
        self.queue.put_nowait((text, nudge, greeting))

    def allow_message(self) -> bool:
        return self.limiter.allow()

    async def run_sender(self) -> None:
        while True:
            text, nudge, greeting = await self.queue.get()
            self.greeting -= greeting
            if text is None:
                await self.ws.close(code=CLOSE_SLOW, reason="client too slow; reconnect and resume")
                return
            await self.ws.send_text(text)
            if nudge is not None and nudge.get("ingest_ts") and nudge.get("audience") == "agent":
                metrics.E2E_SECONDS.observe(max(0.0, time.time() - _epoch(nudge["ingest_ts"])))


def _epoch(ts: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


class Hub:
    def __init__(self) -> None:
        self.agents: dict[str, set[Client]] = defaultdict(set)
        self.walls: set[Client] = set()

    def add(self, client: Client) -> None:
        if client.role == "agent":
            self.agents[client.sub].add(client)
        else:
            self.walls.add(client)
        self._gauge()

    def remove(self, client: Client) -> None:
        client.closed = True
        if client.role == "agent":
            self.agents.get(client.sub, set()).discard(client)
            if not self.agents.get(client.sub):
                self.agents.pop(client.sub, None)
        else:
            self.walls.discard(client)
        self._gauge()

    def _gauge(self) -> None:
        metrics.WS_CLIENTS.labels("agent").set(sum(len(c) for c in self.agents.values()))
        metrics.WS_CLIENTS.labels("supervisor").set(len(self.walls))

    def to_agent(self, agent_id: str | None, msg: dict, droppable: bool = False) -> None:
        clients = self.agents.get(agent_id or "")
        if not clients:
            return
        text = encode(msg)
        nudge = msg if is_nudge(msg) else None
        for client in list(clients):
            client.offer(text, droppable, nudge)

    def to_walls(
        self, msg: dict, call_id: str | None = None, droppable: bool = False, watchers_only: bool = False
    ) -> None:
        if not self.walls:
            return
        text = encode(msg)
        for client in list(self.walls):
            if watchers_only and client.watching != call_id:
                continue
            client.offer(text, droppable, msg if is_nudge(msg) else None)

    def queue_depths(self) -> None:
        for role, clients in (("agent", [c for s in self.agents.values() for c in s]), ("supervisor", self.walls)):
            metrics.WS_QUEUE_DEPTH.labels(role).set(max((c.queue.qsize() for c in clients), default=0))
