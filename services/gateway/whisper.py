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

import re
import uuid
from datetime import datetime

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from services.gateway.calls import CallBook
from services.gateway.history import bearer_claims
from shared import errors
from shared.api_models import WhisperAccepted
from shared.config import Settings
from shared.demo import DEMO_SUPERVISORS
from shared.nudge_types import SUPERVISOR_WHISPER
from shared.openapi import BEARER
from shared.pii import redact
from shared.ratelimit import KeyedBuckets
from shared.schemas import CALL_ID_PATTERN, Nudge, utcnow

TYPE = SUPERVISOR_WHISPER
MAX_CHARS = 200
BURST = 3
EVERY_S = 3.0
TITLE = "主管提示"
# Control, format (invisible), private-use and surrogate code points: Unicode categories Cc, Cf, Co
# and Cs (Unicode 14; tests/test_asyncapi.py checks the table against unicodedata). One table for
# the check below and the OpenAPI pattern of ``text``, so the schema refuses exactly what this does.
HIDDEN = (
    (0x0, 0x1F),
    (0x7F, 0x9F),
    (0xAD, 0xAD),
    (0x600, 0x605),
    (0x61C, 0x61C),
    (0x6DD, 0x6DD),
    (0x70F, 0x70F),
    (0x890, 0x891),
    (0x8E2, 0x8E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xD800, 0xF8FF),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x13438),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
    (0xF0000, 0xFFFFD),
    (0x100000, 0x10FFFD),
)


def _split(lo: int, hi: int, cut_lo: int, cut_hi: int) -> list[tuple[int, int]]:
    """[lo, hi] without [cut_lo, cut_hi]."""
    return [(a, b) for a, b in ((lo, min(hi, cut_lo - 1)), (max(lo, cut_hi + 1), hi)) if a <= b]


def _esc(cp: int) -> str:
    return f"\\u{cp:04X}" if cp <= 0xFFFF else f"\\U{cp:08X}"


# Surrogates (Cs) cannot stand in a pattern (not Unicode scalar values): the pattern leaves them
# out; JSON text carrying a lone one is refused by the parser before any pattern is tried.
_SURROGATES = (0xD800, 0xDFFF)
HIDDEN_CLASS = "".join(
    _esc(a) if a == b else f"{_esc(a)}-{_esc(b)}" for lo, hi in HIDDEN for a, b in _split(lo, hi, *_SURROGATES)
)
_HIDDEN_RE = re.compile("[" + HIDDEN_CLASS + _esc(_SURROGATES[0]) + "-" + _esc(_SURROGATES[1]) + "]")
# Some visible character, none hidden (what clean_text accepts, up to the length).
TEXT_PATTERN = f"^[^{HIDDEN_CLASS}]*[^{HIDDEN_CLASS}\\s][^{HIDDEN_CLASS}]*$"


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
    if _HIDDEN_RE.search(text):
        raise WhisperError(422, "text contains control or invisible characters")
    return redact(text)[0]


def make_whisper(
    call_id: str, agent_id: str, supervisor: str, name: str | None, text: str, now: datetime | None = None
) -> Nudge:
    who = f"{name}({supervisor})" if name and name != supervisor else supervisor
    return Nudge(
        nudge_id=f"{call_id}:whisper:{uuid.uuid4().hex[:12]}",
        call_id=call_id,
        agent_id=agent_id,
        type=TYPE,
        audience="agent",
        priority="high",
        title=TITLE,
        suggestion=text,
        reason=f"来自{who}",
        sender=supervisor,
        created_ts=now or utcnow(),
    )


class Whisperer:
    def __init__(self, settings: Settings, book: CallBook, send):
        """``send(nudge)``: an async function that produces the nudge on ``nudges``."""
        self.settings = settings
        self.book = book
        self.send_nudge = send
        self.limit = KeyedBuckets(rate=1 / EVERY_S, burst=BURST)  # per supervisor
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
    text: str = Field(
        min_length=1,
        max_length=MAX_CHARS,
        pattern=TEXT_PATTERN,
        description=f"the hint, 1–{MAX_CHARS} characters, not only spaces, no control or "
        "invisible characters (Unicode Cc, Cf, Co, Cs); runs of spaces become one",
    )


def whisper_router(settings: Settings, whisperer: Whisperer) -> APIRouter:
    router = APIRouter(tags=["whisper"], dependencies=[BEARER])

    @router.post(
        "/api/whisper",
        status_code=202,
        response_model=WhisperAccepted,
        summary="A supervisor's hint to the agent of a live call (主管提示)",
        response_description="Produced on `nudges` as a `supervisor_whisper` Nudge",
        responses=errors.responses(
            400,
            401,
            403,
            404,
            409,
            413,
            422,
            429,
            503,
            s404="No live call with this id and an agent.",
            s409="The call has ended.",
            s422="Bad text (empty, too long, control or invisible characters).",
            s429=f"Too many whispers: {BURST} at once, then one every {EVERY_S:g} s.",
            s503="The broker did not take the whisper: send it again.",
        ),
    )
    async def whisper(req: WhisperRequest, request: Request) -> dict:
        claims = bearer_claims(settings, request, "supervisor")
        try:
            nudge = await whisperer.send(claims["sub"], req.call_id, req.text)
        except WhisperError as exc:
            wait = {429: str(int(EVERY_S)), 503: "1"}.get(exc.status)
            raise HTTPException(exc.status, exc.message, headers={"Retry-After": wait} if wait else None) from exc
        return {"nudge_id": nudge.nudge_id, "call_id": nudge.call_id, "agent_id": nudge.agent_id}

    return router
