"""privacy_guard — 尊重: protect privacy. Any ``pii:*`` cue, partial or final, either speaker."""

from __future__ import annotations

from services.nudger.needs import emit
from services.nudger.registry import AGENT_FINAL, AGENT_PARTIAL, CUSTOMER_FINAL, CUSTOMER_PARTIAL, Ctx, detector
from services.nudger.rules import RuleSpec
from services.nudger.speech import quote
from shared import cues as C
from shared import nudge_types as T
from shared.schemas import UtteranceAnalysis

PII_NAMES = {
    C.PII_ID_CARD: "身份证号",
    C.PII_BANK_CARD: "银行卡号",
    C.PII_PHONE: "手机号",
    C.PII_ACCOUNT: "资金账号",
    C.PII_PASSWORD: "密码",
}


@detector(
    T.PRIVACY_GUARD,
    on=(CUSTOMER_FINAL, CUSTOMER_PARTIAL, AGENT_FINAL, AGENT_PARTIAL),
    cases=("customer_read", "agent_repeat", "password"),
)
def privacy(ctx: Ctx, spec: RuleSpec) -> None:
    a: UtteranceAnalysis = ctx.item
    found = [c for c in a.cues if c.startswith("pii:")]
    if not found:
        return
    if a.speaker == "agent":
        case = "password" if C.PII_PASSWORD in found else "agent_repeat"
    else:
        case = "customer_read"
    # A partial may still be growing (16 digits of an ID number look like a card number): name the kind only on finals.
    what = "、".join(PII_NAMES.get(c, "个人信息") for c in found) if a.is_final else "号码"
    ctx.add(
        emit(
            ctx.mem,
            ctx.rules,
            T.PRIVACY_GUARD,
            a.seq,
            ctx.clock,
            f"敏感信息({what}) {quote(a.text)}",
            a.seq,
            a.ingest_ts,
            case,
        )
    )
