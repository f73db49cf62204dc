"""Replay one call offline through analysis and the nudge engine, deterministically.

The engine is driven exactly as the live worker drives it, but with the
events' own time as the clock: each utterance (partial or final) is analysed
— the analyzer's code, so its redaction — and its analysis stepped; each event
is admitted as the live nudger admits it (``intake.admit``: raw finals
dropped, raw partials reduced to their timing, the customer id hashed) and
stepped; ``tick`` is called at 1 s steps of event time between events and for
a few seconds after the last one. ``created_ts`` of a nudge is that clock, so
the output is the same on every run, and no reason quotes unredacted text.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Iterable

from shared.config import get_settings
from shared.schemas import CallEvent, Nudge, Utterance, UtteranceAnalysis, parse_event
from services.analyzer.analysis import analyze_utterance
from services.nudger.engine import step, tick
from services.nudger.intake import admit
from services.nudger.memory import CallMemory
from services.nudger.rules import Rules

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
    analysed: set[int] = set()
    for event in events:
        if clock is not None and mem is not None:
            t = clock + TICK
            while t < event.ts:
                mem, nudges = tick(mem, t, rules)
                out += nudges
                t += TICK
        clock = event.ts if clock is None else max(clock, event.ts)
        admitted = admit(event, salt)
        if admitted is not None:
            mem, nudges = step(mem, admitted, clock, rules)
            out += nudges
        if isinstance(event, Utterance):
            if event.is_final and event.seq in analysed:
                continue  # the analyzer drops a redelivered final too
            if event.is_final:
                analysed.add(event.seq)
            mem, nudges = step(mem, analyze(event), clock, rules)
            out += nudges
    if mem is not None and clock is not None:
        for i in range(1, TAIL_S + 1):
            mem, nudges = tick(mem, clock + i * TICK, rules)
            out += nudges
    if memory is not None and mem is not None:
        memory.append(mem)
    return out
