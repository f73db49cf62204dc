"""The post-call summary (通话小结): extractive, from the redacted transcript, pure.

``recap(turns, topic, outcome)`` picks transcript lines, it never writes
new ones, so every word in it was said on the call (and was redacted by
the analyzer)::

    {"topic": "login", "topic_label": "登录",
     "wanted":     {"seq": 2, "text": "我想重置一下登录密码"},             # what the customer wanted
     "done":       [{"seq": 8, "text": "已经帮您提交了重置申请"}],          # what the agent did
     "outcome": "resolved", "outcome_label": "已解决",
     "outcome_line": {"seq": 9, "text": "好的谢谢"},                       # the line the outcome rests on
     "follow_ups": [{"seq": 8, "text": "24小时内会有短信通知您"}],         # what was promised
     "text": "登录:我想重置一下登录密码 → 已经帮您提交了重置申请 → 已解决;待跟进:24小时内会有短信通知您"}

* wanted: the customer's first line the analyzer marked ``request``; else the
  first that names the topic; else the first customer line.
* done: agent lines that report an action (``DONE``: 已经帮您 / 提交 / 重置 …);
  else the agent's step-by-step guidance; else the line restating the request.
* follow_ups: agent lines that promise something later (``FOLLOW_UP``: 回电 /
  24小时内 / 短信通知 / 反馈给 …).
* outcome_line: the customer's thanks or 没有了 (resolved), the manager or
  complaint line (escalated), else the customer's last line (unresolved).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.recorder import judge
from services.recorder.judge import Turn
from shared import cues as C

DONE = (
    "已经帮您",
    "已帮您",
    "已为您",
    "已经为您",
    "帮您提交",
    "为您提交",
    "已经提交",
    "已提交",
    "帮您办理",
    "为您办理",
    "已经办理",
    "帮您重置",
    "已经重置",
    "帮您解锁",
    "已经解锁",
    "帮您查到",
    "查到了",
    "帮您登记",
    "已经登记",
    "已登记",
    "帮您转接",
    "为您转接",
    "帮您开通",
    "已经开通",
    "处理好了",
    "已经处理",
    "已处理",
    "办好了",
    "恢复了",
)
FOLLOW_UP = (
    "回电",
    "回访",
    "给您回复",
    "答复您",
    "联系您",
    "通知您",
    "跟进",
    "工作日内",
    "小时内",
    "稍后",
    "短信",
    "反馈给",
)
MAX_LINES = 3
MAX_CHARS = 120
OUTCOME_LABELS = {"resolved": "已解决", "unresolved": "未解决", "escalated": "已升级"}


def _line(t: Turn | None) -> dict[str, Any] | None:
    if t is None:
        return None
    text = t.text if len(t.text) <= MAX_CHARS else t.text[:MAX_CHARS] + "…"
    return {"seq": t.seq, "speaker": t.speaker, "text": text}


def _has(t: Turn, words: tuple[str, ...]) -> bool:
    return any(w in t.text for w in words)


def wanted(turns: list[Turn], topic: str) -> Turn | None:
    customer = [t for t in turns if t.speaker == "customer"]
    words = judge.TOPICS.get(topic, ("", ()))[1]
    return (
        next((t for t in customer if C.REQUEST in t.cues), None)
        or next((t for t in customer if _has(t, words)), None)
        or next(iter(customer), None)
    )


def done(turns: list[Turn]) -> list[Turn]:
    agent = [t for t in turns if t.speaker == "agent"]
    picks: tuple[Callable[[Turn], bool], ...] = (
        lambda t: _has(t, DONE),
        lambda t: C.STEP_GUIDANCE in t.cues,
        lambda t: C.REQUEST_RESTATED in t.cues,
    )
    for pick in picks:
        lines = [t for t in agent if pick(t)]
        if lines:
            return lines[:MAX_LINES]
    return []


def follow_ups(turns: list[Turn]) -> list[Turn]:
    return [t for t in turns if t.speaker == "agent" and _has(t, FOLLOW_UP)][:MAX_LINES]


def outcome_line(turns: list[Turn], outcome: str | None) -> Turn | None:
    customer = [t for t in turns if t.speaker == "customer"]
    if outcome == "escalated":
        return next((t for t in customer if set(t.cues) & judge.ESCALATING_CUES), None) or next(
            (t for t in reversed(customer) if t.emotion in judge.NEGATIVE), None
        )
    if outcome == "resolved":
        return next(
            (
                t
                for t in reversed(customer)
                if {C.GRATITUDE, C.NOTHING_ELSE} & set(t.cues) or t.emotion == "satisfaction"
            ),
            None,
        )
    return customer[-1] if customer else None


def _short(t: Turn, n: int = 30) -> str:
    return t.text if len(t.text) <= n else t.text[:n] + "…"


def recap(turns: list[Turn], topic: str | None, outcome: str | None) -> dict[str, Any]:
    turns = sorted(turns, key=lambda t: (t.start_ms, t.seq))
    topic = topic or judge.OTHER
    label = judge.LABELS.get(topic, "其他")
    want, did, later = wanted(turns, topic), done(turns), follow_ups(turns)
    parts = [f"{label}:{_short(want)}" if want else label]
    if did:
        parts.append(_short(did[0]))
    parts.append(OUTCOME_LABELS.get(outcome or "", "未结束"))
    text = " → ".join(parts) + (f";待跟进:{_short(later[0])}" if later else "")
    return {
        "topic": topic,
        "topic_label": label,
        "wanted": _line(want),
        "done": [_line(t) for t in did],
        "outcome": outcome,
        "outcome_label": OUTCOME_LABELS.get(outcome or "", "未结束"),
        "outcome_line": _line(outcome_line(turns, outcome)),
        "follow_ups": [_line(t) for t in later],
        "emotion": judge.worst_emotion(turns)[0],
        "text": text,
    }
