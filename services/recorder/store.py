"""Call history: idempotent upserts (the recorder) and reads (gateway, CLI).

Writes are safe to repeat in any order: rows are keyed by their natural keys
and inserted with ``ON CONFLICT DO NOTHING``; a call row is merged field by
field with rules that do not depend on the order records arrive in (the
earliest start, the first end, the highest risk, the newest live figures by
``last_update_ts``). Re-consuming a topic from the start changes nothing.
Derived fields (topic, outcome, worst emotion and, once the call has
ended, the scorecard and the post-call summary) are recomputed from the
stored rows whenever a call changes. Customer ids arrive hashed on
call-state (``customer.id_hash``, salted SHA-256 by the nudger with
``shared.pii.hash_customer``, the same salt); a record from before that
carries the clear id, which is hashed here before it touches the database.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from services.recorder import judge, recap, scorecard
from services.recorder.models import Call, ErasedCall, Erasure, FeedbackRow, NudgeRow, UtteranceRow
from services.recorder.scorecard_spec import DEFAULT_PATH as SCORECARD_PATH
from services.recorder.scorecard_spec import SpecWatcher
from shared.pii import hash_customer
from shared.schemas import CallState, Nudge, NudgeFeedback, UtteranceAnalysis, iso, utcnow

Record = CallState | UtteranceAnalysis | Nudge | NudgeFeedback


def _ts(value: datetime | None) -> str | None:
    return iso(value) if value else None


class Store:
    def __init__(self, engine: Engine, salt: str, retention_days: int = 90, scorecard_rules=SCORECARD_PATH):
        self.engine = engine
        self.salt = salt
        self.retention_days = retention_days
        self.standard = SpecWatcher(scorecard_rules)  # rules/scorecard.yaml, read on first use

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def cutoff(self, now: datetime) -> datetime:
        return now - timedelta(days=self.retention_days)

    # ------------------------------------------------------------ writes

    def _insert_ignore(self, s: Session, model, values: dict, keys: list[str]) -> None:
        insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
        s.execute(insert(model).values(**values).on_conflict_do_nothing(index_elements=keys))

    def apply(self, records: list[Record], now: datetime | None = None) -> set[str]:
        """Write a batch in one transaction; returns the call ids it touched."""
        now = now or utcnow()
        touched: set[str] = set()
        with self.session() as s, s.begin():
            erased = set(s.scalars(select(ErasedCall.call_id).where(
                ErasedCall.call_id.in_({r.call_id for r in records}))))
            # states first: an erased customer's call is known before its other records
            for rec in sorted(records, key=lambda r: not isinstance(r, CallState)):
                if rec.call_id in erased:
                    continue
                if isinstance(rec, CallState):
                    if self._state(s, rec, now):
                        touched.add(rec.call_id)
                    else:
                        erased.add(rec.call_id)
                elif isinstance(rec, UtteranceAnalysis):
                    if rec.is_final and rec.ts >= self.cutoff(now):
                        self._insert_ignore(s, UtteranceRow, dict(
                            call_id=rec.call_id, seq=rec.seq, speaker=rec.speaker, text=rec.text,
                            sentiment=rec.sentiment, emotion=rec.emotion, emotion_score=rec.emotion_score,
                            cues=list(rec.cues), start_ms=rec.start_ms, end_ms=rec.end_ms, ts=rec.ts),
                            ["call_id", "seq", "speaker"])
                        touched.add(rec.call_id)
                elif isinstance(rec, Nudge):
                    if rec.created_ts >= self.cutoff(now):
                        self._insert_ignore(s, NudgeRow, dict(
                            nudge_id=rec.nudge_id, call_id=rec.call_id, agent_id=rec.agent_id, type=rec.type,
                            audience=rec.audience, priority=rec.priority, title=rec.title,
                            suggestion=rec.suggestion, reason=rec.reason, trigger_seq=rec.trigger_seq,
                            created_ts=rec.created_ts, sender=rec.sender, source=rec.source), ["nudge_id"])
                        touched.add(rec.call_id)
                elif isinstance(rec, NudgeFeedback):
                    if rec.ts >= self.cutoff(now):
                        self._insert_ignore(s, FeedbackRow, dict(
                            nudge_id=rec.nudge_id, call_id=rec.call_id, agent_id=rec.agent_id, type=rec.type,
                            action=rec.action, ts=rec.ts), ["nudge_id"])
                        touched.add(rec.call_id)
            for call_id in sorted(touched - erased):
                self._derive(s, call_id)
        return touched - erased

    def _state(self, s: Session, st: CallState, now: datetime) -> bool:
        """Merge one CallState into its row; False when the call must not be kept."""
        if st.started_ts and st.started_ts < self.cutoff(now):
            return False  # past retention (call-state is compacted: old calls come back on re-read)
        cust_hash = st.customer.id_hash or (hash_customer(self.salt, st.customer.id) if st.customer.id else None)
        if cust_hash:
            erasure = s.get(Erasure, cust_hash)
            if erasure and (st.started_ts is None or st.started_ts <= erasure.erased_ts):
                self._insert_ignore(s, ErasedCall, dict(call_id=st.call_id, erased_ts=erasure.erased_ts), ["call_id"])
                return False
        self._insert_ignore(s, Call, dict(call_id=st.call_id), ["call_id"])
        row = s.execute(select(Call).where(Call.call_id == st.call_id).with_for_update()).scalar_one()
        newer = row.last_update_ts is None or st.last_update_ts is None or st.last_update_ts >= row.last_update_ts
        if st.agent_id and (newer or not row.agent_id):
            row.agent_id = st.agent_id
        if cust_hash and not row.customer_hash:
            row.customer_hash = cust_hash
        if st.customer.name and (newer or not row.customer_name):
            row.customer_name = st.customer.name
        if st.customer.segment and (newer or not row.customer_segment):
            row.customer_segment = st.customer.segment
        if st.started_ts and (row.started_ts is None or st.started_ts < row.started_ts):
            row.started_ts = st.started_ts
        if st.ended_ts and (row.ended_ts is None or st.ended_ts < row.ended_ts):
            row.ended_ts = st.ended_ts
        row.escalated = bool(row.escalated) or st.escalated
        row.max_risk = max(row.max_risk or 0.0, st.risk)
        row.nudges_sent = max(row.nudges_sent or 0, st.nudges_sent)
        row.talk_ms_agent = max(row.talk_ms_agent or 0, st.talk_ms.agent)
        row.talk_ms_customer = max(row.talk_ms_customer or 0, st.talk_ms.customer)
        if newer:
            row.sentiment = st.sentiment
            row.sentiment_trend = list(st.sentiment_trend)
            row.last_update_ts = st.last_update_ts or row.last_update_ts
        return True

    def _derive(self, s: Session, call_id: str) -> None:
        row = s.get(Call, call_id)
        if row is None:
            return
        turns = turns_of(s, call_id)
        supervisor = s.scalar(select(func.count()).select_from(NudgeRow).where(
            NudgeRow.call_id == call_id, NudgeRow.audience == "supervisor")) or 0
        row.topic = judge.topic(turns)
        row.worst_emotion, row.worst_emotion_score = judge.worst_emotion(turns)
        row.outcome = judge.outcome(turns, bool(row.escalated), supervisor > 0) if row.ended_ts else None
        if row.ended_ts:
            card = scorecard.score(turns, self.standard.current())
            row.score, row.scorecard = card["total"], card
            row.recap = recap.recap(turns, row.topic, row.outcome)
        else:
            row.score = row.scorecard = row.recap = None

    def has_nudge(self, nudge_id: str) -> bool:
        with self.session() as s:
            return s.get(NudgeRow, nudge_id) is not None

    # ------------------------------------------------------------ customers, retention

    def export_customer(self, customer_id: str) -> dict:
        cust_hash = hash_customer(self.salt, customer_id)
        with self.session() as s:
            calls = s.scalars(select(Call).where(Call.customer_hash == cust_hash).order_by(Call.started_ts)).all()
            return {"customer_hash": cust_hash, "exported_ts": iso(utcnow()),
                    "calls": [detail(s, c) for c in calls]}

    def delete_customer(self, customer_id: str, now: datetime | None = None) -> dict:
        """Erase a customer on request; their past calls are never recorded again.
        ``call_ids``: the calls erased (``heartline customer delete`` tombstones them on the topics)."""
        now = now or utcnow()
        cust_hash = hash_customer(self.salt, customer_id)
        with self.session() as s, s.begin():
            ids = list(s.scalars(select(Call.call_id).where(Call.customer_hash == cust_hash)))
            counts = _delete_calls(s, ids)
            self._insert_ignore(s, Erasure, dict(customer_hash=cust_hash, erased_ts=now), ["customer_hash"])
            s.get(Erasure, cust_hash).erased_ts = now
            for call_id in ids:
                self._insert_ignore(s, ErasedCall, dict(call_id=call_id, erased_ts=now), ["call_id"])
        return {"customer_hash": cust_hash, **counts, "call_ids": ids}

    def purge(self, now: datetime | None = None) -> dict:
        """Delete everything older than the retention period."""
        cutoff = self.cutoff(now or utcnow())
        with self.session() as s, s.begin():
            old = list(s.scalars(select(Call.call_id).where(
                func.coalesce(Call.started_ts, Call.last_update_ts) < cutoff)))
            counts = _delete_calls(s, old)
            counts["utterances"] += s.execute(delete(UtteranceRow).where(UtteranceRow.ts < cutoff)).rowcount
            counts["nudges"] += s.execute(delete(NudgeRow).where(NudgeRow.created_ts < cutoff)).rowcount
            counts["feedback"] += s.execute(delete(FeedbackRow).where(FeedbackRow.ts < cutoff)).rowcount
            s.execute(delete(ErasedCall).where(ErasedCall.erased_ts < cutoff))
            s.execute(delete(Erasure).where(Erasure.erased_ts < cutoff))
        return {"cutoff": iso(cutoff), **counts}


def _delete_calls(s: Session, ids: list[str]) -> dict:
    counts = {"calls": 0, "utterances": 0, "nudges": 0, "feedback": 0}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        counts["utterances"] += s.execute(delete(UtteranceRow).where(UtteranceRow.call_id.in_(chunk))).rowcount
        counts["nudges"] += s.execute(delete(NudgeRow).where(NudgeRow.call_id.in_(chunk))).rowcount
        counts["feedback"] += s.execute(delete(FeedbackRow).where(FeedbackRow.call_id.in_(chunk))).rowcount
        counts["calls"] += s.execute(delete(Call).where(Call.call_id.in_(chunk))).rowcount
    return counts


# ---------------------------------------------------------------- reads


def turns_of(s: Session, call_id: str) -> list[judge.Turn]:
    rows = s.scalars(select(UtteranceRow).where(UtteranceRow.call_id == call_id)
                     .order_by(UtteranceRow.start_ms, UtteranceRow.seq)).all()
    return [judge.Turn(r.seq, r.speaker, r.text, r.emotion, r.emotion_score, tuple(r.cues or ()), r.start_ms, r.end_ms)
            for r in rows]


def summary(c: Call) -> dict:
    return {
        "call_id": c.call_id, "agent_id": c.agent_id,
        "customer": {"name": c.customer_name, "segment": c.customer_segment, "known": bool(c.customer_hash)},
        "started_ts": _ts(c.started_ts), "ended_ts": _ts(c.ended_ts),
        "duration_s": round((c.ended_ts - c.started_ts).total_seconds()) if c.ended_ts and c.started_ts else None,
        "topic": c.topic, "topic_label": judge.LABELS.get(c.topic or judge.OTHER, "其他"),
        "outcome": c.outcome, "worst_emotion": c.worst_emotion, "worst_emotion_score": c.worst_emotion_score,
        "sentiment": c.sentiment, "max_risk": round(c.max_risk or 0.0, 3), "escalated": bool(c.escalated),
        "nudges_sent": c.nudges_sent, "score": c.score,
    }


def detail(s: Session, c: Call) -> dict:
    """One call with its transcript, sentiment curve, nudges and what the agent did."""
    utts = s.scalars(select(UtteranceRow).where(UtteranceRow.call_id == c.call_id)
                     .order_by(UtteranceRow.start_ms, UtteranceRow.seq)).all()
    rows = s.execute(select(NudgeRow, FeedbackRow).outerjoin(FeedbackRow, FeedbackRow.nudge_id == NudgeRow.nudge_id)
                     .where(NudgeRow.call_id == c.call_id).order_by(NudgeRow.created_ts)).all()
    return {
        **summary(c),
        "sentiment_trend": c.sentiment_trend or [],
        "transcript": [{"seq": u.seq, "speaker": u.speaker, "text": u.text, "sentiment": u.sentiment,
                        "emotion": u.emotion, "emotion_score": u.emotion_score, "cues": u.cues,
                        "start_ms": u.start_ms, "end_ms": u.end_ms, "ts": _ts(u.ts)} for u in utts],
        "curve": [{"t_ms": u.end_ms, "sentiment": u.sentiment} for u in utts if u.speaker == "customer"],
        "nudges": [{"nudge_id": n.nudge_id, "type": n.type, "audience": n.audience, "priority": n.priority,
                    "title": n.title, "suggestion": n.suggestion, "reason": n.reason, "trigger_seq": n.trigger_seq,
                    "created_ts": _ts(n.created_ts), "sender": n.sender, "action": fb.action if fb else None,
                    "action_ts": _ts(fb.ts) if fb else None} for n, fb in rows],
        "scorecard": c.scorecard,
        "recap": c.recap,
    }


def history(store: Store, call_id: str, limit: int = 5) -> dict | None:
    """What the agent sees when a call starts: a summary line and the last calls.

    None when the call is not (yet) recorded. Calls count from the customer's
    hashed id; a call without a customer id has no history.
    """
    with store.session() as s:
        call = s.get(Call, call_id)
        if call is None:
            return None
        out = {"call_id": call_id, "agent_id": call.agent_id,
               "customer": {"name": call.customer_name, "segment": call.customer_segment,
                            "known": bool(call.customer_hash)},
               "summary": "未提供客户编号,无法关联历史来电", "calls_this_week": None,
               "open_issue": None, "last_recap": None, "calls": []}
        if not call.customer_hash:
            return out
        at = call.started_ts or utcnow()
        prior = s.scalars(select(Call).where(
            Call.customer_hash == call.customer_hash, Call.call_id != call_id,
            func.coalesce(Call.started_ts, Call.last_update_ts) <= at,
        ).order_by(Call.started_ts.desc()).limit(max(limit, 1) * 4)).all()
        week = judge.week_start(at)
        this_week = 1 + sum(1 for c in prior if c.started_ts and c.started_ts >= week)
        finished = [c for c in prior if c.ended_ts]
        previous = summary(finished[0]) if finished else None
        resolved_later: set[str | None] = set()
        for c in finished:  # newest first: an issue solved by a later call is not open
            if c.outcome == "resolved":
                resolved_later.add(c.topic)
            elif judge.is_open(c.outcome) and c.topic not in resolved_later and out["open_issue"] is None:
                out["open_issue"] = {"call_id": c.call_id, "topic": c.topic,
                                     "topic_label": judge.LABELS.get(c.topic or judge.OTHER, "其他"),
                                     "outcome": c.outcome, "since": _ts(c.started_ts)}
        out.update(summary=judge.summary_line(this_week, previous), calls_this_week=this_week,
                   calls=[summary(c) for c in finished[:limit]],
                   last_recap={"call_id": finished[0].call_id, "started_ts": _ts(finished[0].started_ts),
                               **finished[0].recap} if finished and finished[0].recap else None)
        return out


def unresolved_before(store: Store, customer_hash: str, call_id: str, since: datetime,
                      until: datetime) -> list[Call]:
    """The customer's open (unresolved/escalated) calls that started in [since, until]."""
    with store.session() as s:
        return list(s.scalars(select(Call).where(
            Call.customer_hash == customer_hash, Call.call_id != call_id, Call.ended_ts.is_not(None),
            Call.outcome.in_(("unresolved", "escalated")), Call.started_ts >= since, Call.started_ts <= until,
        ).order_by(Call.started_ts.desc())))


