"""repeat_caller: the same unresolved issue is back (rules/default.yaml, docs/rules.md).

When a call starts for a customer whose unresolved (or escalated) call on
topic T started within ``repeat_window_days``, and the customer's first
``FIRST_TURNS`` utterances of the new call hit topic T's keywords, the
recorder raises one agent nudge, id ``{call_id}:repeat:repeat_caller``
(deterministic, so a re-check or a redelivery never shows it twice).
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta
from pathlib import Path

import yaml

from services.recorder import judge
from services.recorder.models import Call
from services.recorder.queries import Reader, turns_of, unresolved_before
from shared.schemas import Nudge, utcnow
from shared.tz import CN

TYPE = "repeat_caller"
FIRST_TURNS = 3
log = logging.getLogger("recorder.repeat")

DEFAULT_SPEC = {
    "enabled": True,
    "priority": "high",
    "title": "老客户再次来电",
    "wordings": ["您好,看到您之前因为{topic}的问题联系过我们,还没能帮您解决,真的很抱歉,这次我一定帮您跟进到底。"],
}


def nudge_id(call_id: str) -> str:
    return f"{call_id}:repeat:{TYPE}"


class RepeatRule:
    """The ``repeat_caller`` entry of the rules YAML, re-read when the file changes."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._mtime: float | None = None
        self.spec: dict = dict(DEFAULT_SPEC)

    def current(self) -> dict | None:
        try:
            mtime = os.stat(self.path).st_mtime
            if mtime != self._mtime:
                data = yaml.safe_load(self.path.read_text(encoding="utf-8")) or {}
                entry = (data.get("nudges") or {}).get(TYPE)
                self.spec = {**DEFAULT_SPEC, **entry} if isinstance(entry, dict) else dict(DEFAULT_SPEC)
                self._mtime = mtime
        except (OSError, yaml.YAMLError) as exc:
            log.warning("rules file unreadable; keeping the repeat_caller rule I have", extra={"error": str(exc)})
        return self.spec if self.spec.get("enabled", True) else None


def check(
    store: Reader, call_id: str, spec: dict, window_days: int, now: datetime | None = None
) -> tuple[bool, Nudge | None]:
    """Returns (decided, nudge). Not decided while the first customer turns are still coming."""
    with store.session() as s:
        call = s.get(Call, call_id)
        if call is None:
            return False, None
        if not call.customer_hash or call.ended_ts is not None:
            return True, None  # no customer to recognise, or a finished call (re-read history)
        turns = [t for t in turns_of(s, call_id) if t.speaker == "customer"]
        turns = sorted(turns, key=lambda t: t.seq)[:FIRST_TURNS]
        agent_id, started, cust_hash = call.agent_id, call.started_ts or now or utcnow(), call.customer_hash
    if not turns:
        return False, None
    for i in range(len(turns)):
        hits = judge.topic_hits([turns[i].text])
        if not hits:
            continue
        for prior in unresolved_before(store, cust_hash, call_id, started - timedelta(days=window_days), started):
            if prior.topic in hits:
                return True, _nudge(call_id, agent_id, prior, turns[i], spec, now or utcnow())
    return len(turns) >= FIRST_TURNS, None


def _nudge(call_id: str, agent_id: str | None, prior: Call, turn: judge.Turn, spec: dict, now: datetime) -> Nudge:
    label = judge.LABELS.get(prior.topic or judge.OTHER, "其他")
    wordings = spec.get("wordings") or DEFAULT_SPEC["wordings"]
    wording = wordings[sum(map(ord, call_id)) % len(wordings)]
    when = prior.started_ts.astimezone(CN).strftime("%m-%d") if prior.started_ts else "近期"
    state = "升级投诉" if prior.outcome == "escalated" else "未解决"
    excerpt = turn.text if len(turn.text) <= 20 else turn.text[:20] + "…"
    return Nudge(
        nudge_id=nudge_id(call_id),
        call_id=call_id,
        agent_id=agent_id,
        type=TYPE,
        audience="agent",
        priority=spec.get("priority", "high"),
        title=spec.get("title", DEFAULT_SPEC["title"]),
        suggestion=wording.replace("{topic}", label),
        reason=f"客户{when}曾因{label}问题来电,{state};本次又提到 «{excerpt}»",
        trigger_seq=turn.seq,
        created_ts=now,
    )
