"""The recorder's judgement of a call, as small pure functions (docs/history.md).

* ``topic``: what the call was about, from keywords in the customer's own
  words (the first topic in ``TOPICS`` order wins a tie). 投诉 is the topic
  only when nothing more specific was said: a complaint about a transfer is
  a transfer call that was escalated.
* ``outcome``: ``escalated`` (the wall escalated it, a supervisor nudge was
  raised, or the customer asked for a manager / threatened a complaint),
  ``resolved`` (the customer closed in peace: thanks or satisfaction at the
  end, or 没有了 with no strong negative emotion in the last customer turns),
  else ``unresolved``.
* ``worst_emotion``: the customer's most severe emotion (anger > anxiety,
  sadness > confusion), its highest score breaking ties.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shared import cues as C
from shared.tz import CN

TOPICS: dict[str, tuple[str, tuple[str, ...]]] = {
    # key: (label shown to people, keywords in the customer's words)
    "login": ("登录", ("登录", "登陆", "登不上", "登进", "密码", "验证码", "锁定", "进不去")),
    "transfer": ("转账到账", ("转账", "到账", "银证", "转出", "转入", "存管", "取不出", "出金", "入金")),
    "fees": ("手续费", ("手续费", "佣金", "费率", "申购费", "赎回费", "收费", "扣费")),
    "fund": ("基金收益", ("基金", "理财", "收益", "净值", "亏损", "亏了", "分红", "逆回购", "产品")),
    "margin": ("两融", ("融资", "融券", "两融", "平仓", "保证金")),
    "trading": ("交易", ("卖单", "买单", "挂单", "挂不上", "委托", "成交", "撤单", "卡死", "限制交易", "冻结", "收盘")),
    "account": ("开户与权限", ("开户", "开通", "权限", "销户", "创业板", "科创板", "期权")),
    "profile": ("信息变更", ("手机号", "换绑", "银行卡", "变更", "修改资料")),
    "inheritance": ("继承过户", ("继承", "过户", "去世")),
    "complaint": ("投诉", ("投诉", "证监会", "12386", "曝光", "骗")),
}
OTHER = "other"
LABELS = {key: label for key, (label, _) in TOPICS.items()} | {OTHER: "其他"}

NEGATIVE = ("anger", "anxiety", "sadness")
SEVERITY = {"anger": 4, "anxiety": 3, "sadness": 3, "confusion": 2, "neutral": 0, "satisfaction": 0}
STRONG = 0.6  # an emotion score this high counts as felt, not noise
CLOSING_TURNS = 3  # the customer's last turns that decide "resolved"
ESCALATING_CUES = {C.ASKS_FOR_MANAGER, C.COMPLAINT_THREAT}


@dataclass(frozen=True)
class Turn:
    """What the judgement needs of one final utterance."""

    seq: int
    speaker: str
    text: str
    emotion: str = "neutral"
    emotion_score: float = 0.0
    cues: tuple[str, ...] = ()
    start_ms: int = 0  # offsets from the call's start (the scorecard times responses with them)
    end_ms: int = 0


def topic_hits(texts: list[str]) -> dict[str, int]:
    """Keyword hits per topic key (only topics that were hit)."""
    joined = "\n".join(texts)
    hits = {key: sum(joined.count(w) for w in words) for key, (_, words) in TOPICS.items()}
    return {k: n for k, n in hits.items() if n}


def topic(turns: list[Turn]) -> str:
    hits = topic_hits([t.text for t in turns if t.speaker == "customer"])
    specific = {k: n for k, n in hits.items() if k != "complaint"}
    if specific:
        order = list(TOPICS)
        return max(specific, key=lambda k: (specific[k], -order.index(k)))
    return "complaint" if hits else OTHER


def worst_emotion(turns: list[Turn]) -> tuple[str, float]:
    customer = [t for t in turns if t.speaker == "customer"]
    if not customer:
        return "neutral", 0.0
    worst = max(customer, key=lambda t: (SEVERITY.get(t.emotion, 0), t.emotion_score))
    if SEVERITY.get(worst.emotion, 0) == 0:
        return "neutral", 0.0
    return worst.emotion, round(worst.emotion_score, 3)


def outcome(turns: list[Turn], escalated: bool = False, supervisor_nudged: bool = False) -> str:
    customer = sorted((t for t in turns if t.speaker == "customer"), key=lambda t: t.seq)
    if escalated or supervisor_nudged or any(ESCALATING_CUES & set(t.cues) for t in customer):
        return "escalated"
    last = customer[-CLOSING_TURNS:]
    if not last:
        return "unresolved"
    upset = any(t.emotion in NEGATIVE and t.emotion_score >= STRONG for t in last)
    thanked = any(C.GRATITUDE in t.cues or t.emotion == "satisfaction" for t in last[-2:])
    done = any(C.NOTHING_ELSE in t.cues for t in last[-2:])
    if thanked or (done and not upset):
        return "resolved"
    return "unresolved"


def is_open(outcome_value: str | None) -> bool:
    """An unresolved or escalated call leaves an open issue behind."""
    return outcome_value in ("unresolved", "escalated")


def week_start(now: datetime) -> datetime:
    """Monday 00:00 China time of ``now``'s week, as UTC."""
    local = now.astimezone(CN)
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return monday.astimezone(UTC)


def summary_line(calls_this_week: int, previous: dict[str, Any] | None) -> str:
    """One line for the agent: 本周第3次来电,上次因登录问题不满.

    ``calls_this_week`` counts the current call; ``previous`` is the last
    finished call (topic, outcome, worst_emotion) or None.
    """
    if previous is None:
        return "首次来电" if calls_this_week <= 1 else f"本周第{calls_this_week}次来电"
    head = f"本周第{calls_this_week}次来电" if calls_this_week > 1 else "本周首次来电"
    label = LABELS.get(previous.get("topic") or OTHER, "其他")
    subject = f"{label}问题" if previous.get("topic") not in (None, OTHER) else "其他问题"
    if previous.get("outcome") == "escalated":
        tail = f"上次因{subject}投诉升级"
    elif previous.get("outcome") == "unresolved" or previous.get("worst_emotion") in NEGATIVE:
        tail = f"上次因{subject}不满" if previous.get("worst_emotion") in NEGATIVE else f"上次{subject}未解决"
    else:
        tail = f"上次咨询{subject},已解决"
    return f"{head},{tail}"