def review_calls(store: Store, agent: str | None = None, since: datetime | None = None,
                 until: datetime | None = None, min_risk: float | None = None, escalated: bool | None = None,
                 nudge_type: str | None = None, limit: int = 100, offset: int = 0) -> dict:
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
    with store.session() as s:
        total = s.scalar(select(func.count()).select_from(q.subquery()))
        calls = s.scalars(q.order_by(Call.started_ts.desc()).limit(limit).offset(offset)).all()
        ids = [c.call_id for c in calls]
        counts: dict[str, dict] = {i: {"nudges": 0, "accepted": 0} for i in ids}
        if ids:
            for cid, action, n in s.execute(
                    select(NudgeRow.call_id, FeedbackRow.action, func.count())
                    .outerjoin(FeedbackRow, FeedbackRow.nudge_id == NudgeRow.nudge_id)
                    .where(NudgeRow.call_id.in_(ids)).group_by(NudgeRow.call_id, FeedbackRow.action)):
                counts[cid]["nudges"] += n
                if action == "accepted":
                    counts[cid]["accepted"] += n
        return {"total": total, "calls": [{**summary(c), **counts[c.call_id]} for c in calls]}


def review_call(store: Store, call_id: str) -> dict | None:
    with store.session() as s:
        call = s.get(Call, call_id)
        return detail(s, call) if call else None


