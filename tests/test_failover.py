"""Workers SIGKILLed under multi-call load: every nudge arrives, none twice.

Two analyzers and two nudgers share the load on a real broker (both
brokers). While calls stream in, one analyzer is killed with SIGKILL, and a
little later one nudger; each time the survivor takes the killed worker's
partitions over (the nudger's call memory from its changelog). Each call has
exactly one angry final utterance, so each must yield exactly one
acknowledge_emotion nudge on its agent's socket.
"""

from __future__ import annotations

import asyncio
import signal

import pytest

from tests.loadkit import count_on_topic, print_lost_hops, run_load

pytestmark = [pytest.mark.e2e, pytest.mark.brokers("embedded", "kafka")]

AGENTS = [f"a-{i:03d}" for i in range(200, 210)]
CALLS = 100
KILLS = {25: "analyzer-0", 60: "nudger-0"}  # call index -> the worker SIGKILLed when that call starts


def test_sigkill_an_analyzer_then_a_nudger_loses_no_nudge_and_shows_none_twice(own_stack):
    with own_stack("failover", analyzers=2, nudgers=2) as live:
        stack, settings = live.stack, live.settings

        def kill(name: str):
            proc = next(p for p in stack.procs if p.name == name)
            return lambda: stack.stop_proc(proc, sig=signal.SIGKILL)

        res = asyncio.run(run_load(live, AGENTS, CALLS, 0.25, hooks={i: kill(n) for i, n in KILLS.items()}))
        received, call_ids = res.nudges, res.call_ids
        pauses = {KILLS[i]: res.max_latency_between(t, t + 30) for i, t in res.hook_times.items()}
        on_topic = asyncio.run(count_on_topic(settings, settings.topics.nudges, set(call_ids)))
        analysed = asyncio.run(count_on_topic(settings, settings.topics.utterance_analysis, set(call_ids)))
        if res.missing:  # say which hop lost it
            print_lost_hops(settings, set(res.missing))
    print(
        f"\nnudges on the topic: {sum(on_topic.values())} for {len(on_topic)} calls; "
        f"analyses on the topic: {sum(analysed.values())} for {len(analysed)} calls"
    )
    missing = [c for c in call_ids if received.get(c, 0) == 0]
    doubled = {c: n for c, n in received.items() if n > 1}
    print(
        f"\nSIGKILLed {', '.join(KILLS.values())}; longest transcript delay after each (s): "
        f"{ {k: round(v, 1) for k, v in pauses.items()} }; {len(call_ids)} calls, "
        f"{sum(received.values())} nudges received, missing {len(missing)}, doubled {len(doubled)}"
    )
    assert not doubled, f"shown twice: {doubled}"
    assert not missing, f"lost nudges for {len(missing)} calls: {missing[:5]}"
