"""CPU cost per event of each process of the live path, at one fixed load.

    make bench-cost                                   # Apache Kafka, 100 calls, 20 s
    .venv/bin/python -m bench.cost --broker embedded --calls 100 --duration 20 --profile

Starts the whole stack on one broker (as ``make bench`` does), drives
``--calls`` concurrent calls with the benchmark's load generator for one step
(``bench.e2e.run_step``: warm-up, measured window, drain, offline replay),
and turns each process's CPU time in the window (psutil ``cpu_times``,
children included) into **CPU µs per ingested event** (CPU seconds ÷ events
posted to ingest in the window; the rows add up to what one event costs the
box) and **CPU µs per record in** (÷ the records that service consumed, from
its own ``heartline_events_in_total``). CPU time is what a process spent,
whoever else shares the cores, so the table is far steadier than latency on a
busy machine. When a worker lags, its µs/event is understated (it handled
fewer records than were sent): read its µs/record then.

``--profile`` also samples every service with py-spy (``--nonblocking``, so
the process is never paused) during the measured window and prints each
one's top functions by own time; the raw collapsed stacks go to
``.heartline/profiles/<process>.txt`` (``flamegraph.pl`` or speedscope read
them). py-spy's own CPU is not counted against the services, but it shares
the cores: use the table of a run without ``--profile`` for the numbers.

Writes ``bench/results/cost-<date>.json`` (the table, RSS per process, the
step's full numbers and, with ``--profile``, the top functions).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PROFILES = ROOT / ".heartline" / "profiles"
PY_SPY = Path(sys.executable).with_name("py-spy")
# The services, in the order of the path an event takes; then the broker and the load.
ORDER = (
    "ingest",
    "analyzer",
    "nudger",
    "gateway",
    "recorder",
    "broker",
    "loadgen-simulator",
    "loadgen-sockets",
    "bench",
)
SERVICES = ("ingest", "analyzer", "nudger", "gateway", "recorder")


def _rank(name: str) -> tuple[int, str]:
    base = name.split("-")[0] if not name.startswith("loadgen") else name
    return (ORDER.index(base) if base in ORDER else len(ORDER), name)


class Window:
    """CPU time and records handled per process over one measured window.

    Opened ``delay`` s after ``arm`` (when the load generator's warm-up is over) and
    closed ``duration`` s later, on a thread of its own, so it sees what run_step's
    window sees. Each service's records in and out come from its own /metrics."""

    def __init__(self, stack, duration: float):
        self.stack, self.duration = stack, duration
        self.result: dict | None = None
        self._thread: threading.Thread | None = None

    def arm(self, delay: float) -> None:
        self._thread = threading.Thread(target=self._run, args=(delay,), daemon=True)
        self._thread.start()

    def join(self) -> dict | None:
        if self._thread:
            self._thread.join(self.duration + 60)
        return self.result

    def _pids(self) -> tuple[dict[str, int], dict[str, str]]:
        import psutil

        pids = {p.name: p.popen.pid for p in self.stack.procs if p.popen and p.popen.poll() is None}
        urls = {p.name: f"{p.url}/metrics" for p in self.stack.procs if p.url and p.name in pids}
        if self.stack.broker and self.stack.broker.proc:
            pids["broker"] = self.stack.broker.proc.pid
        # the load generator: run_step's two spawned processes (sockets first, then the simulator)
        spawned = [
            c
            for c in psutil.Process().children()
            if "spawn_main" in " ".join(c.cmdline()) and "resource_tracker" not in " ".join(c.cmdline())
        ]
        spawned.sort(key=lambda c: c.create_time())
        for name, proc in zip(("loadgen-sockets", "loadgen-simulator"), spawned, strict=False):
            pids[name] = proc.pid
        pids["bench"] = os.getpid()
        return pids, urls

    def _run(self, delay: float) -> None:
        from bench.stats import ProcWatch, scrape

        time.sleep(delay)
        pids, urls = self._pids()
        watch = ProcWatch(pids, own_only={"bench"})
        m0 = {n: scrape([u]) for n, u in urls.items()}
        t0 = time.time()
        watch.start(t0)
        while time.time() < t0 + self.duration:
            time.sleep(min(2.0, t0 + self.duration - time.time()))
            watch.sample()
        t1 = time.time()
        procs = watch.stop(t1)
        m1 = {n: scrape([u]) for n, u in urls.items()}
        self.result = {
            "window": [t0, t1],
            "processes": procs,
            "records_in": {n: _count(m1[n], m0[n], "heartline_events_in_total") for n in urls},
            "records_out": {n: _count(m1[n], m0[n], "heartline_events_out_total") for n in urls},
        }


def _count(m1: dict, m0: dict, name: str) -> float:
    from bench.stats import total

    return total(m1, name) - total(m0, name)


def cost_table(win: dict) -> tuple[list[dict], dict]:
    """One row per process: CPU % of a core, CPU µs per ingested event and per record it read, RSS."""
    t0, t1 = win["window"]
    window = t1 - t0
    events = win["records_in"].get("ingest", 0.0)  # events posted to ingest in the window
    rows = []
    for name, p in sorted(
        ((n, p) for n, p in win["processes"].items() if not n.startswith("_")), key=lambda kv: _rank(kv[0])
    ):
        cpu_s = p["cpu_pct"] / 100 * window
        rec_in = win["records_in"].get(name)
        rows.append(
            {
                "process": name,
                "cpu_pct": p["cpu_pct"],
                "us_per_event": round(cpu_s / events * 1e6, 1) if events else None,
                "records_in_per_s": round(rec_in / window, 1) if rec_in is not None else None,
                "us_per_record_in": round(cpu_s / rec_in * 1e6, 1) if rec_in else None,
                "rss_mb": p["rss_mb"],
                "rss_peak_mb": p["rss_peak_mb"],
            }
        )
    return rows, {
        "window_s": round(window, 1),
        "events": events,
        "events_per_s": round(events / window, 1),
        "machine": win["processes"]["_machine"],
    }


def _num(v, fmt: str) -> str:
    return "-" if v is None else format(v, fmt)


def print_table(rows: list[dict], info: dict) -> str:
    services = [r for r in rows if r["process"].split("-")[0] in SERVICES]
    pipeline = [r for r in rows if not r["process"].startswith(("loadgen", "bench"))]
    head = f"{'process':<18} {'cpu % core':>10} {'µs/event':>9} {'records in/s':>12} {'µs/record':>10} {'RSS MB':>7}"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['process']:<18} {r['cpu_pct']:>10.1f} {_num(r['us_per_event'], '.0f'):>9} "
            f"{_num(r['records_in_per_s'], '.0f'):>12} {_num(r['us_per_record_in'], '.0f'):>10} "
            f"{r['rss_mb']:>7.0f}"
        )
    lines.append("-" * len(head))
    for label, part in (("services", services), ("services + broker", pipeline)):
        lines.append(
            f"{label:<18} {sum(r['cpu_pct'] for r in part):>10.1f} "
            f"{sum(r['us_per_event'] or 0 for r in part):>9.0f} {'':>12} {'':>10} "
            f"{sum(r['rss_mb'] for r in part):>7.0f}"
        )
    m = info["machine"]
    lines.append(
        f"{info['events_per_s']:.0f} events/s over {info['window_s']:.0f} s; machine {m['cpu_pct']:.0f} % "
        f"of {m['cores']}00 % (not ours {m['not_ours_pct']:.0f} %)"
    )
    return "\n".join(lines)


