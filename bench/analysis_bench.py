"""Speed of Heartline's utterance analysis vs raw snownlp, in one run.

    python bench/analysis_bench.py [--rounds 3] [--snow-limit 400]

Texts: the labeled eval set (tests/data/eval_utterances.jsonl). Measures, on
one core (this process, single thread):

* ``finals_uncached`` — ``analyze_text(text, speaker)`` with the LRU cache
  bypassed (every text made unique), the honest per-utterance cost;
* ``finals_cached`` — repeated texts served by the LRU cache;
* ``partials`` — ``analyze_text(..., partial=True)``, cache bypassed;
* ``snownlp_raw`` — ``SnowNLP(text).sentiments`` on the same texts.

Prints utterances/s and writes bench/results/analysis-<date>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from snownlp import SnowNLP  # noqa: E402

from services.analyzer import analysis  # noqa: E402


def rate(fn, items) -> tuple[float, float]:
    t0 = time.perf_counter()
    for item in items:
        fn(item)
    elapsed = time.perf_counter() - t0
    return len(items) / elapsed, elapsed / len(items) * 1e6


def best(fn, items, rounds: int) -> dict:
    runs = [rate(fn, items) for _ in range(rounds)]
    per_s, us = max(runs)
    return {"utterances_per_s": round(per_s, 1), "us_per_utterance": round(us, 1), "n": len(items), "rounds": rounds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Heartline analysis speed bench")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--snow-limit", type=int, default=430, help="texts timed for raw snownlp")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)

    with (ROOT / "tests/data/eval_utterances.jsonl").open(encoding="utf-8") as fh:
        items = [json.loads(line) for line in fh if line.strip()]
    texts = [(i["text"], i["speaker"]) for i in items]
    analysis.analyze_text("预热")  # load models once, outside the timings

    counter = [0]

    def unique(pair, partial=False):
        counter[0] += 1
        # Bypass the LRU cache: a trailing marker the analysis ignores.
        return analysis._analyze(pair[0] + "#" + str(counter[0]), pair[1], partial)

    finals = best(lambda p: unique(p), texts, args.rounds)
    partials = best(lambda p: unique(p, True), texts, args.rounds)
    for pair in texts:
        analysis.analyze_text(*pair)
    cached = best(lambda p: analysis.analyze_text(p[0], p[1]), texts, args.rounds)
    snow_texts = texts[: args.snow_limit]
    snow = best(lambda p: SnowNLP(p[0]).sentiments, snow_texts, 1)
    ours_same = best(lambda p: unique(p), snow_texts, args.rounds)

    speedup = round(ours_same["utterances_per_s"] / snow["utterances_per_s"], 1)
    cpu = platform.processor() or platform.machine()
    report = {
        "ts": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "python": platform.python_version(),
        "cpu": cpu,
        "cores_visible": os.cpu_count(),
        "texts": len(texts),
        "avg_chars": round(sum(len(t) for t, _ in texts) / len(texts), 1),
        "finals_uncached": finals,
        "finals_cached": cached,
        "partials": partials,
        "snownlp_raw": snow,
        "speedup_finals_vs_snownlp": speedup,
    }
    print(f"texts: {len(texts)} (avg {report['avg_chars']} chars), one core, best of {args.rounds}")
    print(f"{'path':<26}{'utt/s':>12}{'us/utt':>10}")
    for name in ("finals_uncached", "finals_cached", "partials", "snownlp_raw"):
        r = report[name]
        print(f"{name:<26}{r['utterances_per_s']:>12,.0f}{r['us_per_utterance']:>10.1f}")
    print(f"finals vs SnowNLP(text).sentiments on the same texts: {speedup}x")
    out = Path(args.out) if args.out else ROOT / "bench/results" / f"analysis-{time.strftime('%Y-%m-%d')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
