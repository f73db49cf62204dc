"""Supervisor whisper (主管提示): a short hint from the wall's listen-in panel to one agent.

A supervisor sends ``{"kind": "whisper", "call_id": ..., "text": ...}`` on the
wall socket (or ``POST /api/whisper`` with a supervisor token; an agent token
gets 403). The gateway checks it and produces a Nudge of type
``supervisor_whisper`` (audience agent, priority high, ``sender`` = the
supervisor's id) on ``nudges``, keyed by call id — so every gateway replica
reads it back like any nudge and shows it on the agent's desktop, where it
stays open until the agent answers it and comes back after a reload; the
recorder stores it in the call's history with its sender.

Checked here: the text (trimmed, 1–200 characters, no control characters),
the call (live, with an agent, known to this gateway — every gateway reads
every partition), and a per-supervisor rate limit (a burst of 3, then one
every 3 s; per gateway process, so N replicas allow up to N times that).
The text is the supervisor's own words, not customer speech: it does not go
through the analyzer, but a number typed into it (a card, a phone) is masked
with the analyzer's redaction (``shared.pii.redact``) before it reaches the
topic, the desktop and the history.
"""

from __future__ import annotations

import time
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from services.gateway.calls import CallBook
from services.gateway.history import bearer_claims
from shared.config import Settings
from shared.demo import DEMO_SUPERVISORS
from shared.nudge_types import SUPERVISOR_WHISPER
from shared.pii import redact
from shared.schemas import CALL_ID_PATTERN, Nudge, utcnow

TYPE = SUPERVISOR_WHISPER
MAX_CHARS = 200
BURST = 3
EVERY_S = 3.0
TITLE = "主管提示"


class WhisperError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def clean_text(text: object) -> str:
    """The whisper's text, trimmed; WhisperError(422) saying what is wrong."""
    if not isinstance(text, str):
        raise WhisperError(422, "text must be a string")
    text = " ".join(text.split())  # newlines and runs of spaces become one space
    if not text:
        raise WhisperError(422, "text is empty")
    if len(text) > MAX_CHARS:
        raise WhisperError(422, f"text is {len(text)} characters; at most {MAX_CHARS}")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs") for ch in text):
        raise WhisperError(422, "text contains control or invisible characters")
    return redact(text)[0]


def make_whisper(call_id: str, agent_id: str, supervisor: str, name: str | None, text: str,
                 now: datetime | None = None) -> Nudge:
    who = f"{name}({supervisor})" if name and name != supervisor else supervisor
    return Nudge(nudge_id=f"{call_id}:whisper:{uuid.uuid4().hex[:12]}", call_id=call_id, agent_id=agent_id,
                 type=TYPE, audience="agent", priority="high", title=TITLE, suggestion=text,
                 reason=f"来自{who}", sender=supervisor, created_ts=now or utcnow())


@dataclass
class RateLimit:
    """A token bucket per key: ``burst`` at once, then one every ``every_s``."""

    burst: int = BURST
    every_s: float = EVERY_S
    buckets: dict = field(default_factory=dict)  # key -> (tokens, last)

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        tokens, last = self.buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) / self.every_s)
        if tokens < 1:
            self.buckets[key] = (tokens, now)
            return False
        self.buckets[key] = (tokens - 1, now)
        if len(self.buckets) > 10_000:  # bounded: forget the oldest
            self.buckets.pop(next(iter(self.buckets)))
        return True


class Whisperer:
    def __init__(self, settings: Settings, book: CallBook, send):
        """``send(nudge)``: an async function that produces the nudge on ``nudges``."""
        self.settings = settings
        self.book = book
        self.send_nudge = send
        self.limit = RateLimit()
        self.names = {p["id"]: p["name"] for p in DEMO_SUPERVISORS} if settings.mode == "local" else {}

    async def send(self, supervisor: str, call_id: object, text: object) -> Nudge:
        if not isinstance(call_id, str) or not call_id:
            raise WhisperError(422, "call_id is required")
        text = clean_text(text)
        buf = self.book.calls.get(call_id)
        if buf is None or buf.state is None or not buf.agent_id:
            raise WhisperError(404, "no live call with this id and an agent")
        if buf.ended:
            raise WhisperError(409, "the call has ended")
        if not self.limit.allow(supervisor):
            raise WhisperError(429, f"too many whispers: at most {BURST} at once, then one every {EVERY_S:g} s")
        nudge = make_whisper(call_id, buf.agent_id, supervisor, self.names.get(supervisor), text)
        try:
            await self.send_nudge(nudge)
        except Exception as exc:  # broker unreachable: say so, the supervisor can send again
            raise WhisperError(503, f"the whisper could not be queued ({type(exc).__name__}); try again") from exc
        return nudge


class WhisperRequest(BaseModel):
    call_id: str = Field(pattern=CALL_ID_PATTERN)
    text: str = Field(max_length=4 * MAX_CHARS)


def whisper_router(settings: Settings, whisperer: Whisperer) -> APIRouter:
    router = APIRouter(tags=["whisper"])

    @router.post("/api/whisper", status_code=202)
    async def whisper(req: WhisperRequest, request: Request) -> dict:
        claims = bearer_claims(settings, request, "supervisor")
        try:
            nudge = await whisperer.send(claims["sub"], req.call_id, req.text)
        except WhisperError as exc:
            raise HTTPException(exc.status, exc.message) from exc
        return {"nudge_id": nudge.nudge_id, "call_id": nudge.call_id, "agent_id": nudge.agent_id}

    return router
