"""Short load run: a few hundred concurrent calls, one real socket per agent.

The benchmark's own step (bench/e2e.py ``run_step``): the Simulator plays the
scenario library through ingest while one websocket per agent and one
supervisor wall receive nudges; afterwards each call's events, as actually
sent, are replayed offline (services/nudger/replay.py) for the nudges it must
yield. It fails only on lost or duplicated nudges — an immediate,
content-triggered nudge (privacy, compliance, politeness, interruption,
escalation) the replay expects that never reached its socket, or one
nudge_id received twice on one socket — and never on timing: latency is
printed, not asserted (the box is shared and noisy).

Sized for the embedded broker on a busy 2-core machine: 200 calls and
sockets, played at 0.3x speed (~160 events/s, what 60 real-time calls send).
The nudger is the ceiling (docs/benchmark.md: one changelog record per event,
one record per batch); a nudger far behind runs its cooldowns on a compressed
clock and may legitimately differ from the replay, so the test stays below
that. ``HEARTLINE_LOAD_CALLS`` / ``_SECONDS`` / ``_SPEED`` change the size.
"""

from __future__ import annotations

import os

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(400)]

CALLS = int(os.environ.get("HEARTLINE_LOAD_CALLS", "200"))
SECONDS = float(os.environ.get("HEARTLINE_LOAD_SECONDS", "40"))
SPEED = float(os.environ.get("HEARTLINE_LOAD_SPEED", "0.5"))


def test_few_hundred_calls_lose_and_double_no_nudge(own_stack, broker):
    from bench.e2e import IMMEDIATE, details, run_step, table

    with own_stack("load", recorder=False, settings={"log_level": "WARNING"}) as live:
        # drain_max_s: however slow the box, every queued record gets through before counting
        step = run_step(
            live.stack, CALLS, duration=SECONDS, warmup=5.0, speed=SPEED, wall=True, end_delay_s=2.0, drain_max_s=240.0
        )
    step["broker"] = broker.kind
    print()
    print(table([step]))
    print(details(step))
    n = step["nudges"]
    assert step["lag"]["drained"], f"workers never caught up within the drain: {step['lag']['end_of_window']}"
    assert n["immediate_expected"] > 0, "the run produced no immediate nudge to check"
    assert not n["duplicates"], f"nudge shown twice on one socket: {n['duplicates'][:10]}"
    assert not n["lost"], (
        f"{len(n['lost'])} immediate nudges ({', '.join(IMMEDIATE)}) expected by the replay "
        f"never reached a socket: {n['lost'][:10]}"
    )
