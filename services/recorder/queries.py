"""Call history, read: what the gateway, the CLI and the recorder's own rules ask of the database.

Read-only and light: SQLAlchemy and the judge's pure functions, nothing of the recorder's worker
(no Kafka client, no analyzer models), so the gateway's first history request opens one engine
(``Reader``, ``db.make_engine``) and runs a query. ``Store`` (``services.recorder.store``) is a
``Reader`` that also writes. Times come back as ISO 8601 strings; days are China days
(``shared.tz``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from services.recorder import judge
from services.recorder.models import Call, FeedbackRow, NudgeRow, UtteranceRow
from shared.schemas import iso, utcnow
from shared.tz import CN


class Reader:
    """The history database for reading: one engine, a session per query."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)


def _ts(value: datetime | None) -> str | None:
    return iso(value) if value else None


def turns_of(s: Session, call_id: str) -> list[judge.Turn]:
    rows = s.scalars(
        select(UtteranceRow).where(UtteranceRow.call_id == call_id).order_by(UtteranceRow.start_ms, UtteranceRow.seq)
    ).all()
    return [
        judge.Turn(r.seq, r.speaker, r.text, r.emotion, r.emotion_score, tuple(r.cues or ()), r.start_ms, r.end_ms)
        for r in rows
    ]


def summary(c: Call) -> dict:
    return {
        "call_id": c.call_id,
        "agent_id": c.agent_id,
        "customer": {"name": c.customer_name, "segment": c.customer_segment, "known": bool(c.customer_hash)},
        "started_ts": _ts(c.started_ts),
        "ended_ts": _ts(c.ended_ts),
        "duration_s": round((c.ended_ts - c.started_ts).total_seconds()) if c.ended_ts and c.started_ts else None,
        "topic": c.topic,
        "topic_label": judge.LABELS.get(c.topic or judge.OTHER, "其他"),
        "outcome": c.outcome,
        "worst_emotion": c.worst_emotion,
        "worst_emotion_score": c.worst_emotion_score,
        "sentiment": c.sentiment,
        "max_risk": round(c.max_risk or 0.0, 3),
        "escalated": bool(c.escalated),
        "nudges_sent": c.nudges_sent,
        "score": c.score,
    }


def detail(s: Session, c: Call) -> dict:
    """One call with its transcript, sentiment curve, nudges and what the agent did."""
    utts = s.scalars(
        select(UtteranceRow).where(UtteranceRow.call_id == c.call_id).order_by(UtteranceRow.start_ms, UtteranceRow.seq)
    ).all()
    rows = s.execute(
        select(NudgeRow, FeedbackRow)
        .outerjoin(FeedbackRow, FeedbackRow.nudge_id == NudgeRow.nudge_id)
        .where(NudgeRow.call_id == c.call_id)
        .order_by(NudgeRow.created_ts)
    ).all()
    return {
        **summary(c),
        "sentiment_trend": c.sentiment_trend or [],
        "transcript": [
            {
                "seq": u.seq,
                "speaker": u.speaker,
                "text": u.text,
                "sentiment": u.sentiment,
                "emotion": u.emotion,
                "emotion_score": u.emotion_score,
                "cues": u.cues,
                "start_ms": u.start_ms,
                "end_ms": u.end_ms,
                "ts": _ts(u.ts),
            }
            for u in utts
        ],
        "curve": [{"t_ms": u.end_ms, "sentiment": u.sentiment} for u in utts if u.speaker == "customer"],
        "nudges": [
            {
                "nudge_id": n.nudge_id,
                "type": n.type,
                "audience": n.audience,
                "priority": n.priority,
                "title": n.title,
                "suggestion": n.suggestion,
                "reason": n.reason,
                "trigger_seq": n.trigger_seq,
                "created_ts": _ts(n.created_ts),
                "sender": n.sender,
                "source": n.source,
                "action": fb.action if fb else None,
                "action_ts": _ts(fb.ts) if fb else None,
            }
            for n, fb in rows
        ],
        "scorecard": c.scorecard,
        "recap": c.recap,
    }


