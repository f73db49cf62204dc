"""Which utterances the analyzer analyses — by the call's own time, so it is repeatable.

* every **final** once per (call, seq, speaker): a redelivered final is not
  analysed again (downstream dedupes by (call_id, seq) anyway: the nudger's
  memory and the gateway both do);
* a segment's **partials** at most once per ``PARTIAL_EVERY_MS`` of its
  speech: the first partial of a segment always (the nudger's timing rules
  need to know that a side started speaking), then the first one whose
  ``end_ms`` is ``PARTIAL_EVERY_MS`` past the last analysed one; none after
  the segment's final.

The rule reads only the events of the call, in order — no wall clock — so
``heartline replay`` (and the benchmark's expectation) analyses exactly the
partials the live analyzer analyses. The memory is bounded; after an analyzer
restart a segment's next partial is analysed again (one extra timing point
for the nudger, nothing more).
"""

from __future__ import annotations

from collections import OrderedDict

from shared.schemas import Utterance

PARTIAL_EVERY_MS = 1000
LIMIT = 200_000


class Gate:
    def __init__(self, limit: int = LIMIT):
        self.finals: OrderedDict[tuple[str, int, str], None] = OrderedDict()
        self.partials: OrderedDict[tuple[str, int, str], int] = OrderedDict()
        self.limit = limit

    def admit(self, u: Utterance) -> bool:
        """True when this utterance is to be analysed (and remembered as such)."""
        key = (u.call_id, u.seq, u.speaker)
        if u.is_final:
            if key in self.finals:
                return False
            self.finals[key] = None
            self.partials.pop(key, None)
            if len(self.finals) > self.limit:
                self.finals.popitem(last=False)
            return True
        if key in self.finals:
            return False  # a late partial after its final is stale
        last = self.partials.get(key)
        if last is not None and u.end_ms - last < PARTIAL_EVERY_MS:
            return False
        self.partials[key] = u.end_ms
        if len(self.partials) > self.limit:
            self.partials.popitem(last=False)
        return True
