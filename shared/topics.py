"""Topic names (configurable through a prefix) and their shapes."""

from __future__ import annotations

from dataclasses import dataclass

STT_EVENTS = "stt-events"
UTTERANCE_ANALYSIS = "utterance-analysis"
CALL_EVENTS = "call-events"  # lifecycle events, forwarded by the analyzer for the nudger
CALL_STATE = "call-state"
NUDGES = "nudges"
NUDGE_FEEDBACK = "nudge-feedback"

ALL = (STT_EVENTS, UTTERANCE_ANALYSIS, CALL_EVENTS, CALL_STATE, NUDGES, NUDGE_FEEDBACK)
COMPACTED = {CALL_STATE}


# Record headers the analyzer puts on what it writes for a call (analyses and forwarded
# lifecycle events): where in stt-events the record came from, and where the call's
# previous record it wrote came from ("<partition>:<offset>"). The nudger applies a call's
# records in that order although it reads them from two topics (services/nudger/order.py).
SRC_HEADER = "heartline-src"
AFTER_HEADER = "heartline-after"


def dlq(topic: str) -> str:
    return f"{topic}.dlq"


@dataclass(frozen=True)
class Topics:
    """Concrete topic names for one deployment (tests use a fresh prefix)."""

    prefix: str = ""

    def name(self, base: str) -> str:
        return f"{self.prefix}{base}"

    @property
    def stt_events(self) -> str:
        return self.name(STT_EVENTS)

    @property
    def utterance_analysis(self) -> str:
        return self.name(UTTERANCE_ANALYSIS)

    @property
    def call_events(self) -> str:
        return self.name(CALL_EVENTS)

    @property
    def call_state(self) -> str:
        return self.name(CALL_STATE)

    @property
    def nudges(self) -> str:
        return self.name(NUDGES)

    @property
    def nudge_feedback(self) -> str:
        return self.name(NUDGE_FEEDBACK)

    def all_with_dlq(self) -> list[str]:
        names = [self.name(t) for t in ALL]
        return names + [dlq(n) for n in names]
