"""Scale out under load: add analyzer and nudger processes, then stop one.

Partitions rebalance onto the new processes, every call still gets exactly
one nudge on its agent's socket across both rebalances, and a stopped worker
hands its partitions back. Prints the longest pause seen (the slowest
transcript line around each rebalance).
"""

from __future__ import annotations

import asyncio
import signal
import time

import httpx
import pytest

from tests.loadkit import print_lost_hops, run_load

pytestmark = pytest.mark.e2e

AGENTS = [f"a-{i:03d}" for i in range(600, 610)]
CALLS = 90


def _partitions(proc) -> set[str]:
    body = httpx.get(f"{proc.url}/readyz", timeout=5).json()
    return {p for p in body.get("partitions", []) if "stt-events" in p or "utterance-analysis" in p}


def _settled_workers(stack, partitions: int, timeout: float = 30.0) -> dict[str, set[str]]:
    """The live workers' partitions once the last rebalance has settled: every live analyzer
    owns some of stt-events and together all of it (asked on /readyz until then)."""
    deadline = time.monotonic() + timeout
    while True:
        workers = {
            p.name: _partitions(p)
            for p in stack.procs
            if p.popen.poll() is None and p.name.split("-")[0] in ("analyzer", "nudger")
        }
        analyzers = [v for k, v in workers.items() if k.startswith("analyzer")]
        if (all(analyzers) and len(set().union(*analyzers)) == partitions) or time.monotonic() > deadline:
            return workers
        time.sleep(0.2)


def test_adding_and_removing_workers_rebalances_without_losing_a_nudge(own_stack):
    added = []
    with own_stack("scale-out", analyzers=1, nudgers=1) as live:
        stack, settings = live.stack, live.settings

        def add_workers():
            for kind in ("analyzer", "nudger"):
                index = sum(p.name.startswith(kind) for p in stack.procs)
                added.append(stack.add_worker(kind, index))

        def stop_last():
            for proc in added[-2:]:
                stack.stop_proc(proc, sig=signal.SIGTERM)

        res = asyncio.run(run_load(live, AGENTS, CALLS, 0.25, hooks={20: add_workers, 45: add_workers, 70: stop_last}))
        stack.wait_ready(60, procs=[p for p in stack.procs if p.popen.poll() is None])
        workers = _settled_workers(stack, settings.partitions)
        if res.missing:  # say which hop lost it
            print_lost_hops(settings, set(res.missing))
    pauses = {i: res.max_latency_between(t, t + 20) for i, t in res.hook_times.items()}
    print(
        f"\nlongest transcript delay after each change (s): {pauses}; workers at the end: "
        f"{ {k: len(v) for k, v in workers.items()} }"
    )
    assert not res.doubled, f"shown twice: {res.doubled}"
    assert not res.missing, f"lost nudges for {len(res.missing)} calls"
    # the two remaining analyzers share stt-events; the stopped one handed its partitions back
    analyzers = [v for k, v in workers.items() if k.startswith("analyzer")]
    assert len(analyzers) == 2 and all(analyzers)
    assert len(set().union(*analyzers)) == settings.partitions
