"""Event time: a call's nudges do not depend on when the nudger reads its records.

The worker's clock (services/nudger/clock.py) is driven here as the nudger
worker drives it — the records the analyzer writes for a call, in order, each
applied with ``feed``; between reads a timer calls ``due`` with the partition's
watermark — under different reading schedules: real time, the whole call read
in one burst after a 30 s backlog, and a steady 20 s upstream lag with ingest
delays that jitter. Every schedule must yield exactly the nudges ``heartline
replay`` yields for the same events, graced and timer nudges included.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from services.analyzer.analysis import analyze_utterance
from services.analyzer.gate import Gate
from services.nudger.clock import IDLE_S, MARGIN_S, Watermarks, due, feed, ingest_epoch
from services.nudger.intake import admit
from services.nudger.replay import replay
from services.nudger.rules import load_rules
from services.simulator.simulate import load_scenarios
from shared.config import get_settings
from shared.schemas import Utterance, parse_event

UA, CE = "utterance-analysis", "call-events"
SALT = "s" * 32
TIMER_S = 0.5


@pytest.fixture(scope="module")
def rules():
    return load_rules(get_settings().rules)


@pytest.fixture(scope="module")
def calls():
    return {name: [parse_event(e) for e in evs] for name, evs in load_scenarios().items()}


def nudger_inputs(events, delays):
    """(topic, record) as the analyzer writes them for the nudger, each event stamped with ingest_ts."""
    gate, out = Gate(), []
    for event, delay in zip(events, delays, strict=True):
        event = event.model_copy(update={"ingest_ts": event.ts + timedelta(seconds=delay)})
        if isinstance(event, Utterance):
            if gate.admit(event):
                out.append((UA, analyze_utterance(event)))
        elif (item := admit(event, SALT)) is not None:
            out.append((CE, item))
    return out


def live(inputs, rules, read_at, backlog_until: float) -> list[str]:
    """The worker's loop: read each record at ``read_at[i]`` (wall), a timer every TIMER_S in
    between; until ``backlog_until`` records are waiting (not caught up)."""
    marks = Watermarks((UA, CE), read_at[0] - 10)
    mem, out, timer = None, [], read_at[0]

    def caught_up(topic, partition, position):
        return clock_now[0] >= backlog_until

    clock_now = [read_at[0]]

    def timers_until(t: float) -> None:
        nonlocal timer
        while timer < t:
            clock_now[0] = timer
            if mem is not None:
                out.extend(due(mem, marks.now(0, timer, caught_up), rules))
            timer += TIMER_S

    for i, ((topic, item), r) in enumerate(zip(inputs, read_at, strict=True)):
        timers_until(r)
        clock_now[0] = r
        marks.saw(topic, 0, ingest_epoch(item), i, r)
        mem, nudges = feed(mem, item, rules)
        out.extend(nudges)
    timers_until(read_at[-1] + 20)
    return [n.nudge_id for n in out]


def schedules(inputs, rng):
    ingest = [ingest_epoch(item) for _, item in inputs]
    realtime = [t + 0.005 for t in ingest]
    end = max(ingest)
    burst = [end + 30 + i * 1e-4 for i in range(len(inputs))]
    lagged = []
    for t in ingest:
        lagged.append(max(lagged[-1] if lagged else 0.0, t + 20))
    return {
        "real time": (realtime, 0.0),
        "30 s backlog read in one burst": (burst, burst[-1]),
        "20 s upstream lag": (lagged, 0.0),
    }


def test_margin_and_idle_are_small():
    assert 0 < MARGIN_S <= 1 and 0 < IDLE_S <= 1


@pytest.mark.parametrize("jitter", [0.0, 0.2])
def test_every_reading_schedule_yields_the_replays_nudges(calls, rules, jitter):
    rng = random.Random(7)
    checked = 0
    for name, events in calls.items():
        delays = [0.02 + rng.uniform(0, jitter) for _ in events]
        inputs = nudger_inputs(events, delays)
        if not inputs:
            continue
        expected = [
            n.nudge_id
            for n in replay(
                [
                    e.model_copy(update={"ingest_ts": e.ts + timedelta(seconds=d)})
                    for e, d in zip(events, delays, strict=True)
                ],
                rules,
                salt=SALT,
            )
        ]
        for label, (read_at, backlog_until) in schedules(inputs, rng).items():
            got = live(inputs, rules, read_at, backlog_until)
            assert sorted(got) == sorted(expected), f"{name}, {label}: live {sorted(got)} vs replay {sorted(expected)}"
        checked += 1
    assert checked >= 30
