"""Replay one call offline through analysis and the nudge engine, deterministically.

The engine is driven exactly as the live worker drives it, but with the
events' own time as the clock: the utterances the live analyzer analyses
(``services.analyzer.gate``: every final once, a segment's partials at most
once per second of its speech) are analysed — the analyzer's code, so its
redaction — and their analyses stepped; lifecycle events are admitted as the
live nudger admits them (``intake.admit``: the customer id hashed) and
stepped; raw utterances never reach the engine (the live nudger does not
read them). The clock is the live nudger's (``clock.feed``): ticks at 1 s
steps of event time between the records the nudger sees, and for a few
seconds after the last one. ``created_ts`` of a nudge is that clock, so the
output is the same on every run, and no reason quotes unredacted text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path

from services.analyzer.analysis import analyze_utterance
from services.analyzer.gate import Gate
from services.nudger.clock import TICK_S, catch_up, feed
from services.nudger.intake import admit
from services.nudger.memory import CallMemory
from services.nudger.rules import Rules
from shared.config import get_settings
from shared.schemas import CallEvent, Nudge, Utterance, UtteranceAnalysis, parse_event

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


def replay(
    events: Iterable[CallEvent],
    rules: Rules,
    *,
    analyzer: Analyzer | None = None,
    memory: list[CallMemory] | None = None,
    salt: str | None = None,
) -> list[Nudge]:
    """Every nudge of one call, in order. ``memory`` (a list) receives the final CallMemory;
    ``salt`` hashes the customer id (default: ``HEARTLINE_CUSTOMER_SALT``)."""
    analyze = analyzer or analyze_utterance
    salt = get_settings().customer_salt.get_secret_value() if salt is None else salt
    mem: CallMemory | None = None
    out: list[Nudge] = []
    gate = Gate()
    for event in events:
        item: UtteranceAnalysis | CallEvent | None
        if isinstance(event, Utterance):
            # what the live analyzer analyses (a redelivered final only once); the rest never
            # reaches the nudger, not even as time
            item = analyze(event) if gate.admit(event) else None
        else:
            item = admit(event, salt)
        if item is None:
            continue
        mem, nudges = feed(mem, item, rules)
        out += nudges
    if mem is not None and mem.clock is not None:
        out += catch_up(mem, mem.clock + TAIL_S + TICK_S / 2, rules)
    if memory is not None and mem is not None:
        memory.append(mem)
    return out
