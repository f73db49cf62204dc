"""What the gateway does with each record it reads, whoever reads it.

The four topics (call-state, utterance-analysis, nudges, nudge-feedback) go
into the ``CallBook`` and out to the sockets through the ``Hub``: a call's
messages to its agent, transcript and nudges of a watched call to the walls
that listen in, alerts (``audience: supervisor``) to every wall and never to
the agent. Wall updates of call-state are coalesced per call: ``apply`` only
marks the call, ``flush_walls`` sends each marked call's latest state once.
``housekeep`` expires old calls and sends the walls their ``stats``. The
Kafka feed (``feed.py``) calls ``apply`` for every record and runs
``timers``; nothing here touches a broker.
"""

from __future__ import annotations

import asyncio
import logging

import orjson

from services.gateway import messages as M
from services.gateway.calls import CallBook
from services.gateway.hub import Hub
from shared import metrics
from shared.topics import Topics

SERVICE = "gateway"
WALL_FLUSH_S = 0.25  # at most 4 wall updates a second per call
STATS_EVERY_S = 2.0
log = logging.getLogger("gateway.relay")


class Relay:
    def __init__(self, topics: Topics, book: CallBook, hub: Hub):
        self.book = book
        self.hub = hub
        self.handlers = {
            topics.call_state: self._on_state,
            topics.utterance_analysis: self._on_analysis,
            topics.nudges: self._on_nudge,
            topics.nudge_feedback: self._on_feedback,
        }
        self._dirty: set[str] = set()

    @property
    def topics(self) -> list[str]:
        return list(self.handlers)

    def apply(self, topic: str, key: bytes | None, value: bytes | None) -> None:
        """One record of ``topic``; a bad one is logged (without its values) and skipped."""
        if value is None:  # a call-state tombstone: the call is deleted
            if key:
                self.book.forget(key.decode(errors="replace"))
            return
        try:
            self.handlers[topic](orjson.loads(value))
        except Exception as exc:
            log.warning("skipped a bad record", extra={"topic": topic, "error": type(exc).__name__})

    def flush_walls(self) -> None:
        """The latest state of each call that changed since the last flush, once, to every wall."""
        dirty, self._dirty = self._dirty, set()
        if not self.hub.walls:
            return
        for call_id in dirty:
            buf = self.book.calls.get(call_id)
            if buf and buf.state:
                self.hub.to_walls(M.record(M.CALL_STATE, buf.state))

    def housekeep(self) -> None:
        self.book.expire()
        self.hub.to_walls(M.stats(self.book.stats()))
        self.hub.queue_depths()
        metrics.ACTIVE_CALLS.labels(SERVICE).set(len(self.book.live()))

    async def timers(self) -> None:
        """``flush_walls`` every ``WALL_FLUSH_S`` and ``housekeep`` every ``STATS_EVERY_S``, until cancelled."""
        ticks_per_stats = round(STATS_EVERY_S / WALL_FLUSH_S)
        tick = 0
        while True:
            await asyncio.sleep(WALL_FLUSH_S)
            self.flush_walls()
            tick += 1
            if tick % ticks_per_stats == 0:
                self.housekeep()

    def _on_state(self, rec: dict) -> None:
        buf, call_changed = self.book.on_state(rec)
        if call_changed and buf.agent_id:
            self.hub.to_agent(buf.agent_id, buf.call_message())
            if buf.flushed_to != buf.agent_id:  # what arrived before we knew the agent, once
                buf.flushed_to = buf.agent_id  # (not the whole transcript again at every hold or end)
                for msg in buf.transcript.values():
                    self.hub.to_agent(buf.agent_id, msg)
                for msg in buf.agent_nudges():
                    self.hub.to_agent(buf.agent_id, msg)
        # droppable: the next call_state carries every field again
        self.hub.to_agent(buf.agent_id, M.record(M.CALL_STATE, rec), droppable=True)
        self._dirty.add(rec["call_id"])

    def _on_analysis(self, rec: dict) -> None:
        buf, msg = self.book.on_analysis(rec)
        if msg is None:
            return
        partial = not rec.get("is_final", True)
        self.hub.to_agent(buf.agent_id, msg, droppable=partial)
        self.hub.to_walls(msg, call_id=buf.call_id, droppable=partial, watchers_only=True)

    def _on_nudge(self, rec: dict) -> None:
        buf, msg = self.book.on_nudge(rec)
        if msg is None:
            return
        if rec.get("audience") == "supervisor":
            self.hub.to_walls(msg)
        else:
            self.hub.to_agent(buf.agent_id, msg)
            self.hub.to_walls(msg, call_id=buf.call_id, watchers_only=True)

    def _on_feedback(self, rec: dict) -> None:
        self.book.on_feedback(rec)
        metrics.NUDGE_FEEDBACK.labels(rec.get("type") or "unknown", rec.get("action", "unknown")).inc()
