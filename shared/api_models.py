"""The bodies of Heartline's REST routes (ingest, gateway, ASR bridge), as pydantic models.

The topic records themselves are ``shared.schemas`` (ingest takes CallEvents);
these are what the HTTP routes answer: health, ingest's batch result, the
gateway's token, rules stats, whisper, call history and post-call review.
The routes declare them as their ``response_model``, so the OpenAPI each
service serves is generated from the same code that shapes the answers.
Error answers are ``shared.errors.ErrorBody``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.demo import DEMO_AGENTS, DEMO_SUPERVISORS
from shared.errors import ErrorBody, ErrorItem
from shared.schemas import MAX_COUNT, Emotion, Speaker

TsOut = Annotated[str, Field(json_schema_extra={"format": "date-time"})]  # iso(): 2026-11-23T08:00:14.100Z
DayOut = Annotated[str, Field(json_schema_extra={"format": "date"})]
Count = Annotated[int, Field(ge=0)]
Rate = Annotated[float, Field(ge=0.0, le=1.0)]


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


# ------------------------------------------------------------------ every service


class Health(BaseModel):
    status: Literal["ok"]
    service: str


class Ready(_Out):
    """``ready`` and the service; more fields say what was checked (``broker``, ``caught_up``, …)."""

    ready: bool
    service: str


# ------------------------------------------------------------------ ingest


class IngestResult(BaseModel):
    """202: every event was accepted (the broker acknowledged each)."""

    accepted: Count
    rejected: Count = 0
    errors: list[ErrorItem] = Field(default_factory=list)


class IngestRejected(ErrorBody):
    """422: some events failed validation. The good events of the batch were accepted all the
    same (``accepted``); ``errors`` has one item per bad event, with its ``index`` in the batch."""

    accepted: Count
    rejected: Count


# ------------------------------------------------------------------ gateway: pages' helpers

if TYPE_CHECKING:  # the demo's ids, known only when the module runs
    AgentId = str
    SupervisorId = str
else:
    AgentId = Literal[tuple(p["id"] for p in DEMO_AGENTS)]
    SupervisorId = Literal[tuple(p["id"] for p in DEMO_SUPERVISORS)]


class DemoPerson(BaseModel):
    id: str
    name: str
    role: Literal["agent", "supervisor"]


class AgentTokenRequest(BaseModel):
    role: Literal["agent"]
    sub: AgentId


class SupervisorTokenRequest(BaseModel):
    role: Literal["supervisor"]
    sub: SupervisorId


TokenRequest = Annotated[AgentTokenRequest | SupervisorTokenRequest, Field(discriminator="role")]


class TokenAnswer(BaseModel):
    token: str = Field(description="HS256 JWT: `sub`, `role`, `exp`")
    sub: str
    role: Literal["agent", "supervisor"]


class Rates(BaseModel):
    shown: Count
    accepted: Count
    dismissed: Count
    acceptance_rate: Rate | None = Field(description="accepted / (accepted + dismissed); null before any answer")


class TypeRates(Rates):
    entries: dict[str, Rates] | None = Field(
        default=None, description="knowledge_answer only: the same per knowledge entry id"
    )


class RuleStats(BaseModel):
    types: dict[str, TypeRates] = Field(description="per nudge type")
    live_calls: Count
    at_risk: Count
    nudges_per_min: Count
    acceptance_rate: Rate | None


class WhisperAccepted(BaseModel):
    nudge_id: str
    call_id: str
    agent_id: str | None


# ------------------------------------------------------------------ gateway: history and review


class Line(_Out):
    """A transcript line quoted as evidence (redacted text)."""

    seq: int
    speaker: Speaker
    text: str


class CustomerOut(BaseModel):
    name: str | None = None
    segment: str | None = None
    known: bool = Field(description="the call came with a customer id (so it has a history)")


class CallSummary(_Out):
    call_id: str
    agent_id: str | None
    customer: CustomerOut
    started_ts: TsOut | None
    ended_ts: TsOut | None
    duration_s: int | None
    topic: str | None
    topic_label: str
    outcome: str | None = Field(description="resolved | unresolved | escalated; null while live")
    worst_emotion: str | None
    worst_emotion_score: float | None
    sentiment: float | None
    max_risk: float
    escalated: bool
    nudges_sent: int | None
    score: int | None = Field(description="the scorecard's total, 0–100")


class Recap(_Out):
    """The post-call summary (通话小结): every line quoted from the redacted transcript."""

    topic: str
    topic_label: str
    wanted: Line | None = None
    done: list[Line] = Field(default_factory=list)
    outcome: str | None = None
    outcome_label: str
    outcome_line: Line | None = None
    follow_ups: list[Line] = Field(default_factory=list)
    emotion: str | None = None
    text: str


class LastRecap(Recap):
    call_id: str
    started_ts: TsOut | None


class OpenIssue(BaseModel):
    call_id: str
    topic: str | None
    topic_label: str
    outcome: str | None
    since: TsOut | None


class HistoryAnswer(_Out):
    call_id: str
    agent_id: str | None
    customer: CustomerOut
    summary: str = Field(description="one line for the desktop")
    calls_this_week: int | None
    open_issue: OpenIssue | None
    last_recap: LastRecap | None
    calls: list[CallSummary]


class ReviewRow(CallSummary):
    nudges: Count
    accepted: Count


class ReviewCalls(BaseModel):
    total: Count
    calls: list[ReviewRow]


class TranscriptLine(_Out):
    seq: int
    speaker: Speaker
    text: str
    sentiment: float
    emotion: Emotion | str
    emotion_score: float
    cues: list[str] | None
    start_ms: int
    end_ms: int
    ts: TsOut | None


class CurvePoint(BaseModel):
    t_ms: int
    sentiment: float


class ReviewNudge(_Out):
    nudge_id: str
    type: str
    audience: str
    priority: str
    title: str
    suggestion: str
    reason: str
    trigger_seq: int | None
    created_ts: TsOut | None
    sender: str | None
    action: Literal["accepted", "dismissed"] | None = Field(description="null: the agent left it alone")
    action_ts: TsOut | None


class ScoreItem(_Out):
    key: str
    label: str
    principle: str | None = None
    weight: float
    status: Literal["pass", "partial", "fail", "na"]
    score: float | None = Field(description="0..1; null when the item does not apply to the call")
    points: float | None
    note: str
    evidence: list[Line] = Field(default_factory=list)


class Scorecard(_Out):
    version: int
    total: int | None = Field(description="weighted mean of the items that apply, 0–100")
    items: list[ScoreItem]


class ReviewCall(CallSummary):
    sentiment_trend: list[float]
    transcript: list[TranscriptLine]
    curve: list[CurvePoint]
    nudges: list[ReviewNudge]
    scorecard: Scorecard | None
    recap: Recap | None


class AcceptanceRow(BaseModel):
    shown: Count
    accepted: Count
    dismissed: Count
    ignored: Count
    acceptance_rate: Rate | None = Field(description="accepted / shown")
    answered_rate: Rate | None = Field(description="accepted / (accepted + dismissed)")


class Acceptance(BaseModel):
    since: TsOut | None
    until: TsOut | None
    by_agent: dict[str, AcceptanceRow]
    by_type: dict[str, AcceptanceRow]
    by_entry: dict[str, AcceptanceRow] = Field(description="knowledge answers per knowledge entry id")


class Weakest(BaseModel):
    key: str
    label: str
    avg: float


class AgentScores(BaseModel):
    calls: Count
    avg: float | None
    by_day: list[float | None] = Field(description="mean total per day of `days`; null: no scored call")
    calls_by_day: list[Count]
    weakest: Weakest | None


class ScoreTrend(BaseModel):
    since: TsOut
    until: TsOut
    days: list[DayOut] = Field(description="China-time days of the window")
    agents: dict[str, AgentScores]


# Bounds of the query parameters (what the routes declare).
MAX_OFFSET = MAX_COUNT
