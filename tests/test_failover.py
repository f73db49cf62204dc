"""A worker SIGKILLed under multi-call load: every nudge arrives, none twice.

Two analyzers and two nudgers share the load on the real embedded broker. One
of them is killed with SIGKILL while calls stream in; the survivor takes its
partitions over. Each call has exactly one angry final utterance, so each must
yield exactly one acknowledge_emotion nudge on its agent's socket.
"""

from __future__ import annotations

import asyncio
import signal

import pytest

from heartline.stack import Stack
from tests.conftest import LOGS, LiveStack, make_settings
from tests.loadkit import count_on_topic, run_load

pytestmark = [pytest.mark.e2e, pytest.mark.brokers("embedded", "kafka")]

AGENTS = [f"a-{i:03d}" for i in range(200, 210)]
CALLS = 80


@pytest.mark.parametrize("victim", ["nudger", "analyzer"])
def test_sigkill_a_worker_loses_no_nudge_and_shows_none_twice(broker, victim):
    settings = make_settings(broker)
    stack = Stack(settings, analyzers=2, nudgers=2, log_dir=LOGS / f"failover-{victim}")
    stack.start(timeout=120)
    live = LiveStack(stack)
    try:
        target = next(p for p in stack.procs if p.name == f"{victim}-0")
        res = asyncio.run(
            run_load(live, AGENTS, CALLS, 0.25, hooks={CALLS // 3: lambda: stack.stop_proc(target, sig=signal.SIGKILL)})
        )
        received, call_ids = res.nudges, res.call_ids
        killed_at = res.hook_times[CALLS // 3]
        pause = res.max_latency_between(killed_at, killed_at + 30)
        on_topic = asyncio.run(count_on_topic(settings, settings.topics.nudges, set(call_ids)))
        analysed = asyncio.run(count_on_topic(settings, settings.topics.utterance_analysis, set(call_ids)))
        if res.missing:  # say which hop lost it
            lost = set(res.missing)
            for topic in (
                settings.topics.stt_events,
                settings.topics.utterance_analysis,
                settings.topics.call_state,
                settings.topics.nudges,
            ):
                recs: list = []
                asyncio.run(count_on_topic(settings, topic, lost, recs, any_type=True))
                for rec in recs:
                    print(
                        "LOST",
                        topic.split("-", 1)[1],
                        {
                            k: rec.get(k)
                            for k in (
                                "call_id",
                                "type",
                                "seq",
                                "speaker",
                                "emotion",
                                "emotion_score",
                                "agent_id",
                                "nudges_sent",
                                "ingest_ts",
                                "analyzed_ts",
                                "created_ts",
                                "last_update_ts",
                            )
                        },
                    )
    finally:
        stack.stop()
    print(
        f"\nnudges on the topic: {sum(on_topic.values())} for {len(on_topic)} calls; "
        f"analyses on the topic: {sum(analysed.values())} for {len(analysed)} calls"
    )
    missing = [c for c in call_ids if received.get(c, 0) == 0]

    doubled = {c: n for c, n in received.items() if n > 1}
    print(
        f"\n{victim} SIGKILLed; longest transcript delay after it {pause:.1f}s; {len(call_ids)} calls, "
        f"{sum(received.values())} nudges received, missing {len(missing)}, doubled {len(doubled)}"
    )
    assert not doubled, f"shown twice: {doubled}"
    assert not missing, f"lost nudges for {len(missing)} calls: {missing[:5]}"