def acceptance(store: Store, since: datetime | None = None, until: datetime | None = None) -> dict:
    """Agent nudges over a period, per agent and per type: shown / accepted / dismissed / ignored;
    knowledge answers also per knowledge entry (``by_entry``, keyed by the nudge's ``source``).

    ``acceptance_rate`` is accepted / shown (a nudge left alone counts against
    it); ``answered_rate`` is accepted / (accepted + dismissed), as on the wall.
    """
    q = (select(NudgeRow.agent_id, NudgeRow.type, FeedbackRow.action, func.count())
         .outerjoin(FeedbackRow, FeedbackRow.nudge_id == NudgeRow.nudge_id)
         .where(NudgeRow.audience == "agent"))
    if since:
        q = q.where(NudgeRow.created_ts >= since)
    if until:
        q = q.where(NudgeRow.created_ts < until)
    q = q.group_by(NudgeRow.agent_id, NudgeRow.type, FeedbackRow.action)
    by_agent: dict[str, dict] = {}
    by_type: dict[str, dict] = {}
    by_entry: dict[str, dict] = {}
    qe = (select(NudgeRow.source, FeedbackRow.action, func.count())
          .outerjoin(FeedbackRow, FeedbackRow.nudge_id == NudgeRow.nudge_id)
          .where(NudgeRow.audience == "agent", NudgeRow.source.is_not(None)))
    if since:
        qe = qe.where(NudgeRow.created_ts >= since)
    if until:
        qe = qe.where(NudgeRow.created_ts < until)
    qe = qe.group_by(NudgeRow.source, FeedbackRow.action)

    def count(table: dict, key: str, action: str | None, n: int) -> None:
        row = table.setdefault(key, {"shown": 0, "accepted": 0, "dismissed": 0, "ignored": 0})
        row["shown"] += n
        row[action if action in ("accepted", "dismissed") else "ignored"] += n

    with store.session() as s:
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

    return {"since": _ts(since), "until": _ts(until), "by_agent": rates(by_agent), "by_type": rates(by_type),
            "by_entry": rates(by_entry)}


