"""What exactly-once (Kafka transactions) would cost Heartline's workers, on Apache Kafka.

    .venv/bin/python -m bench.transactions [--rate 1250] [--duration 20]

Heartline's workers are consume → transform → produce loops (the analyzer:
stt-events → utterance-analysis; the nudger: analyses → nudges). They deliver
at least once: a batch's outputs are produced, and its input positions are
committed once the broker has acknowledged them (``shared/positions.py``,
every 0.5 s); a worker killed in between makes its successor redo the batch,
and idempotence on top (deterministic nudge ids, the gateway's dedupe) keeps
the agent from seeing anything twice — proven by the counting tests.

Kafka transactions would make the outputs and the positions one atomic
write instead. This measures that loop both ways on one Apache Kafka broker
(the project's own, from its jars), same input, same transform:

- ``at-least-once``: produce the batch, wait for the acknowledgements, mark
  and commit its positions every 0.5 s with the workers' own ``Positions``;
- ``transactions``: per batch ``begin`` → produce → ``send_offsets_to_transaction``
  → ``commit``, and the downstream reader uses ``isolation_level=read_committed``
  (it must, or it could read outputs of an aborted batch).

The generator produces ``--rate`` records a second (1,250/s is what 500
concurrent calls send) for ``--warmup`` + ``--duration`` seconds (latency is
measured on the records after the warm-up; CPU over the whole run), each stamped with its send
time; the worker runs in its own process; the downstream reader measures the
time from the generator's send to the output's arrival. Reported per mode: the
worker's CPU µs per record (psutil, its process only), the broker's CPU µs per
record, output latency p50/p99/max, and outputs received vs sent.
Writes ``bench/results/transactions-<date>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import shutil
import sys
import time
from datetime import date
from pathlib import Path

import orjson
import psutil

ROOT = Path(__file__).resolve().parents[1]
PARTITIONS = 8
COMMIT_EVERY_S = 0.5  # as the workers commit (shared/positions.py)
MODES = ("at-least-once", "transactions")


def _worker(bootstrap: str, mode: str, topic_in: str, topic_out: str, group: str, ready, stop) -> None:
    """The consume → transform → produce loop in one of the two modes (runs in its own process)."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

    from shared.positions import Positions

    async def main() -> None:
        txn = mode == "transactions"
        consumer = AIOKafkaConsumer(
            topic_in,
            bootstrap_servers=bootstrap,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=10,
            isolation_level="read_committed",
        )
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            acks="all",
            enable_idempotence=txn,
            transactional_id=f"{group}-0" if txn else None,
        )
        await producer.start()
        await consumer.start()
        while not consumer.assignment():  # joined the group: the measured records find it ready
            await consumer.getmany(timeout_ms=100)
        ready.set()
        positions = Positions(COMMIT_EVERY_S)
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=50, max_records=500)
                if not batches:
                    continue
                outputs = []
                offsets: dict[TopicPartition, int] = {}
                for tp, records in batches.items():
                    for rec in records:
                        doc = orjson.loads(rec.value)
                        doc["seen"] = True
                        outputs.append((rec.key, orjson.dumps(doc), tp.partition))
                    offsets[tp] = records[-1].offset + 1
                if txn:
                    await producer.begin_transaction()
                    for key, value, partition in outputs:
                        await producer.send(topic_out, value, key=key, partition=partition)
                    await producer.send_offsets_to_transaction(offsets, group)
                    await producer.commit_transaction()
                else:
                    futures = [
                        await producer.send(topic_out, value, key=key, partition=partition)
                        for key, value, partition in outputs
                    ]
                    await asyncio.gather(*futures)
                    positions.mark(batches)
                    if positions.due():
                        await positions.commit(consumer)
            await positions.commit_quietly(consumer)
        finally:
            await consumer.stop()
            await producer.stop()

    asyncio.run(main())


