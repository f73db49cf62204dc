"""End-to-end benchmark: latency and throughput of the live path vs concurrent calls.

    make bench                       # = .venv/bin/python -m bench.e2e (both brokers)
    make bench BROKER=kafka          # one broker: --broker kafka (or embedded)
    .venv/bin/python -m bench.e2e --calls 100,250,500,1000 --duration 30

For each broker (Apache Kafka, then the embedded one) starts the whole stack
on it (broker, ingest, analyzer(s), nudger(s), recorder, gateway — what
production runs), then for each N of the sweep drives N
concurrent calls with the Simulator (target ingest) and holds one real
websocket per agent (N agents) plus one supervisor wall, and measures (warm-up
excluded) what docs/benchmark.md describes. The sweep stops after the first N
that breaks: p99 over 1 s, consumer lag growing, or a nudge lost. Writes
bench/results/<date>.json and <date>.png and prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import platform
import time
import uuid
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

from bench import loadgen
from bench.stats import ProcWatch, epoch, median_ms, scrape, summary_ms, total

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"

# Nudges that fire on the triggering record itself (no grace, no timer): their
# latency is the pipeline's, and replay and live must agree on them exactly.
IMMEDIATE = ("privacy_guard", "polite_language", "compliance_warning", "escalate_supervisor", "dont_interrupt")
BREAK_P99_S = 1.0


# --------------------------------------------------------------------------- one step


def run_step(
    stack,
    calls: int,
    duration: float,
    warmup: float = 10.0,
    speed: float = 1.0,
    wall: bool = True,
    end_delay_s: float = 2.0,
    drain_max_s: float = 60.0,
    log=print,
) -> dict:
    """Drive ``calls`` concurrent calls for warmup + duration seconds; the step's numbers."""
    settings = stack.settings
    ctx = mp.get_context("spawn")
    cl_conn, cl_child = ctx.Pipe()
    sim_conn, sim_child = ctx.Pipe()
    clients = ctx.Process(target=loadgen.clients_main, args=(cl_child, settings, calls, wall), daemon=True)
    # not a daemon: it replays the expected nudges in a small process pool of its own
    sim = ctx.Process(target=loadgen.simulator_main, args=(sim_child, settings, calls, speed, end_delay_s))
    clients.start()
    _kind, n_sockets = cl_conn.recv()
    log(f"  {n_sockets} sockets connected")
    sim.start()
    _, t_start = sim_conn.recv()

    pids = {p.name: p.popen.pid for p in stack.procs if p.popen and p.popen.poll() is None}
    if stack.broker and stack.broker.proc:
        pids["broker"] = stack.broker.proc.pid
    pids.update({"loadgen-simulator": sim.pid, "loadgen-sockets": clients.pid, "bench": os.getpid()})
    watch = ProcWatch(pids, own_only={"bench"})  # the stack's processes are the bench's children
    urls = _metric_urls(stack)

    time.sleep(max(0.0, t_start + warmup - time.time()))
    sim_conn.send("window")
    sim_conn.recv()
    cl_conn.send("reset_lag")
    cl_conn.recv()
    w0 = time.time()
    m0 = scrape(urls)
    watch.start(w0)
    lag_gauge = [(0.0, _lag_gauge(m0))]
    while time.time() < w0 + duration:
        time.sleep(min(5.0, max(0.0, w0 + duration - time.time())))
        watch.sample()
        lag_gauge.append((round(time.time() - w0, 1), _lag_gauge(scrape(urls))))
    w1 = time.time()
    m1 = scrape(urls)
    procs = watch.stop(w1)
    lag_end = _lag_totals(stack)
    sim_conn.send("stop")
    _, sim_info = sim_conn.recv()
    log("  load stopped; draining")
    t_drain = time.time()
    lag: dict = {}
    while time.time() - t_drain < drain_max_s:
        lag = _lag_totals(stack)
        if lag and all(isinstance(v, int) and v == 0 for v in lag.values()):
            break
        time.sleep(1)
    drained_s = round(time.time() - t_drain, 1)
    drained = bool(lag) and all(isinstance(v, int) and v == 0 for v in lag.values())
    time.sleep(3)  # the gateway's last hop
    cl_conn.send("stop")
    _, rec = cl_conn.recv()
    sim_conn.send("expect")
    _, expected = sim_conn.recv()
    sim_conn.send("quit")
    sim.join(10)
    clients.join(10)
    for proc in (sim, clients):
        if proc.is_alive():
            proc.terminate()

    if os.environ.get("HEARTLINE_BENCH_RAW"):  # every record, for a closer look
        Path(os.environ["HEARTLINE_BENCH_RAW"]).write_text(
            json.dumps({"window": [w0, w1], "records": rec, "expected": expected}, ensure_ascii=False)
        )
    result = analyse(calls, rec, expected, (w0, w1), stack.settings.rules)
    if not drained:
        # the workers never caught up within drain_max_s: what is missing may still be queued,
        # so it is reported as not delivered in time, not as lost
        result["nudges"]["undelivered_backlog"] = result["nudges"].pop("lost")
        result["nudges"]["lost"] = []
    window = w1 - w0
    result.update(
        {
            "calls": calls,
            "speed": speed,
            "window_s": round(window, 1),
            "warmup_s": warmup,
            "throughput": {
                "ingest_events_per_s": round(
                    (
                        total(m1, "heartline_events_out_total", service="ingest")
                        - total(m0, "heartline_events_out_total", service="ingest")
                    )
                    / window,
                    1,
                ),
                "analyses_per_s": round(
                    (
                        total(m1, "heartline_events_out_total", service="analyzer")
                        - total(m0, "heartline_events_out_total", service="analyzer")
                    )
                    / window,
                    1,
                ),
                "nudges_per_s": round(
                    (total(m1, "heartline_nudges_total") - total(m0, "heartline_nudges_total")) / window, 2
                ),
                "socket_msgs": rec["messages"],
            },
            "generator": {
                "events_sent_in_window": sim_info["sent_in_window"],
                "errors": sim_info["errors"],
                "calls_started": sim_info["calls"],
                "schedule_lag_ms": summary_ms(sim_info["late"]),
                "socket_loop_lag_ms": summary_ms(rec["loop_lag"]),
                "reconnects": rec["reconnects"],
                "close_codes": rec["close_codes"],
            },
            "processes": procs,
            "lag": {
                "end_of_window": lag_end,
                "gauge_samples": lag_gauge,
                "drained_in_s": drained_s,
                "drained": drained,
            },
        }
    )
    result["verdict"] = verdict(result)
    return result


