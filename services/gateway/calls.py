"""The gateway's memory of live calls: what a (re)connecting client is sent.

Fed from Kafka (call-state, utterance-analysis, nudges, nudge-feedback);
read by the sockets. Each call keeps its latest state, its transcript (every
final and the latest partial of each segment) and its nudges with what the
agent did with them. A nudge id is kept once per call, so a redelivered or
re-emitted nudge is never shown twice. Ended calls are forgotten after
``ENDED_KEEP_S``; calls silent for ``SILENT_EXPIRY_S`` too; a call-state
tombstone forgets a call at once.
"""

from __future__ import annotations

import time
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass, field

from services.gateway import messages as M

ENDED_KEEP_S = 300
SILENT_EXPIRY_S = 30 * 60
TRANSCRIPT_LIMIT = 400
NUDGE_LIMIT = 200
AT_RISK = 0.6


@dataclass
class CallBuffer:
    call_id: str
    agent_id: str | None = None
    state: dict | None = None
    transcript: OrderedDict = field(default_factory=OrderedDict)  # (seq, speaker) -> msg
    nudges: OrderedDict = field(default_factory=OrderedDict)  # nudge_id -> msg
    handled: dict = field(default_factory=dict)  # nudge_id -> action
    ended: bool = False
    last_seen: float = field(default_factory=time.time)
    flushed_to: str | None = None  # the agent whose socket got what was buffered before the agent was known

    def call_message(self) -> dict:
        base = dict(self.state) if self.state else {"call_id": self.call_id, "agent_id": self.agent_id}
        return M.record(M.CALL, base)

    def transcript_after(self, after_seq: int = -1) -> list[dict]:
        return [m for (seq, _), m in self.transcript.items() if seq > after_seq]

    def open_nudges(self) -> list[dict]:
        return [m for nid, m in self.nudges.items() if nid not in self.handled]

    def agent_nudges(self) -> list[dict]:
        """The open nudges the agent sees: alerts (``audience: supervisor``) go to the walls only."""
        return [m for m in self.open_nudges() if m.get("audience") != "supervisor"]


