"""knowledge_answer — help with *what* to answer: the knowledge base's answer to the customer's question.

The analyzer matches every customer final that asks something against the
knowledge base (``knowledge/*.yaml``, ``services/analyzer/knowledge.py``)
and carries a confident match in ``UtteranceAnalysis.knowledge``. The card
is raised at once — the customer is waiting for the answer — with ``title``
= the entry's matching question, ``suggestion`` = its answer (``{answer}``
in the rule's wording), ``reason`` = the customer's redacted words and
``source`` = the entry id, so acceptance is counted per entry. One card per
question (the nudge id is per customer final), and never the same entry
twice in one call: a customer who asks again gets the agent's own words.
It is content help, not coaching, so it neither covers nor delays the other
cards of the turn.
"""

from __future__ import annotations

from services.nudger.memory import remember
from services.nudger.needs import emit
from services.nudger.registry import CUSTOMER_FINAL, Ctx, detector
from services.nudger.rules import RuleSpec
from services.nudger.speech import quote
from shared import nudge_types as T
from shared.schemas import UtteranceAnalysis


@detector(T.KNOWLEDGE_ANSWER, on=CUSTOMER_FINAL)
def answer(ctx: Ctx, spec: RuleSpec) -> None:
    a: UtteranceAnalysis = ctx.item
    match = getattr(a, "knowledge", None)
    if match is None:
        return
    shown = f"{T.KNOWLEDGE_ANSWER}:{match.id}"
    if shown in ctx.mem.handled:
        return  # this entry was already offered in this call
    nudge = emit(
        ctx.mem, ctx.rules, T.KNOWLEDGE_ANSWER, a.seq, ctx.clock, f"客户提问 {quote(a.text, 40)}", a.seq, a.ingest_ts
    )
    if nudge is None:
        return
    remember(ctx.mem.handled, shown)
    wording = nudge.suggestion
    ctx.add(
        nudge.model_copy(
            update={
                "title": match.question,
                "suggestion": wording.replace("{answer}", match.answer) if "{answer}" in wording else match.answer,
                "source": match.id,
            }
        )
    )