def _metric_urls(stack) -> list[str]:
    return [f"{p.url}/metrics" for p in stack.procs if p.url and p.popen and p.popen.poll() is None]


def _lag_gauge(samples: dict) -> float:
    return total(samples, "heartline_consumer_lag")


def _lag_totals(stack) -> dict[str, int]:
    from heartline.ops import lag_table

    try:
        rows = asyncio.run(lag_table(stack.settings.on_broker(stack.kafka)))
    except Exception as exc:  # the broker under load may time an admin call out
        return {"error": str(exc)[:80]}
    out: dict[str, int] = defaultdict(int)
    for r in rows:
        out[f"{r['group']}/{r['topic']}"] += r["lag"]
    return dict(out)


# --------------------------------------------------------------------------- analysis


def analyse(calls: int, rec: dict, expected: dict[str, list[tuple]], window: tuple[float, float], rules_path) -> dict:
    from services.nudger.rules import load_rules

    rules = load_rules(rules_path)
    w0, w1 = window
    inside = lambda t: t is not None and w0 <= t <= w1  # noqa: E731

    # transcript lines: every final gives one
    analysed_at: dict[tuple, float] = {}
    final_recv: dict[tuple, float] = {}
    t_lat, t_ing_an, t_an_sock = [], [], []
    for call_id, seq, speaker, is_final, ing, ana, recv in rec["transcripts"]:
        i, a = epoch(ing), epoch(ana)
        analysed_at[(call_id, seq, ing)] = a
        if not is_final or (call_id, seq, speaker) in final_recv:
            continue  # a line shown again (a resume) is not a new measurement
        final_recv[(call_id, seq, speaker)] = recv
        final_recv.setdefault((call_id, seq), recv)
        if inside(i):
            t_lat.append(recv - i)
            t_ing_an.append(a - i)
            t_an_sock.append(recv - a)

    # nudges: duplicates per socket connection, latency per class
    seen_conn: set[tuple] = set()
    duplicates: list[str] = []
    received: dict[str, dict[str, str]] = defaultdict(dict)  # call_id -> nudge_id -> type
    imm_lat, imm_ing_cr, imm_an_cr, imm_cr_sock = [], [], [], []
    graced: dict[str, list[float]] = defaultdict(list)
    for sock, conn_no, nid, ntype, audience, call_id, seq, ing, cr, recv in rec["nudges"]:
        key = (sock, conn_no, nid)
        if key in seen_conn:
            duplicates.append(f"{sock}:{nid}")
            continue
        seen_conn.add(key)
        if sock == "wall" and audience != "supervisor":
            continue  # a watched call's agent nudge: counted on the agent socket
        received[call_id][nid] = ntype
        i, c = epoch(ing), epoch(cr)
        if not inside(i):
            continue
        if ntype in IMMEDIATE:
            imm_lat.append(recv - i)
            imm_ing_cr.append(c - i)
            imm_cr_sock.append(recv - c)
            a = analysed_at.get((call_id, seq, ing))
            if a is not None:
                imm_an_cr.append(c - a)
        else:
            spec = rules.get(ntype)
            graced[ntype].append(recv - i - _grace(spec))

    # expected (offline replay of what was sent) vs received
    per_type = defaultdict(lambda: {"expected": 0, "received": 0, "missing": 0, "extra": 0})
    lost, after_end = [], []
    for call_id, nudges in expected.items():
        exp_ids = {nid: ntype for nid, ntype, _, _ in nudges}
        got = received.get(call_id, {})
        for nid, ntype in exp_ids.items():
            per_type[ntype]["expected"] += 1
            if nid in got:
                continue
            per_type[ntype]["missing"] += 1
            if ntype in IMMEDIATE:
                seq = next((s for n, _, _, s in nudges if n == nid), None)
                ended, fin = rec["ended"].get(call_id), final_recv.get((call_id, seq))
                # the nudger drops an analysis that reaches it after its call ended (by design:
                # no coaching on a call that is over); seen from the socket, the final's line
                # came after (or within 0.1 s before) the call's end
                if ended is not None and (fin is None or fin > ended - 0.1):
                    after_end.append(nid)
                else:
                    lost.append(nid)
        for nid, ntype in got.items():
            per_type[ntype]["received"] += 1
            if nid not in exp_ids:
                per_type[ntype]["extra"] += 1
    return {
        "transcript_latency_ms": summary_ms(t_lat),
        "pipeline_latency_ms": summary_ms(imm_lat),
        "hops_median_ms": {
            "final: ingest->analyzed": median_ms(t_ing_an),
            "final: analyzed->socket": median_ms(t_an_sock),
            "nudge: ingest->created": median_ms(imm_ing_cr),
            "nudge: analyzed->created": median_ms(imm_an_cr),
            "nudge: created->socket": median_ms(imm_cr_sock),
        },
        "graced_beyond_grace_ms": {t: summary_ms(v) for t, v in sorted(graced.items())},
        "nudges": {
            "by_type": {t: dict(v) for t, v in sorted(per_type.items())},
            "immediate_expected": sum(per_type[t]["expected"] for t in IMMEDIATE),
            "immediate_received": sum(per_type[t]["expected"] - per_type[t]["missing"] for t in IMMEDIATE),
            "lost": lost,
            "dropped_after_call_end": after_end,
            "duplicates": duplicates,
        },
    }


