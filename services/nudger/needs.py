"""Firing nudges, open needs with grace, and acknowledgement tracking.

A corrective nudge is never sent the moment its trigger is seen: the trigger
opens a *need* (``open_need``), the agent gets ``grace_s`` to meet it on their
own (empathy wording, restating the request, asking before a hold …), and
only a need still open at ``due_at`` fires (``fire_due``). An agent already
mid-sentence at ``due_at`` may finish that sentence (up to ``max_extend_s``).
When the agent meets a need, it stays met for ``ack_window_s`` (``satisfy``).
When a need fires, the open needs its card ``covers`` — of the same customer
turn or an earlier one still waiting — are dropped and every other open need
waits ``card_gap_s`` (one card at a time, but nothing the card does not cover
is lost).
"""

from __future__ import annotations

import re
import zlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

from services.nudger.memory import CallMemory, Need, remember
from services.nudger.registry import tables
from shared.schemas import Nudge, nudge_id

if TYPE_CHECKING:  # pragma: no cover
    from services.nudger.rules import Rules, RuleSpec
    from shared.schemas import UtteranceAnalysis


def _wording(mem: CallMemory, spec: RuleSpec, nudge_type: str, case: str) -> str:
    options = spec.cases.get(case) or spec.wordings
    slot = f"{nudge_type}:{case}" if case in spec.cases else nudge_type
    # Start at a call-dependent variant, then rotate: an agent does not see
    # the same sentence twice in one call (until every variant was used).
    idx = mem.wording_index.get(slot, zlib.crc32(mem.state.call_id.encode()) % len(options))
    mem.wording_index[slot] = idx + 1
    return options[idx % len(options)]


def emit(
    mem: CallMemory,
    rules: Rules,
    nudge_type: str,
    key: str | int,
    clock: datetime,
    reason: str,
    trigger_seq: int | None = None,
    ingest_ts: datetime | None = None,
    case: str = "",
) -> Nudge | None:
    """Build a nudge unless disabled, already sent for this trigger, cooling down or at its per-call cap."""
    spec = rules.get(nudge_type)
    if spec is None:
        return None
    nid = nudge_id(mem.state.call_id, key, nudge_type)
    now = clock.timestamp()
    slot = f"{nudge_type}:{case}" if spec.cooldown_per_case and case else nudge_type
    last = mem.last_fired.get(slot)
    if nid in mem.fired or (last is not None and now - last < spec.cooldown_s):
        return None
    if spec.max_per_call and sum(1 for f in mem.fired if f.endswith(":" + nudge_type)) >= spec.max_per_call:
        return None
    remember(mem.fired, nid)
    mem.last_fired[slot] = now
    mem.state.nudges_sent += 1
    return Nudge(
        nudge_id=nid,
        call_id=mem.state.call_id,
        agent_id=mem.state.agent_id,
        type=nudge_type,
        audience=spec.audience,
        priority=spec.priority,
        title=spec.title,
        suggestion=_wording(mem, spec, nudge_type, case),
        reason=reason,
        trigger_seq=trigger_seq,
        ingest_ts=ingest_ts,
        created_ts=clock,
    )


def is_met(mem: CallMemory, nudge_type: str, now: float) -> bool:
    return mem.met_until.get(nudge_type, float("-inf")) >= now


def open_need(
    mem: CallMemory,
    rules: Rules,
    nudge_type: str,
    key: str | int,
    clock: datetime,
    reason: str,
    *,
    trigger_seq: int | None = None,
    ingest_ts: datetime | None = None,
    case: str = "",
    after_ms: int = 0,
    grace_s: float | None = None,
) -> list[Nudge]:
    """Open a need (once per trigger); with no grace it fires at once."""
    spec = rules.get(nudge_type)
    now = clock.timestamp()
    handle = f"{nudge_type}:{key}"
    if spec is None or handle in mem.handled or is_met(mem, nudge_type, now):
        return []
    remember(mem.handled, handle)
    if any(n.type == nudge_type for n in mem.needs):
        return []  # one open need per type: the older trigger stands
    grace = spec.grace_s if grace_s is None else grace_s
    if grace <= 0:
        n = emit(mem, rules, nudge_type, key, clock, reason, trigger_seq, ingest_ts, case)
        return [n] if n else []
    mem.needs.append(
        Need(
            type=nudge_type,
            key=str(key),
            case=case,
            opened_at=now,
            due_at=now + grace,
            max_at=now + grace + spec.t("max_extend_s"),
            after_ms=after_ms,
            trigger_seq=trigger_seq,
            reason=reason,
            ingest_ts=ingest_ts,
        )
    )
    return []


