"""Replay one call offline through analysis and the nudge engine, deterministically.

The engine is driven exactly as the live worker drives it, but with the
events' own time as the clock: the utterances the live analyzer analyses
(``services.analyzer.gate``: every final once, a segment's partials at most
once per second of its speech) are analysed — the analyzer's code, so its
redaction — and their analyses stepped; lifecycle events are admitted as the
live nudger admits them (``intake.admit``: the customer id hashed) and
stepped; raw utterances never reach the engine (the live nudger does not
read them). ``tick`` is called at 1 s steps of event time between events and
for a few seconds after the last one. ``created_ts`` of a nudge is that clock, so
the output is the same on every run, and no reason quotes unredacted text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path

from services.analyzer.analysis import analyze_utterance
from services.analyzer.gate import Gate
from services.nudger.engine import step, tick
from services.nudger.intake import admit
from services.nudger.memory import CallMemory
from services.nudger.rules import Rules
from shared.config import get_settings
from shared.schemas import CallEvent, Nudge, Utterance, UtteranceAnalysis, parse_event

TICK = timedelta(seconds=1)
TAIL_S = 10

Analyzer = Callable[[Utterance], UtteranceAnalysis]


def load_jsonl(path: str | Path) -> list[CallEvent]:
    """CallEvents from a JSON-lines file (blank lines and ``#`` comments skipped)."""
    events = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                events.append(parse_event(json.loads(line)))
            except ValueError as exc:
                raise ValueError(f"{path} line {lineno}: {exc}") from exc
    return events


def replay(events: Iterable[CallEvent], rules: Rules, *, analyzer: Analyzer | None = None,
           memory: list[CallMemory] | None = None, salt: str | None = None) -> list[Nudge]:
    """Every nudge of one call, in order. ``memory`` (a list) receives the final CallMemory;
    ``salt`` hashes the customer id (default: ``HEARTLINE_CUSTOMER_SALT``)."""
    analyze = analyzer or analyze_utterance
    salt = get_settings().customer_salt.get_secret_value() if salt is None else salt
    mem: CallMemory | None = None
    clock: datetime | None = None
    out: list[Nudge] = []
    gate = Gate()
    for event in events:
        if clock is not None and mem is not None:
            t = clock + TICK
            while t < event.ts:
                mem, nudges = tick(mem, t, rules)
                out += nudges
                t += TICK
        clock = event.ts if clock is None else max(clock, event.ts)
        if isinstance(event, Utterance):
            if gate.admit(event):  # what the live analyzer analyses (a redelivered final only once)
                mem, nudges = step(mem, analyze(event), clock, rules)
                out += nudges
            continue
        admitted = admit(event, salt)
        if admitted is not None:
            mem, nudges = step(mem, admitted, clock, rules)
            out += nudges
    if mem is not None and clock is not None:
        for i in range(1, TAIL_S + 1):
            mem, nudges = tick(mem, clock + i * TICK, rules)
            out += nudges
    if memory is not None and mem is not None:
        memory.append(mem)
    return out
