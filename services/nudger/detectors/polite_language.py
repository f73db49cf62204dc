"""polite_language — 尊重: courtesy under pressure. An agent final with ``impolite``."""

from __future__ import annotations

from services.nudger.needs import emit
from services.nudger.registry import AGENT_FINAL, Ctx, detector
from services.nudger.rules import RuleSpec
from services.nudger.speech import quote
from shared import cues as C
from shared import nudge_types as T
from shared.schemas import UtteranceAnalysis


@detector(T.POLITE_LANGUAGE, on=AGENT_FINAL)
def impolite(ctx: Ctx, spec: RuleSpec) -> None:
    a: UtteranceAnalysis = ctx.item
    if C.IMPOLITE in a.cues:
        ctx.add(
            emit(
                ctx.mem,
                ctx.rules,
                T.POLITE_LANGUAGE,
                a.seq,
                ctx.clock,
                f"不礼貌用语 {quote(a.text)}",
                a.seq,
                a.ingest_ts,
            )
        )
