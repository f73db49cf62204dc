"""Call history, written: the recorder's idempotent upserts, customer erasure and retention.

Writes are safe to repeat in any order: rows are keyed by their natural keys
and inserted with ``ON CONFLICT DO NOTHING``; a call row is merged field by
field with rules that do not depend on the order records arrive in (the
earliest start, the first end, the highest risk, the newest live figures by
``last_update_ts``). Re-consuming a topic from the start changes nothing.
Derived fields (topic, outcome, worst emotion and, once the call has
ended, the scorecard and the post-call summary) are recomputed from the
stored rows when a call changes: at once when it has ended, at most every
``DERIVE_LIVE_S`` while it is live (they are the history's, not the wall's;
recomputing them for every batch of a live call was most of the recorder's
CPU under load). Customer ids arrive hashed on
call-state (``customer.id_hash``, salted SHA-256 by the nudger with
``shared.pii.hash_customer``, the same salt); a record from before that
carries the clear id, which is hashed here before it touches the database.
Reads live in ``services.recorder.queries`` (``Store`` is a ``Reader`` too).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from services.recorder import judge, recap, scorecard
from services.recorder.models import Call, ErasedCall, Erasure, FeedbackRow, NudgeRow, UtteranceRow
from services.recorder.queries import Reader, detail, turns_of
from services.recorder.scorecard_spec import DEFAULT_PATH as SCORECARD_PATH
from services.recorder.scorecard_spec import SpecWatcher
from shared.pii import hash_customer
from shared.schemas import CallState, Nudge, NudgeFeedback, UtteranceAnalysis, iso, utcnow

Record = CallState | UtteranceAnalysis | Nudge | NudgeFeedback
DERIVE_LIVE_S = 10.0
DERIVED_KEEP = 50_000  # live calls whose last derivation time is remembered


class Store(Reader):
    def __init__(self, engine: Engine, salt: str, retention_days: int = 90, scorecard_rules=SCORECARD_PATH):
        super().__init__(engine)
        self.salt = salt
        self.retention_days = retention_days
        self.standard = SpecWatcher(scorecard_rules)  # rules/scorecard.yaml, read on first use
        self._derived: dict[str, float] = {}  # live call -> when (monotonic) it was last derived

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
            erased = set(
                s.scalars(select(ErasedCall.call_id).where(ErasedCall.call_id.in_({r.call_id for r in records})))
            )
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
                        self._insert_ignore(
                            s,
                            UtteranceRow,
                            dict(
                                call_id=rec.call_id,
                                seq=rec.seq,
                                speaker=rec.speaker,
                                text=rec.text,
                                sentiment=rec.sentiment,
                                emotion=rec.emotion,
                                emotion_score=rec.emotion_score,
                                cues=list(rec.cues),
                                start_ms=rec.start_ms,
                                end_ms=rec.end_ms,
                                ts=rec.ts,
                            ),
                            ["call_id", "seq", "speaker"],
                        )
                        touched.add(rec.call_id)
                elif isinstance(rec, Nudge):
                    if rec.created_ts >= self.cutoff(now):
                        self._insert_ignore(
                            s,
                            NudgeRow,
                            dict(
                                nudge_id=rec.nudge_id,
                                call_id=rec.call_id,
                                agent_id=rec.agent_id,
                                type=rec.type,
                                audience=rec.audience,
                                priority=rec.priority,
                                title=rec.title,
                                suggestion=rec.suggestion,
                                reason=rec.reason,
                                trigger_seq=rec.trigger_seq,
                                created_ts=rec.created_ts,
                                sender=rec.sender,
                                source=rec.source,
                            ),
                            ["nudge_id"],
                        )
                        touched.add(rec.call_id)
                elif isinstance(rec, NudgeFeedback):  # noqa: SIM102 (shaped like the branches above)
                    if rec.ts >= self.cutoff(now):
                        self._insert_ignore(
                            s,
                            FeedbackRow,
                            dict(
                                nudge_id=rec.nudge_id,
                                call_id=rec.call_id,
                                agent_id=rec.agent_id,
                                type=rec.type,
                                action=rec.action,
                                ts=rec.ts,
                            ),
                            ["nudge_id"],
                        )
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
        if row.ended_ts is None:
            now = time.monotonic()
            if now - self._derived.get(call_id, float("-inf")) < DERIVE_LIVE_S:
                return  # a live call: again once DERIVE_LIVE_S has passed (or when it ends)
            if len(self._derived) >= DERIVED_KEEP:
                self._derived.clear()
            self._derived[call_id] = now
        else:
            self._derived.pop(call_id, None)
        turns = turns_of(s, call_id)
        supervisor = (
            s.scalar(
                select(func.count())
                .select_from(NudgeRow)
                .where(NudgeRow.call_id == call_id, NudgeRow.audience == "supervisor")
            )
            or 0
        )
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
            return {"customer_hash": cust_hash, "exported_ts": iso(utcnow()), "calls": [detail(s, c) for c in calls]}

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
            old = list(
                s.scalars(select(Call.call_id).where(func.coalesce(Call.started_ts, Call.last_update_ts) < cutoff))
            )
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
        chunk = ids[i : i + 500]
        counts["utterances"] += s.execute(delete(UtteranceRow).where(UtteranceRow.call_id.in_(chunk))).rowcount
        counts["nudges"] += s.execute(delete(NudgeRow).where(NudgeRow.call_id.in_(chunk))).rowcount
        counts["feedback"] += s.execute(delete(FeedbackRow).where(FeedbackRow.call_id.in_(chunk))).rowcount
        counts["calls"] += s.execute(delete(Call).where(Call.call_id.in_(chunk))).rowcount
    return counts