def score_trend(store: Store, since: datetime, until: datetime, agent: str | None = None) -> dict:
    """Scorecard totals per agent and per day (China time) over [since, until), and each
    agent's weakest item (the lowest mean score among the items that applied)."""
    days: list[str] = []
    day = since.astimezone(judge.CN).date()
    while datetime.combine(day, datetime.min.time(), judge.CN) < until and len(days) < 93:
        days.append(day.isoformat())
        day += timedelta(days=1)
    q = (select(Call.agent_id, Call.started_ts, Call.score, Call.scorecard)
         .where(Call.ended_ts.is_not(None), Call.score.is_not(None), Call.started_ts >= since, Call.started_ts < until))
    if agent:
        q = q.where(Call.agent_id == agent)
    per: dict[str, dict] = {}
    with store.session() as s:
        for agent_id, started, total, card in s.execute(q):
            row = per.setdefault(agent_id or "unknown", {"scores": [], "days": {}, "items": {}})
            row["scores"].append(total)
            row["days"].setdefault(started.astimezone(judge.CN).date().isoformat(), []).append(total)
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
            "calls": len(row["scores"]), "avg": mean(row["scores"]),
            "by_day": [mean(row["days"].get(d, [])) for d in days],
            "calls_by_day": [len(row["days"].get(d, [])) for d in days],
            "weakest": {"key": weakest[0][0], "label": weakest[0][1], "avg": weakest[1]} if weakest else None,
        }
    return {"since": _ts(since), "until": _ts(until), "days": days, "agents": agents}
