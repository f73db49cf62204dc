"""``heartline``: the one command line of the product (see DESIGN.md)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys


def _settings(**overrides):
    from shared.config import get_settings

    base = get_settings()
    return base.model_copy(update=overrides) if overrides else base


def cmd_run(args) -> int:
    from heartline.stack import run_foreground
    from shared.config import Settings

    settings = Settings(**({"broker": args.broker} if args.broker else {}))
    return run_foreground(
        settings, demo=settings.demo and not args.no_demo, demo_calls=args.calls or settings.demo_calls
    )


def cmd_serve(args) -> int:
    import uvicorn

    settings = _settings()
    if args.service == "gateway":
        from services.gateway.app import create_app

        port = settings.gateway_port
    elif args.service == "asr":
        from services.asr_bridge.app import create_app

        port = settings.asr_port
    else:
        from services.ingest.app import create_app

        port = settings.ingest_port
    app = create_app(settings)
    # Each service says how large one websocket message may be: uvicorn refuses more
    # (close 1009) before buffering it. Its own default is 16 MiB.
    uvicorn.run(
        app,
        host=settings.host,
        port=port,
        log_config=None,
        ws_max_size=getattr(app.state, "ws_max_size", 16 * 1024 * 1024),
        access_log=False,
        ws_ping_interval=20,
        ws_ping_timeout=20,
        # Messages are small JSON (a transcript line, a nudge): compressing each one per
        # connection cost the gateway more CPU than the bytes it saved (docs/benchmark.md).
        ws_per_message_deflate=False,
        timeout_graceful_shutdown=3,
    )
    return 0


def cmd_worker(args) -> int:
    if args.kind == "analyzer":
        from services.analyzer.worker import main
    elif args.kind == "recorder":
        from services.recorder.worker import main
    else:
        from services.nudger.worker import main
    main()
    return 0


def _history_store():
    from services.recorder import db
    from services.recorder.worker import make_store

    store = make_store(_settings(), writer=True)
    db.upgrade(store.engine)
    return store


def cmd_customer(args) -> int:
    """``heartline customer export|delete --id ID``: a customer's data on request (docs/history.md).

    Delete reaches the history DB and the compacted topics keyed by the customer's calls
    (call-state, the nudger's changelog: tombstones); without a broker it says so and exits 1."""
    store = _history_store()
    code = 0
    if args.action == "export":
        out = store.export_customer(args.id)
    else:
        out = store.delete_customer(args.id)
        call_ids = out.pop("call_ids")
        settings = _settings()
        if settings.kafka:
            from services.recorder.erasure import erase_from_topics

            out["tombstones"] = asyncio.run(erase_from_topics(settings, out["customer_hash"], args.id, call_ids))
        else:
            out["tombstones"] = None
            code = 1
            print(
                "call-state not reached: HEARTLINE_KAFKA is not set; run again with it set "
                "(the database part is done and stays done)",
                file=sys.stderr,
            )
    sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
    return code


def cmd_purge(args) -> int:
    """``heartline purge``: delete call history older than HEARTLINE_RETENTION_DAYS now."""
    print(json.dumps(_history_store().purge()))
    return 0


def cmd_topics(args) -> int:
    from shared.kafka import ensure_topics

    settings = _settings()
    created = asyncio.run(ensure_topics(settings, partitions=args.partitions))
    print(json.dumps({"created": created}))
    return 0


def cmd_analyze(args) -> int:
    from pydantic import ValidationError

    from services.analyzer.analysis import analyze_utterance
    from services.analyzer.knowledge_base import load_base
    from shared.schemas import Utterance, parse_event, utcnow

    knowledge = load_base(_settings().knowledge)
    seq = 0
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        if line.startswith("{"):
            try:
                event = parse_event(line)
            except ValidationError as exc:
                from shared.validation import reasons

                print(json.dumps({"error": reasons(exc, 3)}, ensure_ascii=False), file=sys.stderr)
                continue
            if not isinstance(event, Utterance):
                continue
        else:
            now = utcnow()
            event = Utterance(
                type="utterance", call_id="stdin", seq=seq, speaker="customer", text=line, is_final=True, ts=now
            )
            seq += 1
        sys.stdout.write(analyze_utterance(event, knowledge=knowledge).model_dump_json() + "\n")
        sys.stdout.flush()
    return 0


def cmd_replay(args) -> int:
    from services.analyzer.analysis import analyze_utterance
    from services.analyzer.knowledge_base import load_base
    from services.nudger.replay import load_jsonl, replay
    from services.nudger.rules import load_rules

    settings = _settings()
    knowledge = load_base(settings.knowledge)
    for nudge in replay(
        load_jsonl(args.file),
        load_rules(settings.rules),
        analyzer=lambda event: analyze_utterance(event, knowledge=knowledge),
    ):
        sys.stdout.write(nudge.model_dump_json() + "\n")
    return 0


def cmd_simulate(args) -> int:
    from services.simulator.simulate import simulate

    return asyncio.run(
        simulate(_settings(), calls=args.calls, duration=args.duration, target=args.target, speed=args.speed)
    )


def cmd_token(args) -> int:
    from shared.auth import mint

    print(mint(_settings(), args.sub, args.role, ttl_s=args.ttl))
    return 0


def cmd_lag(args) -> int:
    from heartline.ops import print_lag

    return print_lag(_settings())


def cmd_status(args) -> int:
    from heartline.ops import print_status

    return print_status(_settings())


def cmd_transcribe(args) -> int:
    from services.asr_bridge.offline import transcribe

    return transcribe(args.file, _settings(), to=args.to, fast=args.fast, call_id=args.call_id, agent_id=args.agent_id)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="heartline", description="Heartline: real-time agent assist")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="the whole system on this machine")
    run.add_argument("--no-demo", action="store_true", help="do not simulate demo calls")
    run.add_argument("--calls", type=int, default=None, help="concurrent demo calls")
    run.add_argument(
        "--broker",
        choices=["embedded", "kafka"],
        default=None,
        help="the broker to start: embedded (default, no Java) or Apache Kafka (Java + Maven)",
    )
    run.set_defaults(func=cmd_run)

    serve = sub.add_parser("serve", help="run one HTTP service")
    serve.add_argument("service", choices=["gateway", "ingest", "asr"])
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="run one stream worker (start more to scale)")
    worker.add_argument("kind", choices=["analyzer", "nudger", "recorder"])
    worker.set_defaults(func=cmd_worker)

    topics = sub.add_parser("topics", help="create the topics")
    topics.add_argument("action", choices=["create"])
    topics.add_argument("--partitions", type=int, default=None)
    topics.set_defaults(func=cmd_topics)

    sub.add_parser("analyze", help="analyse utterances from stdin").set_defaults(func=cmd_analyze)

    replay = sub.add_parser("replay", help="run one call's events through analysis and rules offline")
    replay.add_argument("file")
    replay.set_defaults(func=cmd_replay)

    sim = sub.add_parser("simulate", help="play demo calls in real time")
    sim.add_argument("--calls", type=int, default=10)
    sim.add_argument("--duration", type=float, default=None, help="seconds (default: until stopped)")
    sim.add_argument("--target", choices=["ingest", "kafka"], default="ingest")
    sim.add_argument("--speed", type=float, default=1.0, help="time factor (2 = twice as fast)")
    sim.set_defaults(func=cmd_simulate)

    token = sub.add_parser("token", help="print a signed JWT for local use")
    token.add_argument("--sub", required=True)
    token.add_argument("--role", required=True, choices=["agent", "supervisor", "ingest", "service"])
    token.add_argument("--ttl", type=int, default=None, help="seconds")
    token.set_defaults(func=cmd_token)

    sub.add_parser("lag", help="consumer lag per group and partition").set_defaults(func=cmd_lag)
    sub.add_parser("status", help="services, readiness, partition assignment").set_defaults(func=cmd_status)

    cust = sub.add_parser("customer", help="export (JSON to stdout) or delete one customer's call history")
    cust.add_argument("action", choices=["export", "delete"])
    cust.add_argument("--id", required=True, help="the customer id the CTI sends (hashed before lookup)")
    cust.set_defaults(func=cmd_customer)
    sub.add_parser("purge", help="delete call history older than the retention period now").set_defaults(func=cmd_purge)

    tr = sub.add_parser("transcribe", help="a stereo call recording (left agent, right customer) -> CallEvents")
    tr.add_argument("file")
    tr.add_argument("--to", choices=["stdout", "kafka", "ingest"], default="stdout")
    tr.add_argument("--fast", action="store_true", help="as fast as possible instead of in real time")
    tr.add_argument("--call-id", default=None)
    tr.add_argument("--agent-id", default=None)
    tr.set_defaults(func=cmd_transcribe)
    return p


def main(argv: list[str] | None = None) -> int:
    from heartline.lifeline import watch_parent

    args = build_parser().parse_args(argv)
    watch_parent()  # a service started by `heartline run` stops when the runner dies
    try:
        return args.func(args) or 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