def satisfy(mem: CallMemory, rules: Rules, cues: list[str], text: str, now: float) -> None:
    """Agent speech with a satisfying cue or phrase meets the open needs of that type."""
    cache = tables(rules)
    table = cache.get("satisfy")
    if table is None:  # (type, spec, cues, phrases as one pattern) of every type an agent can meet
        table = tuple(
            (
                t,
                spec,
                frozenset(spec.satisfied_by),
                re.compile("|".join(map(re.escape, spec.satisfied_phrases))) if spec.satisfied_phrases else None,
            )
            for t, spec in rules.nudges.items()
            if spec.satisfied_by or spec.satisfied_phrases
        )
        cache["satisfy"] = table
    for nudge_type, spec, by_cue, phrases in table:
        if not spec.enabled:
            continue
        if (by_cue and not by_cue.isdisjoint(cues)) or (phrases is not None and phrases.search(text)):
            mem.met_until[nudge_type] = max(mem.met_until.get(nudge_type, 0.0), now + spec.ack_window_s)
            drop_needs(mem, nudge_type)


def drop_needs(mem: CallMemory, nudge_type: str) -> None:
    mem.needs = [n for n in mem.needs if n.type != nudge_type]


def reopen(mem: CallMemory, nudge_type: str) -> None:
    """The trigger came back after the need was met or nudged (renewed anger): forget both,
    so the next ``open_need`` counts again (``max_per_call`` still bounds the nudges)."""
    mem.met_until.pop(nudge_type, None)
    for slot in [s for s in mem.last_fired if s == nudge_type or s.startswith(nudge_type + ":")]:
        del mem.last_fired[slot]


def fire_need(mem: CallMemory, rules: Rules, need: Need, clock: datetime) -> Nudge | None:
    """Fire one need. One moment, one card: the open needs this card covers, of its turn or
    an earlier one still waiting (an outburst over several turns is one moment), are dropped
    (an agent who froze gets "respond", not three cards); every other open need waits
    ``card_gap_s`` after it."""
    mem.needs = [n for n in mem.needs if n is not need]
    key: str | int = int(need.key) if need.key.isdigit() else need.key
    nudge = emit(mem, rules, need.type, key, clock, need.reason, need.trigger_seq, need.ingest_ts, need.case)
    if nudge is not None:
        covers = rules.nudges[need.type].covers
        turn = need.trigger_seq
        not_before = clock.timestamp() + rules.card_gap_s
        kept = []
        for n in mem.needs:
            if n.type in covers and turn is not None and n.trigger_seq is not None and n.trigger_seq <= turn:
                continue
            if n.due_at < not_before:
                n.max_at += not_before - n.due_at
                n.due_at = not_before
            kept.append(n)
        mem.needs = kept
    return nudge


def _agent_mid_sentence(mem: CallMemory, after_ms: int) -> bool:
    return any(s.speaker == "agent" and not s.final and s.start_ms >= after_ms for s in mem.segments)


_RANK = {"high": 0, "normal": 1, "low": 2}


def fire_due(mem: CallMemory, rules: Rules, clock: datetime) -> list[Nudge]:
    """Fire the needs that are due, the most urgent first (priority, then due time): when an
    emotion card and a restatement fall due in one tick, the emotion card goes out and the
    rest follow its ``covers`` / ``card_gap_s``."""
    now = clock.timestamp()
    out = []
    due = [n for n in mem.needs if now >= n.due_at]
    due.sort(key=lambda n: (_RANK.get(getattr(rules.nudges.get(n.type), "priority", "normal"), 1), n.due_at))
    for need in due:
        if now < need.due_at or not any(n is need for n in mem.needs):
            continue  # pushed back (card_gap_s) or dropped (covers) by a card that fired just before it
        if now < need.max_at and _agent_mid_sentence(mem, need.after_ms):
            continue  # let the agent finish the sentence they are saying
        n = fire_need(mem, rules, need, clock)
        if n:
            out.append(n)
    return out


def open_turn_need(
    mem: CallMemory,
    rules: Rules,
    nudge_type: str,
    a: UtteranceAnalysis,
    clock: datetime,
    reason: str,
    *,
    key: str | int | None = None,
    **kw: Any,
) -> list[Nudge]:
    """A need opened by a customer's final turn ``a``: keyed by its seq, answered by agent speech
    that starts after the turn began."""
    return open_need(
        mem,
        rules,
        nudge_type,
        a.seq if key is None else key,
        clock,
        reason,
        trigger_seq=a.seq,
        ingest_ts=a.ingest_ts,
        after_ms=a.start_ms,
        **kw,
    )