def markdown(rows: list[dict]) -> str:
    out = [
        "| process | CPU % of a core | CPU µs / event | records in / s | CPU µs / record in | RSS MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        out.append(
            f"| {r['process']} | {r['cpu_pct']:.0f} | {_num(r['us_per_event'], '.0f')} | "
            f"{_num(r['records_in_per_s'], '.0f')} | {_num(r['us_per_record_in'], '.0f')} | {r['rss_mb']:.0f} |"
        )
    pipe = [r for r in rows if not r["process"].startswith(("loadgen", "bench"))]
    out.append(
        f"| **services + broker** | **{sum(r['cpu_pct'] for r in pipe):.0f}** | "
        f"**{sum(r['us_per_event'] or 0 for r in pipe):.0f}** | | | **{sum(r['rss_mb'] for r in pipe):.0f}** |"
    )
    return "\n".join(out)


# --------------------------------------------------------------------------- profiles


class Profiler:
    """py-spy on every service during the measured window (started ``delay`` s from ``arm``)."""

    def __init__(self, pids: dict[str, int], out: Path, duration: float, rate: int = 50):
        self.pids, self.out, self.duration, self.rate = pids, out, duration, rate
        self.files: dict[str, Path] = {}
        self.procs: list[subprocess.Popen] = []
        self._timer: threading.Timer | None = None

    def arm(self, delay: float) -> None:
        self._timer = threading.Timer(delay, self._start)
        self._timer.daemon = True
        self._timer.start()

    def _start(self) -> None:
        for name, pid in self.pids.items():
            path = self.out / f"{name}.txt"
            self.files[name] = path
            self.procs.append(
                subprocess.Popen(
                    [
                        str(PY_SPY),
                        "record",
                        "--pid",
                        str(pid),
                        "--duration",
                        str(int(self.duration)),
                        "--rate",
                        str(self.rate),
                        "--nonblocking",
                        "--format",
                        "raw",
                        "--output",
                        str(path),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )

    def wait(self) -> None:
        if self._timer:
            self._timer.join()
        for p in self.procs:
            try:
                p.wait(self.duration + 30)
            except subprocess.TimeoutExpired:
                p.kill()

    def top(self, n: int = 12) -> dict[str, dict]:
        return {name: top_functions(path, n) for name, path in self.files.items() if path.exists()}


def top_functions(path: Path, n: int = 12) -> dict:
    """Own-time and total-time shares per function from py-spy's collapsed stacks."""
    own, incl, samples = Counter(), Counter(), 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        c = int(count)
        frames = [_short(f) for f in stack.split(";")]
        samples += c
        own[frames[-1]] += c
        for f in set(frames):
            incl[f] += c
    pct = lambda k: round(100 * k / samples, 1) if samples else 0.0  # noqa: E731
    return {
        "samples": samples,
        "own": [(f, pct(k)) for f, k in own.most_common(n)],
        "total": [(f, pct(k)) for f, k in incl.most_common(3 * n) if not f.startswith(("<module>", "run ("))][:n],
    }


def _short(frame: str) -> str:
    """``fn (/long/path/site-packages/pkg/mod.py:12)`` -> ``fn (pkg/mod.py)``."""
    fn, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/work/main/", "python3.11/"):
        if marker in where:
            where = where.split(marker, 1)[1]
            break
    return f"{fn} ({where})"


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--broker", default="kafka", choices=("kafka", "embedded"))
    ap.add_argument("--calls", type=int, default=100)
    ap.add_argument("--duration", type=float, default=20.0, help="measured seconds (default 20)")
    ap.add_argument("--warmup", type=float, default=10.0)
    ap.add_argument("--analyzers", type=int, default=1)
    ap.add_argument("--nudgers", type=int, default=1)
    ap.add_argument("--profile", action="store_true", help="py-spy every service during the window")
    ap.add_argument("--label", default="", help="a note stored with the result (e.g. the change measured)")
    ap.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="HEARTLINE_X=V",
        help="extra environment for every service (repeatable), e.g. HEARTLINE_PRODUCER_LINGER_MS=5",
    )
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)

    from bench.e2e import bench_stack, run_step

    stack = bench_stack(
        f"cost-{args.broker}",
        args.broker,
        analyzers=args.analyzers,
        nudgers=args.nudgers,
        recorder=True,
        extra_env=dict(kv.split("=", 1) for kv in args.env),
    )
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"cost-{date.today().isoformat()}"
    started = datetime.now()
    print(
        f"Heartline cost per event on {args.broker}: {args.calls} calls, {args.duration:.0f} s after "
        f"{args.warmup:.0f} s warm-up, {args.analyzers} analyzer(s), {args.nudgers} nudger(s); "
        f"load average {os.getloadavg()}",
        flush=True,
    )
    profiler = None
    window = Window(stack, args.duration)
    try:
        stack.start(timeout=180)
        if args.profile:
            if not PY_SPY.exists():
                print(f"--profile needs py-spy ({PY_SPY}): .venv/bin/pip install py-spy", file=sys.stderr)
                return 2
            pids = {p.name: p.popen.pid for p in stack.procs if p.popen and p.popen.poll() is None}
            shutil.rmtree(PROFILES, ignore_errors=True)
            PROFILES.mkdir(parents=True)
            profiler = Profiler(pids, PROFILES, args.duration)

        def log(msg: str) -> None:
            print(msg, flush=True)
            if "sockets connected" in msg:  # the simulator starts right after the sockets
                window.arm(args.warmup + 1.0)
                if profiler:
                    profiler.arm(args.warmup + 1.0)

        step = run_step(stack, args.calls, args.duration, args.warmup, log=log)
    finally:
        if profiler:
            profiler.wait()
        stack.stop()
    step["broker"] = args.broker
    win = window.join()
    if win is None:
        print("the measuring window did not complete", file=sys.stderr)
        return 1
    rows, info = cost_table(win)
    print()
    print(print_table(rows, info))
    n = step["nudges"]
    print(
        f"immediate nudges expected/received {n['immediate_expected']}/{n['immediate_received']}, "
        f"lost {len(n['lost'])}, duplicated {len(n['duplicates'])}; transcript p50/p99 "
        f"{step['transcript_latency_ms']['p50']}/{step['transcript_latency_ms']['p99']} ms; "
        f"lag at the end {sum(v for v in step['lag']['end_of_window'].values() if isinstance(v, int))}, "
        f"drained in {step['lag']['drained_in_s']} s; verdict "
        f"{'broken: ' + ', '.join(step['verdict']['reasons']) if step['verdict']['broken'] else 'ok'}"
    )
    mismatched = {t: v for t, v in n["by_type"].items() if v["missing"] or v["extra"]}
    print(
        "nudge types differing from the replay (exp/got/missing/extra): "
        + (
            ", ".join(f"{t} {v['expected']}/{v['received']}/{v['missing']}/{v['extra']}" for t, v in mismatched.items())
            or "none"
        )
    )
    tops = profiler.top() if profiler else {}
    for name, top in tops.items():
        print(f"\n{name}: {top['samples']} samples; own time")
        for fn, share in top["own"][:8]:
            print(f"  {share:5.1f} %  {fn}")
    doc = {
        "started": started.isoformat(timespec="seconds"),
        "label": args.label,
        "broker": args.broker,
        "calls": args.calls,
        "duration_s": args.duration,
        "analyzers": args.analyzers,
        "nudgers": args.nudgers,
        "env": stack.extra_env,
        "load_average": os.getloadavg(),
        "window": info,
        "table": rows,
        "markdown": markdown(rows),
        "profiles": tops,
        "step": step,
    }
    path = stem.with_suffix(".json")
    if path.exists():  # keep earlier runs of the day: cost-<date>.json, cost-<date>-2.json, …
        i = 2
        while (alt := stem.with_name(f"{stem.name}-{i}.json")).exists():
            i += 1
        path = alt
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1))
    print(f"\n{markdown(rows)}\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
