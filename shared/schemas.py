"""The one schema module: every record on every Heartline topic.

Producers and consumers alike import these models, so a record written by one
service is read by the others with the same rules. Every record carries a
schema version ``v`` so that later versions can be read next to old ones.
Unknown fields are ignored (outside clients may send more than we know).
Timestamps are UTC and serialise as ``2026-11-23T08:00:14.100Z``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    Strict,
    TypeAdapter,
    field_validator,
)

SCHEMA_VERSION = 1

Speaker = Literal["agent", "customer"]
Emotion = Literal["anger", "anxiety", "confusion", "sadness", "satisfaction", "neutral"]
Audience = Literal["agent", "supervisor"]
Priority = Literal["low", "normal", "high"]
FeedbackAction = Literal["accepted", "dismissed"]

MAX_TEXT_CHARS = 10_000
# An event's ``ts`` more than this ahead of our clock is a broken ASR/CTI clock
# (or a unit mix-up): rejected. Past timestamps are accepted (replays, backfills);
# the live workers time their rules by the wall clock, not by ``ts``.
MAX_FUTURE_SKEW = timedelta(days=1)
CALL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$"
# Bounds that match the history DB (services/recorder/models.py), so a record that
# validates is a record the recorder can store: INTEGER columns hold 2^31 - 1.
# An offset or a talk time is milliseconds within one call: 24 h is far past any call,
# and a value above it is a unit mix-up (an ASR sending microseconds: 2.2e9 for 37 min).
MAX_CALL_MS = 24 * 3600 * 1000
MAX_SEQ = 10_000_000
MAX_COUNT = 1_000_000


def _json_number(value: Any) -> Any:
    """A number arrives as a JSON number: ``"17"`` or ``true`` is refused, not read as 17 or 1
    (JSON Schema's ``integer`` admits 17.0, and so do these types)."""
    if isinstance(value, (str, bytes, bool)):
        raise ValueError("must be a JSON number")
    return value


def _json_time(value: Any) -> Any:
    """A timestamp arrives as an RFC 3339 string, never as a number of seconds."""
    if isinstance(value, (int, float)):
        raise ValueError("must be an RFC 3339 date-time string")
    return value


JsonInt = Annotated[int, BeforeValidator(_json_number)]
JsonBool = Annotated[bool, Strict()]  # true or false, not 1 or "yes"
Millis = Annotated[int, Field(ge=0, le=MAX_CALL_MS), BeforeValidator(_json_number)]
Seq = Annotated[int, Field(ge=0, le=MAX_SEQ), BeforeValidator(_json_number)]
Unit = Annotated[float, Field(ge=0.0, le=1.0), BeforeValidator(_json_number)]  # NaN and infinities fail too
CallId = Annotated[str, Field(min_length=1, max_length=128)]
ShortId = Annotated[str, Field(max_length=64)]  # agent ids, nudge types (String(64) columns)


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(ts: datetime) -> str:
    """Render a timestamp as the contract does: UTC, milliseconds, ``Z``."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def _aware(ts: datetime) -> datetime:
    try:
        return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 has no UTC time: a validation error, not a crash
        raise ValueError("timestamp out of range") from None


Timestamp = Annotated[datetime, BeforeValidator(_json_time), PlainSerializer(iso, return_type=str)]


class Record(BaseModel):
    """Base of every topic record: JSON object, unknown fields ignored."""

    model_config = ConfigDict(extra="ignore", frozen=False)

    v: JsonInt = SCHEMA_VERSION

    def to_json(self) -> bytes:
        return self.model_dump_json(exclude_none=False).encode()


class _EventBase(Record):
    call_id: str = Field(pattern=CALL_ID_PATTERN)
    ts: Timestamp
    # Stamped by ingest when it accepts the event; absent when an outside
    # client produced straight to Kafka (the analyzer then uses the record time).
    ingest_ts: Timestamp | None = None

    @field_validator("ts", "ingest_ts")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else _aware(value)

    @field_validator("ts")
    @classmethod
    def _not_far_future(cls, value: datetime) -> datetime:
        if value - utcnow() > MAX_FUTURE_SKEW:
            raise ValueError("ts is more than 1 day in the future (check the sender's clock)")
        return value


class Customer(BaseModel):
    """Who is calling. On ``call_started`` the CTI sends ``id`` (a stable customer id, often
    a phone number); past the nudger only ``id_hash`` travels (salted SHA-256 of ``id``,
    ``shared.pii.hash_customer``): ``call-state``, desks and walls never carry the id."""

    model_config = ConfigDict(extra="ignore")

    id: str | None = Field(default=None, max_length=128)
    id_hash: str | None = Field(default=None, max_length=64)
    name: str | None = Field(default=None, max_length=64)
    segment: str | None = Field(default=None, max_length=32)


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


class CallStarted(_EventBase):
    model_config = _examples(
        {
            "type": "call_started",
            "call_id": "c-20261123-0001",
            "ts": "2026-11-23T08:00:00.000Z",
            "agent_id": "a-007",
            "customer": {"id": "cust-88412", "name": "王先生", "segment": "senior"},
            "queue": "brokerage",
        }
    )

    type: Literal["call_started"]
    agent_id: str | None = Field(default=None, max_length=64)
    customer: Customer = Field(default_factory=Customer)
    queue: str | None = Field(default=None, max_length=64)


UTTERANCE_EXAMPLE: dict[str, Any] = {
    "type": "utterance",
    "call_id": "c-20261123-0001",
    "seq": 17,
    "speaker": "customer",
    "text": "你们这服务太差了,我都等了半个小时了",
    "is_final": True,
    "start_ms": 12340,
    "end_ms": 14100,
    "confidence": 0.93,
    "ts": "2026-11-23T08:00:14.100Z",
}  # the contract's example utterance (schemas, ingest's OpenAPI, AsyncAPI)


class Utterance(_EventBase):
    model_config = _examples(UTTERANCE_EXAMPLE)

    type: Literal["utterance"]
    seq: Seq
    speaker: Speaker
    text: str = Field(max_length=MAX_TEXT_CHARS)
    is_final: JsonBool = True
    start_ms: Millis = 0
    end_ms: Millis = 0
    confidence: Unit | None = None


class HoldStarted(_EventBase):
    model_config = _examples({"type": "hold_started", "call_id": "c-20261123-0001", "ts": "2026-11-23T08:01:30.000Z"})

    type: Literal["hold_started"]


class HoldEnded(_EventBase):
    model_config = _examples({"type": "hold_ended", "call_id": "c-20261123-0001", "ts": "2026-11-23T08:02:05.000Z"})

    type: Literal["hold_ended"]


class CallEnded(_EventBase):
    model_config = _examples(
        {"type": "call_ended", "call_id": "c-20261123-0001", "ts": "2026-11-23T08:06:40.000Z", "reason": "hangup"}
    )

    type: Literal["call_ended"]
    reason: str | None = Field(default=None, max_length=64)


CallEvent = Annotated[
    CallStarted | Utterance | HoldStarted | HoldEnded | CallEnded,
    Field(discriminator="type"),
]
CallEventAdapter: TypeAdapter[CallEvent] = TypeAdapter(CallEvent)


def parse_event(raw: bytes | str | dict[str, Any]) -> CallEvent:
    """Validate one CallEvent; raises ``pydantic.ValidationError`` with the reason.

    Values must have the JSON types of the schema: ``"seq": "17"``, ``"is_final": 1`` or
    ``"ts": 1700000000`` are refused, not coerced (``"start_ms": 1200.0`` is an integer)."""
    if isinstance(raw, dict):
        return CallEventAdapter.validate_python(raw)
    return CallEventAdapter.validate_json(raw)


class KnowledgeMatch(BaseModel):
    """The knowledge-base answer the analyzer found for a customer's question (docs/knowledge.md)."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(max_length=64)  # entry id in knowledge/*.yaml
    question: str = Field(max_length=200)  # the entry's wording that matched best
    answer: str = Field(max_length=500)  # what the agent can say
    score: float = Field(ge=0.0)  # BM25 score of the match


class UtteranceAnalysis(Record):
    """v2 adds ``knowledge`` (v1 records, without it, read the same)."""

    v: int = 2
    call_id: CallId
    seq: Seq
    speaker: Speaker
    text: str  # PII redacted
    is_final: bool = True
    sentiment: Unit
    emotion: Emotion
    emotion_score: Unit
    cues: list[str] = Field(default_factory=list)
    start_ms: Millis = 0
    end_ms: Millis = 0
    ts: Timestamp  # event time of the utterance
    ingest_ts: Timestamp
    analyzed_ts: Timestamp
    # Customer finals that ask something the knowledge base answers (None otherwise).
    knowledge: KnowledgeMatch | None = None


class Nudge(Record):
    """v2 adds ``source`` (v1 records, without it, read the same)."""

    v: int = 2
    nudge_id: str = Field(min_length=1, max_length=300)
    call_id: CallId
    agent_id: ShortId | None
    type: ShortId
    audience: Audience = "agent"
    priority: Priority = "normal"
    title: str
    suggestion: str
    reason: str
    trigger_seq: Seq | None = None
    ingest_ts: Timestamp | None = None
    created_ts: Timestamp
    # Who wrote it, for a nudge a person sent (supervisor_whisper: the supervisor's id); None = a rule.
    sender: str | None = Field(default=None, max_length=64)
    # Where the suggestion comes from: the knowledge entry id of a knowledge_answer.
    source: str | None = Field(default=None, max_length=64)


def nudge_id(call_id: str, trigger: int | str, nudge_type: str) -> str:
    """Deterministic id: a redelivered trigger yields the same id."""
    return f"{call_id}:{trigger}:{nudge_type}"


class TalkMs(BaseModel):
    agent: Millis = 0
    customer: Millis = 0


class CallState(Record):
    call_id: CallId
    agent_id: ShortId | None = None
    customer: Customer = Field(default_factory=Customer)
    started_ts: Timestamp | None = None
    ended_ts: Timestamp | None = None
    sentiment: Unit = 0.5
    sentiment_trend: list[Unit] = Field(default_factory=list, max_length=1000)
    emotion: Emotion = "neutral"
    risk: float = Field(default=0.0, ge=0.0, le=1.0)
    on_hold: bool = False
    talk_ms: TalkMs = Field(default_factory=TalkMs)
    nudges_sent: int = Field(default=0, ge=0, le=MAX_COUNT)
    escalated: bool = False
    last_update_ts: Timestamp | None = None


class NudgeFeedback(Record):
    nudge_id: str = Field(max_length=300)
    call_id: str = Field(pattern=CALL_ID_PATTERN)
    agent_id: ShortId | None = None
    type: ShortId | None = None
    action: FeedbackAction
    ts: Timestamp = Field(default_factory=utcnow)


class DeadLetter(Record):
    """What a `<topic>.dlq` record holds: the reason and the (redacted) original."""

    topic: str
    partition: int | None = None
    offset: int | None = None
    reason: str
    raw: str  # original value, truncated and PII-redacted
    ts: Timestamp = Field(default_factory=utcnow)
