"""Nudger hot path: cost of one engine step per input record, as the worker runs it.

    python bench/nudger_bench.py [--rounds 3] [--out bench/results/nudger-<date>.json]

The worker does, per record: load the call's memory from its table
(``CallMemory.model_validate``), ``engine.step``, store it back
(``model_dump(mode="json")``); and once a second per live call ``engine.tick``.
This replays the whole scenario library (analyses precomputed, so the analyzer
is not timed) through exactly that loop and reports µs per record for the
engine alone and for engine + memory round trip. Best of ``--rounds``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.analyzer.analysis import analyze_utterance  # noqa: E402
from services.nudger.engine import CallMemory, step, tick  # noqa: E402
from services.nudger.replay import load_jsonl  # noqa: E402
from services.nudger.rules import load_rules  # noqa: E402
from shared.schemas import Utterance  # noqa: E402


def records() -> list[list]:
    """Per call: the items the worker would see, in order (events, then each utterance's analysis)."""
    calls = []
    for path in sorted(
        Path(os.environ.get("HEARTLINE_BENCH_SCENARIOS", ROOT / "services/simulator/scenarios")).glob("*.jsonl")
    ):
        items = []
        for ev in load_jsonl(path):
            if not (isinstance(ev, Utterance) and ev.is_final):
                items.append(ev)
            if isinstance(ev, Utterance):
                items.append(analyze_utterance(ev))
        calls.append(items)
    return calls


def run(calls, rules, round_trip: bool) -> tuple[int, float]:
    n = 0
    started = time.process_time()
    for items in calls:
        stored = None
        last = None
        for item in items:
            mem = CallMemory.model_validate(stored) if (round_trip and stored is not None) else last
            if last is not None and item.ts - last.state.last_update_ts >= timedelta(seconds=1):
                mem, _ = tick(mem, item.ts, rules)
            mem, _ = step(mem, item, item.ts, rules)
            if round_trip:
                stored = mem.model_dump(mode="json")
            last = mem
            n += 1
    return n, time.process_time() - started


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "bench/results" / f"nudger-{time.strftime('%Y-%m-%d')}.json"))
    args = ap.parse_args(argv)
    rules = load_rules(ROOT / "rules/default.yaml")
    calls = records()
    result = {"python": platform.python_version(), "calls": len(calls)}
    for label, rt in (("engine", False), ("engine+memory", True)):
        best = min(run(calls, rules, rt)[1] for _ in range(args.rounds))
        n = sum(len(c) for c in calls)
        result[label] = {"records": n, "us_per_record": round(best / n * 1e6, 1)}
        print(f"{label:<14} {n} records  {best / n * 1e6:8.1f} µs/record")
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