def history(reader: Reader, call_id: str, limit: int = 5) -> dict | None:
    """What the agent sees when a call starts: a summary line and the last calls.

    None when the call is not (yet) recorded. Calls count from the customer's
    hashed id; a call without a customer id has no history.
    """
    with reader.session() as s:
        call = s.get(Call, call_id)
        if call is None:
            return None
        out = {
            "call_id": call_id,
            "agent_id": call.agent_id,
            "customer": {
                "name": call.customer_name,
                "segment": call.customer_segment,
                "known": bool(call.customer_hash),
            },
            "summary": "未提供客户编号,无法关联历史来电",
            "calls_this_week": None,
            "open_issue": None,
            "last_recap": None,
            "calls": [],
        }
        if not call.customer_hash:
            return out
        at = call.started_ts or utcnow()
        prior = s.scalars(
            select(Call)
            .where(
                Call.customer_hash == call.customer_hash,
                Call.call_id != call_id,
                func.coalesce(Call.started_ts, Call.last_update_ts) <= at,
            )
            .order_by(Call.started_ts.desc())
            .limit(max(limit, 1) * 4)
        ).all()
        week = judge.week_start(at)
        this_week = 1 + sum(1 for c in prior if c.started_ts and c.started_ts >= week)
        finished = [c for c in prior if c.ended_ts]
        previous = summary(finished[0]) if finished else None
        resolved_later: set[str | None] = set()
        for c in finished:  # newest first: an issue solved by a later call is not open
            if c.outcome == "resolved":
                resolved_later.add(c.topic)
            elif judge.is_open(c.outcome) and c.topic not in resolved_later and out["open_issue"] is None:
                out["open_issue"] = {
                    "call_id": c.call_id,
                    "topic": c.topic,
                    "topic_label": judge.LABELS.get(c.topic or judge.OTHER, "其他"),
                    "outcome": c.outcome,
                    "since": _ts(c.started_ts),
                }
        out.update(
            summary=judge.summary_line(this_week, previous),
            calls_this_week=this_week,
            calls=[summary(c) for c in finished[:limit]],
            last_recap={"call_id": finished[0].call_id, "started_ts": _ts(finished[0].started_ts), **finished[0].recap}
            if finished and finished[0].recap
            else None,
        )
        return out


def unresolved_before(reader: Reader, customer_hash: str, call_id: str, since: datetime, until: datetime) -> list[Call]:
    """The customer's open (unresolved/escalated) calls that started in [since, until]."""
    with reader.session() as s:
        return list(
            s.scalars(
                select(Call)
                .where(
                    Call.customer_hash == customer_hash,
                    Call.call_id != call_id,
                    Call.ended_ts.is_not(None),
                    Call.outcome.in_(("unresolved", "escalated")),
                    Call.started_ts >= since,
                    Call.started_ts <= until,
                )
                .order_by(Call.started_ts.desc())
            )
        )


