"""dont_interrupt — 关注: listen, don't interrupt.

Judged on both channels' segment times, partials included: an agent segment
that started at least ``lead_ms`` after a customer segment began and overlaps
it by ``min_overlap_ms``, with at least ``min_agent_chars`` that are not a
backchannel. The customer cutting into the agent never fires.
"""

from __future__ import annotations

from services.nudger.memory import Segment
from services.nudger.needs import emit
from services.nudger.registry import SPEECH, Ctx, Threshold, detector
from services.nudger.rules import RuleSpec
from services.nudger.speech import is_backchannel, quote
from shared import nudge_types as T


@detector(
    T.DONT_INTERRUPT,
    on=SPEECH,
    thresholds={
        "min_overlap_ms": Threshold(1000, "overlap shorter than this is ordinary turn-taking"),
        "lead_ms": Threshold(300, "the agent must start this long after the customer began"),
        "min_agent_chars": Threshold(3, "嗯 / 对 / 好的 are active listening, not interrupting"),
    },
)
def overlap(ctx: Ctx, spec: RuleSpec) -> None:
    """An overlap only grows when one of its two segments grows: check the pairs of the segment
    that just changed (the agent's against every customer segment, or the other way round)."""
    mem, seg = ctx.mem, ctx.seg
    assert seg is not None  # SPEECH always brings its segment
    lead, min_overlap, min_chars = spec.t("lead_ms"), spec.t("min_overlap_ms"), spec.t("min_agent_chars")
    agents: tuple[Segment, ...]
    if seg.speaker == "agent":
        agents = (seg,)
    else:
        agents = tuple(
            s
            for s in mem.segments
            if s.speaker == "agent" and s.start_ms >= seg.start_ms + lead and s.start_ms < seg.end_ms
        )
    for a in agents:
        if a.chars < min_chars or is_backchannel(a.text):
            continue
        for c in mem.segments:
            if c.speaker != "customer" or a.start_ms < c.start_ms + lead:
                continue
            over = min(a.end_ms, c.end_ms) - a.start_ms
            if over >= min_overlap:
                ctx.add(
                    emit(
                        mem,
                        ctx.rules,
                        T.DONT_INTERRUPT,
                        a.seq,
                        ctx.clock,
                        f"坐席在客户说话时插话 {over / 1000:.1f} 秒 {quote(c.text)}",
                        a.seq,
                        ctx.ingest_ts,
                    )
                )
                break