class CallBook:
    def __init__(self) -> None:
        self.calls: dict[str, CallBuffer] = {}
        self.shown = Counter()  # nudge type -> unique nudges seen
        self.feedback = Counter()  # (type, action) -> count
        # knowledge_answer cards per knowledge entry (the nudge's ``source``): shown, (entry, action)
        self.shown_source = Counter()
        self.feedback_source = Counter()
        self.nudge_times: deque[float] = deque()
        self.alerts: deque[dict] = deque(maxlen=50)

    def _get(self, call_id: str) -> CallBuffer:
        buf = self.calls.get(call_id)
        if buf is None:
            buf = self.calls[call_id] = CallBuffer(call_id)
        buf.last_seen = time.time()
        return buf

    def on_state(self, rec: dict) -> tuple[CallBuffer, bool]:
        """Returns the buffer and whether the agent must be told about the call."""
        buf = self._get(rec["call_id"])
        first = buf.state is None
        before = buf.state or {}
        buf.state = rec
        if rec.get("agent_id"):
            buf.agent_id = rec["agent_id"]
        buf.ended = bool(rec.get("ended_ts"))
        changed_call = first or any(
            before.get(k) != rec.get(k) for k in ("agent_id", "ended_ts", "on_hold", "customer")
        )
        return buf, changed_call

    def on_analysis(self, rec: dict) -> tuple[CallBuffer, dict | None]:
        buf = self._get(rec["call_id"])
        key = (rec["seq"], rec["speaker"])
        current = buf.transcript.get(key)
        if current is not None and current.get("is_final"):
            return buf, None  # duplicate final, or a stale partial after the final
        msg = M.record(M.TRANSCRIPT, rec)
        buf.transcript[key] = msg
        while len(buf.transcript) > TRANSCRIPT_LIMIT:
            buf.transcript.popitem(last=False)
        return buf, msg

    def on_nudge(self, rec: dict) -> tuple[CallBuffer, dict | None]:
        buf = self._get(rec["call_id"])
        if rec["nudge_id"] in buf.nudges:
            return buf, None
        if rec.get("agent_id") and not buf.agent_id:
            buf.agent_id = rec["agent_id"]
        msg = M.record(M.NUDGE, rec)
        buf.nudges[rec["nudge_id"]] = msg
        while len(buf.nudges) > NUDGE_LIMIT:
            buf.nudges.popitem(last=False)
        self.shown[rec["type"]] += 1
        if rec.get("source"):
            self.shown_source[rec["source"]] += 1
        self.nudge_times.append(time.time())
        if rec.get("audience") == "supervisor":
            self.alerts.append(msg)
        return buf, msg

    def on_feedback(self, rec: dict) -> None:
        buf = self.calls.get(rec["call_id"])
        if buf is None or rec["nudge_id"] in buf.handled:
            return
        buf.handled[rec["nudge_id"]] = rec["action"]
        nudge = buf.nudges.get(rec["nudge_id"])
        self.feedback[(rec.get("type") or (nudge or {}).get("type") or "unknown", rec["action"])] += 1
        if (nudge or {}).get("source"):
            self.feedback_source[(nudge["source"], rec["action"])] += 1

    def agent_calls(self, agent_id: str) -> list[CallBuffer]:
        return [b for b in self.calls.values() if b.agent_id == agent_id and not b.ended]

    def live(self) -> list[CallBuffer]:
        return [b for b in self.calls.values() if not b.ended and b.state is not None]

    def forget(self, call_id: str) -> None:
        """The call was deleted from call-state (a tombstone: long ended, or its customer erased)."""
        self.calls.pop(call_id, None)

    def expire(self, now: float | None = None) -> list[str]:
        now = now or time.time()
        gone = [
            cid
            for cid, b in self.calls.items()
            if (b.ended and now - b.last_seen > ENDED_KEEP_S) or now - b.last_seen > SILENT_EXPIRY_S
        ]
        for cid in gone:
            del self.calls[cid]
        return gone

    def stats(self) -> dict:
        """The wall's figures (``messages.stats`` makes them a message)."""
        now = time.time()
        while self.nudge_times and now - self.nudge_times[0] > 60:
            self.nudge_times.popleft()
        live = self.live()
        accepted = sum(n for (_, action), n in self.feedback.items() if action == "accepted")
        total = sum(self.feedback.values())
        return {
            "live_calls": len(live),
            "at_risk": sum(
                1 for b in live if (b.state or {}).get("risk", 0) >= AT_RISK or (b.state or {}).get("escalated")
            ),
            "nudges_per_min": len(self.nudge_times),
            "acceptance_rate": round(accepted / total, 3) if total else None,
        }

    def rule_stats(self) -> dict:
        """Per nudge type: shown, accepted, dismissed, acceptance rate; knowledge_answer also
        per knowledge entry (``entries``), so ops see which answers agents use."""
        out = {}
        for nudge_type in sorted(set(self.shown) | {t for t, _ in self.feedback}):
            out[nudge_type] = _rates(
                self.shown[nudge_type],
                self.feedback[(nudge_type, "accepted")],
                self.feedback[(nudge_type, "dismissed")],
            )
        if self.shown_source:
            out.setdefault("knowledge_answer", _rates(0, 0, 0))["entries"] = {
                source: _rates(
                    self.shown_source[source],
                    self.feedback_source[(source, "accepted")],
                    self.feedback_source[(source, "dismissed")],
                )
                for source in sorted(set(self.shown_source) | {s for s, _ in self.feedback_source})
            }
        return out


def _rates(shown: int, accepted: int, dismissed: int) -> dict:
    answered = accepted + dismissed
    return {
        "shown": shown,
        "accepted": accepted,
        "dismissed": dismissed,
        "acceptance_rate": round(accepted / answered, 3) if answered else None,
    }