def review_calls(
    reader: Reader,
    agent: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    min_risk: float | None = None,
    escalated: bool | None = None,
    nudge_type: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict:
    """Finished calls for the supervisors' review, newest first, with filters."""
    q = select(Call).where(Call.ended_ts.is_not(None))
    if agent:
        q = q.where(Call.agent_id == agent)
    if since:
        q = q.where(Call.started_ts >= since)
    if until:
        q = q.where(Call.started_ts < until)
    if min_risk is not None:
        q = q.where(Call.max_risk >= min_risk)
    if escalated is not None:
        cond = (Call.escalated.is_(True)) | (Call.outcome == "escalated")
        q = q.where(cond if escalated else ~cond)
    if nudge_type:
        q = q.where(Call.call_id.in_(select(NudgeRow.call_id).where(NudgeRow.type == nudge_type)))
    with reader.session() as s:
        total = s.scalar(select(func.count()).select_from(q.subquery()))
        calls = s.scalars(q.order_by(Call.started_ts.desc()).limit(limit).offset(offset)).all()
        ids = [c.call_id for c in calls]
        counts: dict[str, dict] = {i: {"nudges": 0, "accepted": 0} for i in ids}
        if ids:
            for cid, action, n in s.execute(
                select(NudgeRow.call_id, FeedbackRow.action, func.count())
                .outerjoin(FeedbackRow, FeedbackRow.nudge_id == NudgeRow.nudge_id)
                .where(NudgeRow.call_id.in_(ids))
                .group_by(NudgeRow.call_id, FeedbackRow.action)
            ):
                counts[cid]["nudges"] += n
                if action == "accepted":
                    counts[cid]["accepted"] += n
        return {"total": total, "calls": [{**summary(c), **counts[c.call_id]} for c in calls]}


def review_call(reader: Reader, call_id: str) -> dict | None:
    with reader.session() as s:
        call = s.get(Call, call_id)
        return detail(s, call) if call else None


def acceptance(reader: Reader, since: datetime | None = None, until: datetime | None = None) -> dict:
    """Agent nudges over a period, per agent and per type: shown / accepted / dismissed / ignored;
    knowledge answers also per knowledge entry (``by_entry``, keyed by the nudge's ``source``).

    ``acceptance_rate`` is accepted / shown (a nudge left alone counts against
    it); ``answered_rate`` is accepted / (accepted + dismissed), as on the wall.
    """
    q = (
        select(NudgeRow.agent_id, NudgeRow.type, FeedbackRow.action, func.count())
        .outerjoin(FeedbackRow, FeedbackRow.nudge_id == NudgeRow.nudge_id)
        .where(NudgeRow.audience == "agent")
    )
    if since:
        q = q.where(NudgeRow.created_ts >= since)
    if until:
        q = q.where(NudgeRow.created_ts < until)
    q = q.group_by(NudgeRow.agent_id, NudgeRow.type, FeedbackRow.action)
    by_agent: dict[str, dict] = {}
    by_type: dict[str, dict] = {}
    by_entry: dict[str, dict] = {}
    qe = (
        select(NudgeRow.source, FeedbackRow.action, func.count())
        .outerjoin(FeedbackRow, FeedbackRow.nudge_id == NudgeRow.nudge_id)
        .where(NudgeRow.audience == "agent", NudgeRow.source.is_not(None))
    )
    if since:
        qe = qe.where(NudgeRow.created_ts >= since)
    if until:
        qe = qe.where(NudgeRow.created_ts < until)
    qe = qe.group_by(NudgeRow.source, FeedbackRow.action)

    def count(table: dict, key: str, action: str | None, n: int) -> None:
        row = table.setdefault(key, {"shown": 0, "accepted": 0, "dismissed": 0, "ignored": 0})
        row["shown"] += n
        row[action if action in ("accepted", "dismissed") else "ignored"] += n

    with reader.session() as s:
        for agent_id, nudge_type, action, n in s.execute(q):
            count(by_agent, agent_id or "unknown", action, n)
            count(by_type, nudge_type, action, n)
        for source, action, n in s.execute(qe):
            count(by_entry, source, action, n)

    def rates(table: dict) -> dict:
        for row in table.values():
            answered = row["accepted"] + row["dismissed"]
            row["acceptance_rate"] = round(row["accepted"] / row["shown"], 3) if row["shown"] else None
            row["answered_rate"] = round(row["accepted"] / answered, 3) if answered else None
        return dict(sorted(table.items()))

    return {
        "since": _ts(since),
        "until": _ts(until),
        "by_agent": rates(by_agent),
        "by_type": rates(by_type),
        "by_entry": rates(by_entry),
    }


def score_trend(reader: Reader, since: datetime, until: datetime, agent: str | None = None) -> dict:
    """Scorecard totals per agent and per day (China time) over [since, until), and each
    agent's weakest item (the lowest mean score among the items that applied)."""
    days: list[str] = []
    day = since.astimezone(CN).date()
    while datetime.combine(day, datetime.min.time(), CN) < until and len(days) < 93:
        days.append(day.isoformat())
        day += timedelta(days=1)
    q = select(Call.agent_id, Call.started_ts, Call.score, Call.scorecard).where(
        Call.ended_ts.is_not(None), Call.score.is_not(None), Call.started_ts >= since, Call.started_ts < until
    )
    if agent:
        q = q.where(Call.agent_id == agent)
    per: dict[str, dict] = {}
    with reader.session() as s:
        for agent_id, started, total, card in s.execute(q):
            row = per.setdefault(agent_id or "unknown", {"scores": [], "days": {}, "items": {}})
            row["scores"].append(total)
            row["days"].setdefault(started.astimezone(CN).date().isoformat(), []).append(total)
            for item in (card or {}).get("items", []):
                if item.get("score") is not None:
                    row["items"].setdefault((item["key"], item["label"]), []).append(item["score"])

    def mean(xs: list) -> float | None:
        return round(sum(xs) / len(xs), 1) if xs else None

    agents = {}
    for agent_id, row in sorted(per.items()):
        item_avg = {k: round(sum(v) / len(v), 2) for k, v in row["items"].items()}
        weakest = min(item_avg.items(), key=lambda kv: (kv[1], kv[0][0]), default=None)
        agents[agent_id] = {
            "calls": len(row["scores"]),
            "avg": mean(row["scores"]),
            "by_day": [mean(row["days"].get(d, [])) for d in days],
            "calls_by_day": [len(row["days"].get(d, [])) for d in days],
            "weakest": {"key": weakest[0][0], "label": weakest[0][1], "avg": weakest[1]} if weakest else None,
        }
    return {"since": _ts(since), "until": _ts(until), "days": days, "agents": agents}