async def _drive(
    bootstrap: str, topic_in: str, topic_out: str, rate: int, duration: float, warmup: float, txn: bool
) -> dict:
    """Produce ``rate``/s for ``warmup`` + ``duration`` s and read the outputs; latencies (ms) of the
    records sent after the warm-up."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    reader = AIOKafkaConsumer(
        topic_out,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=10,
        isolation_level="read_committed" if txn else "read_uncommitted",
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
    await reader.start()
    await producer.start()
    latencies: list[float] = []
    received: set[int] = set()
    first = int(warmup * rate)  # records before this one are the warm-up
    sent = 0

    async def read() -> None:
        while True:
            for records in (await reader.getmany(timeout_ms=100)).values():
                now = time.time()
                for r in records:
                    doc = orjson.loads(r.value)
                    received.add(doc["n"])
                    if doc["n"] >= first:
                        latencies.append((now - doc["t"]) * 1000)

    reading = asyncio.create_task(read())
    try:
        started = time.monotonic()
        while (elapsed := time.monotonic() - started) < warmup + duration:
            due = int(elapsed * rate)
            while sent < due:
                key = f"call-{sent % 500}".encode()
                await producer.send(
                    topic_in, orjson.dumps({"t": time.time(), "n": sent, "text": "我想问一下手续费"}), key=key
                )
                sent += 1
            await asyncio.sleep(0.005)
        deadline = time.monotonic() + 15
        while len(received) < sent and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
    finally:
        reading.cancel()
        await producer.stop()
        await reader.stop()
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1) if latencies else float("nan")

    return {
        "sent": sent,
        "received": len(received),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": round(latencies[-1], 1) if latencies else None,
    }


async def _topics(bootstrap: str, names: list[str]) -> None:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(n, PARTITIONS, 1) for n in names])
    finally:
        await admin.close()


def run_mode(bootstrap: str, broker_pid: int, mode: str, rate: int, duration: float, warmup: float) -> dict:
    topic_in, topic_out, group = f"txn-{mode}-in", f"txn-{mode}-out", f"txn-bench-{mode}"
    asyncio.run(_topics(bootstrap, [topic_in, topic_out]))
    ctx = mp.get_context("spawn")
    ready, stop = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_worker, args=(bootstrap, mode, topic_in, topic_out, group, ready, stop))
    proc.start()
    if not ready.wait(60):
        proc.kill()
        raise RuntimeError(f"{mode}: the worker did not start")
    worker, broker = psutil.Process(proc.pid), psutil.Process(broker_pid)
    w0, b0 = worker.cpu_times(), broker.cpu_times()
    result = asyncio.run(_drive(bootstrap, topic_in, topic_out, rate, duration, warmup, mode == "transactions"))
    w1, b1 = worker.cpu_times(), broker.cpu_times()
    stop.set()
    proc.join(30)
    if proc.is_alive():
        proc.kill()
    n = max(result["sent"], 1)
    result.update(
        mode=mode,
        rate=rate,
        duration_s=duration,
        worker_us_per_record=round(((w1.user + w1.system) - (w0.user + w0.system)) / n * 1e6, 1),
        broker_us_per_record=round(((b1.user + b1.system) - (b0.user + b0.system)) / n * 1e6, 1),
    )
    return result


def table(rows: list[dict]) -> str:
    out = [
        "| mode | records/s | worker µs/record | broker µs/record | latency p50 / p99 / max (ms) | received / sent |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        out.append(
            f"| {r['mode']} | {r['rate']} | {r['worker_us_per_record']:.0f} | {r['broker_us_per_record']:.0f} | "
            f"{r['p50_ms']} / {r['p99_ms']} / {r['max_ms']} | {r['received']} / {r['sent']} |"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=int, default=1250, help="records per second (1,250/s: 500 concurrent calls)")
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--warmup", type=float, default=5.0, help="seconds sent first and not measured for latency")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)

    from heartline.kafka_broker import KafkaBroker

    data = ROOT / ".heartline" / "bench-data" / "transactions"
    shutil.rmtree(data, ignore_errors=True)
    broker = KafkaBroker(data_dir=data, log_path=ROOT / ".heartline" / "bench-logs" / "transactions-kafka.log")
    broker.start()
    try:
        assert broker.proc is not None
        rows = [
            run_mode(broker.bootstrap, broker.proc.pid, mode, args.rate, args.duration, args.warmup) for mode in MODES
        ]
    finally:
        broker.stop()
    print(table(rows))
    out = Path(args.out or ROOT / "bench" / "results" / f"transactions-{date.today().isoformat()}.json")
    out.write_text(json.dumps({"date": date.today().isoformat(), "rows": rows}, indent=1) + "\n", encoding="utf-8")
    print(out.relative_to(ROOT) if out.is_relative_to(ROOT) else out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
