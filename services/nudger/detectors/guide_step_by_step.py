"""guide_step_by_step — 人性化: guide the confused and the elderly step by step.

- ``confused``: a ``confusion`` cue or confusion ≥ ``confusion_score``;
- ``senior``: the customer is elderly; opens once per call at the first
  request (or confusion). Seniors get ``senior_grace_s``: the right order with
  a senior is confirm the request, then guide.

A customer is elderly when the CTI record says so (``customer.segment`` is
senior) or when they say so themselves: a customer final that describes the
speaker's own age or an age-related difficulty (``says_elderly``: 我年纪大了 /
我七十多了 / 眼睛花了 / 我们老人家 / 这智能手机我不会弄) marks the call's memory
(``CallMemory.senior_said``) for the rest of the call. Someone else's age (我妈年纪大了)
does not: the caller on the line is not the one who needs the slow pace.

Met by ``step_guidance``. An agent who answers the turn — not a restatement,
not a backchannel — without guiding has shown how they answer: the need is due
``answered_s`` after that answer instead of waiting out the grace.
"""

from __future__ import annotations

import re

from services.nudger.needs import open_turn_need
from services.nudger.registry import AGENT_FINAL, CUSTOMER_FINAL, Ctx, Threshold, detector
from services.nudger.rules import RuleSpec
from services.nudger.speech import content_chars, quote
from shared import cues as C
from shared import nudge_types as T
from shared.schemas import UtteranceAnalysis

SENIOR = {"senior", "elderly", "老年"}
NOT_AN_ANSWER = {C.REQUEST_RESTATED, C.STEP_GUIDANCE, C.HOLD_INTENT, C.HOLD_ASKED}

# --- a customer who says they are elderly ---------------------------------------------------
# An age of 60 to 99, in figures or words (六十 / 七十五 / 85).
_AGE = r"(?:[六七八九]十[一二三四五六七八九]?|[6-9]\d)(?:多|好几|出头|来)?"
_AS_SUBJECT = r"(?:我们?|咱们?|俺们?)"
# With the speaker as its subject in the words themselves: counts wherever it stands.
_SELF = re.compile(
    "|".join(
        (
            rf"{_AS_SUBJECT}(?:也|都|已经|真的|确实)*老了",  # 我老了
            rf"{_AS_SUBJECT}(?:是|就是|都是|也是|这种|这样的|这些|这帮)*(?:老年人|老人家|老人(?!机))",  # 我们老人家
            rf"{_AS_SUBJECT}(?:是|这个?|一个|这把)+(?:老头子?|老太婆|老太太|老婆子|老骨头)",  # 我一个老太婆
            rf"{_AS_SUBJECT}(?:这|一)把(?:年纪|岁数|老骨头)",  # 我这把年纪
            # 我都七十多了 (not 我六十岁以后)
            rf"{_AS_SUBJECT}(?:今年|都|也|已经|快|奔|是|都快|已经快)*{_AGE}(?:岁|了|的人)(?![以之左前后])",
        )
    )
)
# Subject left out, as speakers mostly do (年纪大了,眼睛花了): counts unless the person named
# last before it is someone else (我妈年纪大了 / 帮我爸问一下,他眼睛花了).
_AGE_SAID = re.compile(
    "|".join(
        (
            r"(?:年纪|岁数|年龄)(?:也|都|已经|确实|实在|真的|比较|有点|太)*(?:大了|大啦|大喽|大咯|不小了|这么大|大"
            r"(?=$|[,，。.!！?？、;； ]|了|啦|看|听|记|学|用|弄|搞|操作))",
            r"上了?(?:年纪|岁数)",
            r"人(?:也|都|已经)*老了",
            rf"{_AGE}(?:岁了|岁的人|的人了)",  # 都八十好几的人了
            r"眼睛(?:也|都|已经)*(?:花了|花|不好使)|眼花(?!缭乱)|老花|老眼昏花|耳朵(?:也|都|已经|有点)*背|耳背",
            r"老人机",
            r"智能手机.{0,6}?(?:不会|不懂|玩不转|用不来|用不惯|弄不来|搞不懂|不太会)",
            r"(?:不会|不懂|玩不转|用不来|用不惯|弄不来|搞不懂|不太会)[用玩弄]?(?:这个?|那个?)?智能手机",
        )
    )
)
_PERSON = re.compile(
    r"(?P<me>我|咱|俺)|[他她]|[您你](?!好)|妈|爸|父亲|母亲|父母|爷爷|奶奶|姥姥|姥爷|外公|外婆|公公|婆婆|老爷子|老太太|"
    r"老伴|老公|老婆|丈夫|爱人|儿子|女儿|孩子|子女|家里|家人|亲戚|朋友|邻居|同事"
)


