"""Soak: moderate load for a long while; memory (RSS) of every process at start and end.

    make soak                                   # 20 min, 8 concurrent calls
    .venv/bin/python -m bench.soak --minutes 8 --calls 8
    .venv/bin/python -m bench.soak --broker kafka --calls 500 --sample-s 30

Starts the whole stack exactly as ``heartline run`` does (the embedded broker,
or Apache Kafka with ``--broker kafka``; ingest, analyzer, nudger, recorder,
gateway, supervisor on), plays demo calls through ingest with the simulator,
and samples the RSS of each process every ``--sample-s`` seconds after a
warm-up; the slope (MB per minute, least squares over the samples) says
whether a process keeps growing. Writes the figures (JSON) to
``bench/results/soak-latest.json`` and prints a table. The embedded broker
keeps every record in memory (DESIGN.md): its growth per million events is
the figure that bounds how long a local stack can run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import re
import tempfile
import time
from pathlib import Path

import httpx
import psutil

from heartline.broker import free_port
from heartline.stack import Stack
from services.simulator.simulate import Simulator
from shared.config import Settings

RESULTS = Path(__file__).resolve().parent / "results" / "soak-latest.json"


def rss_mb(stack: Stack) -> dict[str, float]:
    out = {}
    pids = {p.name: p.popen.pid for p in stack.procs if p.popen and p.popen.poll() is None}
    if stack.broker and stack.broker.alive():
        pids["broker"] = stack.broker.proc.pid
    for name, pid in pids.items():
        try:
            out[name] = round(psutil.Process(pid).memory_info().rss / 2**20, 1)
        except psutil.Error:
            pass
    return out


def slopes(samples: list[dict]) -> dict[str, float]:
    """Per process, the least-squares slope of RSS over time (MB per minute)."""
    out = {}
    names = {n for s in samples for n in s["rss_mb"]}
    for name in sorted(names):
        pts = [(s["t_s"] / 60, s["rss_mb"][name]) for s in samples if name in s["rss_mb"]]
        if len(pts) < 2:
            continue
        mx = sum(x for x, _ in pts) / len(pts)
        my = sum(y for _, y in pts) / len(pts)
        var = sum((x - mx) ** 2 for x, _ in pts)
        out[name] = round(sum((x - mx) * (y - my) for x, y in pts) / var, 3) if var else 0.0
    return out


def counter(url: str, name: str) -> float:
    """Sum of one Prometheus counter's samples on a /metrics page."""
    try:
        text = httpx.get(f"{url}/metrics", timeout=5).text
    except httpx.HTTPError:
        return float("nan")
    return sum(float(m.group(1)) for m in re.finditer(rf"^{name}(?:{{[^}}]*}})? ([0-9.e+]+)$", text, re.M))


async def soak(stack: Stack, minutes: float, calls: int, warmup_s: float, sample_s: float) -> dict:
    sim = Simulator(stack.settings, calls=calls, duration=minutes * 60, target="ingest")
    samples: list[dict] = []
    t0 = time.monotonic()

    async def sampler() -> None:
        await asyncio.sleep(warmup_s)
        while True:
            samples.append(
                {
                    "t_s": round(time.monotonic() - t0),
                    "events_sent": sim.sent,
                    "rss_mb": await asyncio.to_thread(rss_mb, stack),
                }
            )
            print(f"  t={samples[-1]['t_s']:>5}s sent={sim.sent:>7} rss={samples[-1]['rss_mb']}", flush=True)
            await asyncio.sleep(sample_s)

    task = asyncio.create_task(sampler())
    await sim.run()
    task.cancel()
    samples.append({"t_s": round(time.monotonic() - t0), "events_sent": sim.sent, "rss_mb": rss_mb(stack)})
    return {
        "samples": samples,
        "events_sent": sim.sent,
        "errors": sim.errors,
        "retries": getattr(sim, "retries", None),
        "calls_started": sim.calls_started,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=20.0)
    ap.add_argument("--calls", type=int, default=8, help="concurrent calls")
    ap.add_argument("--warmup-s", type=float, default=30.0)
    ap.add_argument("--sample-s", type=float, default=60.0)
    ap.add_argument("--broker", default="embedded", choices=("embedded", "kafka"))
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="heartline-soak-"))
    settings = Settings(
        kafka=None,
        broker=args.broker,
        gateway_port=free_port(),
        ingest_port=free_port(),
        data_dir=data_dir,
        log_level="WARNING",
    )
    stack = Stack(settings, log_dir=data_dir / "logs")
    print(f"soak: {args.minutes:g} min, {args.calls} concurrent calls; logs in {stack.log_dir}", flush=True)
    stack.start(timeout=180)
    stack.supervise()
    try:
        result = asyncio.run(soak(stack, args.minutes, args.calls, args.warmup_s, args.sample_s))
        time.sleep(3)
        result["nudges"] = counter(next(p.url for p in stack.procs if p.name == "nudger-0"), "heartline_nudges_total")
        result["dlq"] = sum(counter(p.url, "heartline_dlq_total") for p in stack.procs if p.url)
        result["supervisor_events"] = stack.events
    finally:
        stack.stop()
    first, last = result["samples"][0], result["samples"][-1]
    span_events = max(1, last["events_sent"] - first["events_sent"])
    growth = {name: round(last["rss_mb"].get(name, 0) - mb, 1) for name, mb in first["rss_mb"].items()}
    result.update(
        {
            "minutes": args.minutes,
            "calls": args.calls,
            "machine": f"{platform.node()} {psutil.cpu_count()} cpus",
            "broker": args.broker,
            "rss_growth_mb": growth,
            "rss_slope_mb_per_min": slopes(result["samples"]),
            "broker_mb_per_million_events": round(growth.get("broker", 0) / span_events * 1e6, 1),
            "note": "RSS after warm-up vs at the end; the box is shared with other test runs",
        }
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"\n{'process':<12} {'start MB':>9} {'end MB':>9} {'growth':>8} {'MB/min':>8}")
    for name, mb in first["rss_mb"].items():
        end, slope = last["rss_mb"].get(name, float("nan")), result["rss_slope_mb_per_min"].get(name, float("nan"))
        print(f"{name:<12} {mb:>9.1f} {end:>9.1f} {growth[name]:>+8.1f} {slope:>+8.2f}")
    print(
        f"events sent {result['events_sent']}, errors {result['errors']}, nudges {result['nudges']}, "
        f"broker growth {result['broker_mb_per_million_events']} MB per million events; wrote {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