def _grace(spec) -> float:
    """The nominal wait of a graced type (timely_response waits silence_s instead)."""
    if spec is None:
        return 0.0
    if spec.grace_s:
        return float(spec.grace_s)
    return float((spec.thresholds or {}).get("silence_s", 0))


def verdict(r: dict) -> dict:
    reasons = []
    p99s = [r["transcript_latency_ms"]["p99"], r["pipeline_latency_ms"]["p99"]]
    if any(p is not None and p > BREAK_P99_S * 1000 for p in p99s):
        reasons.append("p99 > 1 s")
    gauge = [v for _, v in r["lag"]["gauge_samples"]]
    end_lag = sum(v for v in r["lag"]["end_of_window"].values() if isinstance(v, int))
    ev = max(1.0, r["throughput"]["ingest_events_per_s"])
    if (len(gauge) >= 3 and gauge[-1] > ev and gauge[-1] > gauge[len(gauge) // 2] * 1.2) or end_lag > 5 * ev:
        reasons.append("consumer lag growing")
    if r["nudges"]["lost"]:
        reasons.append(f"{len(r['nudges']['lost'])} nudges lost")
    if r["nudges"].get("undelivered_backlog"):
        reasons.append(f"{len(r['nudges']['undelivered_backlog'])} nudges still queued after the drain")
    if r["nudges"]["duplicates"]:
        reasons.append(f"{len(r['nudges']['duplicates'])} nudges duplicated")
    return {"broken": bool(reasons), "reasons": reasons}


# --------------------------------------------------------------------------- report


def table(steps: list[dict]) -> str:
    head = (
        f"{'broker':<8} {'calls':>6} {'ev/s':>6} {'an/s':>6} {'nu/s':>5} | {'transcript p50/p95/p99/max ms':>30} | "
        f"{'pipeline nudge p50/p95/p99/max ms':>34} | {'imm exp/got':>11} {'lost':>4} {'dup':>3} | "
        f"{'lag':>6} | {'cpu%':>5} | {'broker cpu%/MB':>14} | verdict"
    )
    lines = [head, "-" * len(head)]
    for s in steps:
        t, p, n = s["transcript_latency_ms"], s["pipeline_latency_ms"], s["nudges"]
        lag = sum(v for v in s["lag"]["end_of_window"].values() if isinstance(v, int))
        cpu = s["processes"]["_machine"]["cpu_pct"]
        b = s["processes"].get("broker") or {"cpu_pct": 0, "rss_mb": 0}
        lines.append(
            f"{s.get('broker', 'embedded'):<8} {s['calls']:>6} {s['throughput']['ingest_events_per_s']:>6.0f} "
            f"{s['throughput']['analyses_per_s']:>6.0f} "
            f"{s['throughput']['nudges_per_s']:>5.1f} | {_q(t):>30} | {_q(p):>34} | "
            f"{n['immediate_expected']:>5}/{n['immediate_received']:<5} "
            f"{len(n['lost']):>4} {len(n['duplicates']):>3} | "
            f"{lag:>6} | {cpu:>5.0f} | {b['cpu_pct']:>6.0f}/{b['rss_mb']:<7.0f} | "
            f"{'BROKEN: ' + ', '.join(s['verdict']['reasons']) if s['verdict']['broken'] else 'ok'}"
        )
    return "\n".join(lines)


def _q3(d: dict) -> str:
    return " / ".join("-" if d[k] is None else f"{d[k]:.0f}" for k in ("p50", "p95", "p99"))


def markdown(steps: list[dict]) -> str:
    """The README's performance table."""
    out = [
        "| broker | calls | events/s | transcript p50/p95/p99 ms | immediate nudge p50/p95/p99 ms "
        "| nudges expected/received | broker CPU % / RSS MB | verdict |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in steps:
        t, p, n = s["transcript_latency_ms"], s["pipeline_latency_ms"], s["nudges"]
        b = s["processes"].get("broker") or {"cpu_pct": 0, "rss_mb": 0}
        verdict = ", ".join(s["verdict"]["reasons"]) if s["verdict"]["broken"] else "ok"
        name = "Apache Kafka" if s.get("broker") == "kafka" else "embedded"
        out.append(
            f"| {name} | {s['calls']} | {s['throughput']['ingest_events_per_s']:.0f} | {_q3(t)} | {_q3(p)} "
            f"| {n['immediate_expected']} / {n['immediate_received']} | {b['cpu_pct']:.0f} / {b['rss_mb']:.0f} "
            f"| {verdict} |"
        )
    return "\n".join(out)


def _q(d: dict) -> str:
    return "/".join("-" if d[k] is None else f"{d[k]:.0f}" for k in ("p50", "p95", "p99", "max"))


def details(s: dict) -> str:
    lines = [f"N={s['calls']}: hops (median ms) " + ", ".join(f"{k} {v}" for k, v in s["hops_median_ms"].items())]
    procs = {k: v for k, v in s["processes"].items() if not k.startswith("_")}
    lines.append(
        "  cpu% / rss MB: "
        + ", ".join(f"{k} {v['cpu_pct']:.0f}/{v['rss_mb']:.0f}" for k, v in procs.items())
        + f"; machine {s['processes']['_machine']['cpu_pct']:.0f}% of {s['processes']['_machine']['cores']}00%"
        + f" (not ours {s['processes']['_machine']['not_ours_pct']:.0f}%)"
    )
    g = s["generator"]
    lines.append(
        f"  generator: schedule lag p50/p99 {g['schedule_lag_ms']['p50']}/{g['schedule_lag_ms']['p99']} ms, "
        f"socket loop lag p99 {g['socket_loop_lag_ms']['p99']} ms, reconnects {g['reconnects']}, "
        f"close codes {g['close_codes']}, send errors {g['errors']}"
    )
    graced = ", ".join(
        f"{t} p50/p99 {v['p50']}/{v['p99']} (n={v['n']})" for t, v in s["graced_beyond_grace_ms"].items()
    )
    lines.append(f"  graced nudges, ms beyond grace: {graced or '-'}")
    bt = s["nudges"]["by_type"]
    lines.append(
        "  nudges exp/got/missing/extra: "
        + ", ".join(f"{t} {v['expected']}/{v['received']}/{v['missing']}/{v['extra']}" for t, v in bt.items())
    )
    if s["nudges"]["dropped_after_call_end"]:
        lines.append(
            f"  immediate nudges dropped because the call had ended first: {len(s['nudges']['dropped_after_call_end'])}"
        )
    lines.append(f"  lag at end of window: {s['lag']['end_of_window']}; drained in {s['lag']['drained_in_s']} s")
    return "\n".join(lines)


def plot(steps: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    brokers = sorted({s.get("broker", "embedded") for s in steps})
    xs_all = sorted({s["calls"] for s in steps})
    for broker, style in zip(brokers, ("-", "--"), strict=False):
        mine = [s for s in steps if s.get("broker", "embedded") == broker]
        xs = [s["calls"] for s in mine]
        for key, label, marker in (
            ("transcript_latency_ms", "transcript", "o"),
            ("pipeline_latency_ms", "immediate nudge", "s"),
        ):
            ys = [s[key]["p99"] for s in mine]
            ax.plot(
                xs,
                [y if y is not None else float("nan") for y in ys],
                style,
                marker=marker,
                label=f"{broker}: {label} p99",
            )
    ax.axhline(100, color="grey", lw=0.8, ls=":")
    ax.axhline(1000, color="black", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(xs_all)
    ax.set_xticklabels([str(x) for x in xs_all])
    ax.set_xlabel("concurrent calls")
    ax.set_ylabel("ingest -> agent socket, p99 ms")
    ax.set_title("Heartline end-to-end latency vs concurrent calls, by broker")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --------------------------------------------------------------------------- main


def sweep_default() -> list[int]:
    out, n = [100, 250, 500, 1000], 2000
    while n <= 64000:
        out.append(n)
        n *= 2
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", help="comma-separated N to sweep (default 100,250,500,1000,2000,4000,… until it breaks)")
    ap.add_argument("--duration", type=float, default=60.0, help="measured seconds per step (default 60)")
    ap.add_argument("--warmup", type=float, default=10.0, help="seconds before measuring (default 10)")
    ap.add_argument("--speed", type=float, default=1.0, help="simulator speed factor (default 1: real time)")
    ap.add_argument("--analyzers", type=int, default=1)
    ap.add_argument("--nudgers", type=int, default=1)
    ap.add_argument("--no-wall", action="store_true", help="no supervisor wall socket")
    ap.add_argument("--keep-going", action="store_true", help="run every N even after one broke")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument(
        "--broker",
        default="kafka,embedded",
        help="comma-separated brokers to sweep, each with a stack of its own (default kafka,embedded)",
    )
    ap.add_argument("--no-recorder", action="store_true", help="leave the recorder out of the stack")
    args = ap.parse_args(argv)
    ns = [int(x) for x in args.calls.split(",")] if args.calls else sweep_default()
    brokers = [b.strip() for b in args.broker.split(",") if b.strip()]

    started = datetime.now()
    print(
        f"Heartline e2e benchmark on {', '.join(brokers)}: {args.analyzers} analyzer(s), {args.nudgers} nudger(s), "
        f"{args.duration:.0f} s per step after {args.warmup:.0f} s warm-up; load average {os.getloadavg()}",
        flush=True,
    )
    steps: list[dict] = []
    for broker in brokers:
        steps += sweep(broker, ns, args)
    if not steps:
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / date.today().isoformat()
    doc = {
        "started": started.isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cores": os.cpu_count(),
        "brokers": brokers,
        "options": {
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "speed": args.speed,
            "analyzers": args.analyzers,
            "nudgers": args.nudgers,
            "wall": not args.no_wall,
            "recorder": not args.no_recorder,
        },
        "immediate_types": list(IMMEDIATE),
        "steps": steps,
    }
    stem.with_suffix(".json").write_text(json.dumps(doc, ensure_ascii=False, indent=1))
    plot(steps, stem.with_suffix(".png"))
    print()
    print(table(steps))
    print()
    print(markdown(steps))
    for broker in brokers:
        ok = [s["calls"] for s in steps if s["broker"] == broker and not s["verdict"]["broken"]]
        print(f"{broker}: highest N that held: {max(ok) if ok else 'none'}")
    print(f"wrote {stem}.json and {stem}.png")
    return 0


def bench_stack(name: str, broker: str, **stack_kw):
    """A Stack (not started) on its own broker for a benchmark: data under
    .heartline/bench-data/<name> (emptied first), logs under .heartline/bench-logs/<name>."""
    import shutil

    from heartline.broker import free_port
    from heartline.stack import Stack
    from shared.config import Settings

    data_dir = ROOT / ".heartline" / "bench-data" / name
    shutil.rmtree(data_dir, ignore_errors=True)
    settings = Settings(
        broker=broker,
        topic_prefix=f"b{uuid.uuid4().hex[:6]}-",
        gateway_port=free_port(),
        ingest_port=free_port(),
        log_level="WARNING",
        data_dir=data_dir,
    )
    return Stack(settings, log_dir=ROOT / ".heartline" / "bench-logs" / name, **stack_kw)


def sweep(broker: str, ns: list[int], args) -> list[dict]:
    """One broker: a fresh stack on it, N after N until one breaks."""
    stack = bench_stack(broker, broker, analyzers=args.analyzers, nudgers=args.nudgers, recorder=not args.no_recorder)
    steps: list[dict] = []
    try:
        print(f"[{broker}] starting the stack …", flush=True)
        stack.start(timeout=180)
        for n in ns:
            print(f"[{broker}] N={n}: connecting {n} agent sockets …", flush=True)
            step = run_step(
                stack,
                n,
                args.duration,
                args.warmup,
                args.speed,
                wall=not args.no_wall,
                log=lambda m: print(m, flush=True),
            )
            step["broker"] = broker
            step["load_average"] = os.getloadavg()
            steps.append(step)
            print(table([step]).splitlines()[-1], flush=True)
            print(details(step), flush=True)
            if step["verdict"]["broken"] and not args.keep_going:
                print(f"[{broker}] N={n} broke ({', '.join(step['verdict']['reasons'])}): sweep stops here", flush=True)
                break
            time.sleep(3)
    finally:
        stack.stop()
    return steps


if __name__ == "__main__":
    raise SystemExit(main())