def says_elderly(text: str) -> str:
    """The words of ``text`` (a customer's redacted final) that say the speaker is elderly, or ''."""
    if m := _SELF.search(text):
        return m.group()
    for m in _AGE_SAID.finditer(text):
        named = list(_PERSON.finditer(text, 0, m.end()))  # the last one is the subject, said or left out
        if not named or named[-1].group("me"):
            return m.group()
    return ""


CTI, SAID = "老年客户", "客户提到年纪大"  # how the customer is known to be elderly (the reason says)


def senior_basis(ctx: Ctx) -> str:
    """How the customer is known to be elderly: ``CTI``, ``SAID`` (in the call), or ''."""
    if (ctx.mem.state.customer.segment or "").lower() in SENIOR:
        return CTI
    return SAID if ctx.mem.senior_said else ""


def is_senior(ctx: Ctx) -> bool:
    return bool(senior_basis(ctx))


@detector(
    T.GUIDE_STEP_BY_STEP,
    on=CUSTOMER_FINAL,
    cases=("confused", "senior"),
    thresholds={
        "confusion_score": Threshold(0.6, "analyzer confidence for confusion", le=1),
        "senior_grace_s": Threshold(20, "seniors: confirm the request first, then guide"),
        "answered_s": Threshold(1.5, "due this long after an agent answer that does not guide"),
    },
)
def confused_or_senior(ctx: Ctx, spec: RuleSpec) -> None:
    a: UtteranceAnalysis = ctx.item
    if not ctx.mem.senior_said:
        ctx.mem.senior_said = says_elderly(a.text)[:16]
    confused = C.CONFUSION in a.cues or (a.emotion == "confusion" and a.emotion_score >= spec.t("confusion_score"))
    basis = senior_basis(ctx)
    grace = spec.t("senior_grace_s") if basis else None
    who = basis
    if basis == SAID:  # quote the words when they were said in an earlier turn
        earlier = ctx.mem.senior_said not in a.text
        who = f"{SAID}({quote(ctx.mem.senior_said)})," if earlier else f"{SAID},"
    if confused:
        ctx.out += open_turn_need(
            ctx.mem,
            ctx.rules,
            T.GUIDE_STEP_BY_STEP,
            a,
            ctx.clock,
            f"{who or '客户'}表示不明白 {quote(a.text)}",
            case="senior" if basis else "confused",
            grace_s=grace,
        )
    elif basis and C.REQUEST in a.cues:
        ctx.out += open_turn_need(
            ctx.mem,
            ctx.rules,
            T.GUIDE_STEP_BY_STEP,
            a,
            ctx.clock,
            f"{who}办理业务 {quote(a.text)}",
            key="senior",
            case="senior",
            grace_s=grace,
        )


@detector(T.GUIDE_STEP_BY_STEP, on=AGENT_FINAL)
def answered_without_guiding(ctx: Ctx, spec: RuleSpec) -> None:
    a: UtteranceAnalysis = ctx.item
    if NOT_AN_ANSWER & set(a.cues) or content_chars(a.text) < 6:
        return
    due = ctx.now + spec.t("answered_s")
    for need in ctx.mem.needs:
        if need.type == T.GUIDE_STEP_BY_STEP and a.start_ms >= need.after_ms and need.due_at > due:
            need.max_at -= need.due_at - due
            need.due_at = due
