"""Every websocket message, both directions, as pydantic models (docs/asyncapi.yaml is built from them).

Records travel flat: a ``nudge`` message is the Nudge record's fields plus
``"kind": "nudge"`` (docs/websocket.md), so the server messages extend the
records of ``shared.schemas``. ``python -m shared.asyncapi`` renders these and
the topic records into the AsyncAPI document; a test captures real messages
from every socket and checks them against it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.schemas import (
    CallEvent,
    CallState,
    FeedbackAction,
    Nudge,
    Speaker,
    UtteranceAnalysis,
)


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore")


# ------------------------------------------------------------------ gateway → agent desktop / wall


class CallMessage(CallState):
    """A call of this agent started or ended (``ended_ts`` set), or its hold or customer changed.
    Before the call's first state only ``call_id`` and ``agent_id`` are known."""

    kind: Literal["call"]


class TranscriptMessage(UtteranceAnalysis):
    """A partial or final line (PII redacted); a final replaces the partial of the same
    ``(call_id, seq, speaker)``."""

    kind: Literal["transcript"]


class CallStateMessage(CallState):
    """The call's state changed (on the wall: coalesced, a few per second per call at most;
    ``ended_ts`` set = remove the tile)."""

    kind: Literal["call_state"]


class NudgeMessage(Nudge):
    """A new nudge; a ``nudge_id`` is sent at most once per connection."""

    kind: Literal["nudge"]


class FeedbackAck(_Message):
    """The gateway recorded the agent's feedback (it is on ``nudge-feedback``)."""

    kind: Literal["feedback_ack"]
    nudge_id: str
    action: FeedbackAction


class Resumed(_Message):
    """The answer to ``resume``, after the missed messages."""

    kind: Literal["resumed"]
    call_id: str
    after_seq: int


class Pong(_Message):
    """The answer to ``ping``: ``t`` as the client sent it."""

    kind: Literal["pong"]
    t: Any = None


class SocketError(_Message):
    """A malformed or refused client message; the socket stays open. A refused whisper also
    carries ``about: "whisper"``, the HTTP-like ``status`` and the ``call_id``; feedback the
    broker did not take (it is down) carries ``about: "feedback"``, the ``nudge_id`` and
    ``retry_after_s``: send it again then."""

    kind: Literal["error"]
    error: str = Field(description="what was wrong, without the values sent")
    about: Literal["whisper", "feedback"] | None = None
    status: Literal[404, 409, 422, 429, 503] | None = None
    call_id: Any = None
    nudge_id: str | None = None
    retry_after_s: float | None = Field(default=None, gt=0)


class Stats(_Message):
    """The wall's header, every 2 s."""

    kind: Literal["stats"]
    live_calls: int = Field(ge=0)
    at_risk: int = Field(ge=0)
    nudges_per_min: int = Field(ge=0)
    acceptance_rate: float | None = Field(ge=0.0, le=1.0, description="accepted / answered; null before any")


class WhisperAck(_Message):
    """The whisper is on ``nudges``; it reaches the agent (and this panel) as a ``nudge``."""

    kind: Literal["whisper_ack"]
    call_id: str
    nudge_id: str


# ------------------------------------------------------------------ agent desktop / wall → gateway


class Feedback(_Message):
    """The agent used or dismissed a nudge."""

    kind: Literal["feedback"]
    nudge_id: str
    action: FeedbackAction


class Resume(_Message):
    """Send transcript lines with ``seq > after_seq`` and the open nudges not in ``seen_nudges``."""

    kind: Literal["resume"]
    call_id: str
    after_seq: int = -1
    seen_nudges: list[str] | None = None


class Ping(_Message):
    """Keepalive; answered with ``pong``."""

    kind: Literal["ping"]
    t: Any = None


class Watch(_Message):
    """Listen in: the call's transcript and nudges so far, then live."""

    kind: Literal["watch"]
    call_id: str


class Unwatch(_Message):
    kind: Literal["unwatch"]


class Whisper(_Message):
    """A hint to the call's agent (a call with an agent, not ended; 3 at once, then one every 3 s)."""

    kind: Literal["whisper"]
    call_id: str
    text: str = Field(description="trimmed, 1–200 characters, no control or invisible characters")


# ------------------------------------------------------------------ ingest's /v1/stream and the ASR bridge


class StreamError(_Message):
    """A message ingest could not take (not JSON, not a valid CallEvent, too large, broker down)."""

    kind: Literal["error"]
    error: str


class AudioEnd(_Message):
    """Ends the channel cleanly (closing the socket does too)."""

    kind: Literal["end"]


class AsrEvent(_Message):
    """A CallEvent the bridge emitted (and sent to ``stt-events`` or ingest), echoed to the channel."""

    kind: Literal["event"]
    event: CallEvent


class ChannelEnded(_Message):
    """The channel is finished: every final of it was emitted."""

    kind: Literal["ended"]
    call_id: str
    speaker: Speaker
