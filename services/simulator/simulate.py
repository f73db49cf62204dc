"""``heartline simulate``: concurrent demo calls in real time.

Each of N call slots plays scenarios from ``scenarios/`` one after another
(fresh call id each time, the slot's own agent ``a-NNN``), with the timing
the scenario records (partials every ~300 ms while a side speaks, pauses,
overlaps). Slots start staggered so the load is steady. Events go to ingest
(HTTP, batched every few ms, with a service token) or straight to Kafka. The
demo in ``heartline run``, the load tests and the benchmark all use this.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import json
import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx

from shared.auth import mint
from shared.config import Settings
from shared.schemas import iso, utcnow

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
BATCH_EVERY_S = 0.01
RETRY_FOR_S = 60.0  # retry one batch this long through an outage, then count it as errors
log = logging.getLogger("simulator")


def load_scenarios(folder: Path = SCENARIOS) -> dict[str, list[dict]]:
    out = {}
    for path in sorted(folder.glob("*.jsonl")):
        events = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if events:
            out[path.stem] = events
    if not out:
        raise FileNotFoundError(f"no scenarios in {folder}")
    return out


def _retry_after(resp: httpx.Response, default: float) -> float:
    try:
        return min(max(float(resp.headers.get("retry-after", default)), 0.1), 5.0)
    except ValueError:
        return default


def timeline(events: list[dict]) -> list[tuple[float, dict]]:
    """(offset seconds from the call's first event, event) in send order."""
    t0 = datetime.fromisoformat(events[0]["ts"].replace("Z", "+00:00"))
    out = []
    for ev in events:
        ts = datetime.fromisoformat(ev["ts"].replace("Z", "+00:00"))
        out.append(((ts - t0).total_seconds(), ev))
    return out


@dataclass
class Simulator:
    settings: Settings
    calls: int
    duration: float | None = None
    target: str = "ingest"
    speed: float = 1.0
    scenarios: dict[str, list[dict]] = field(default_factory=load_scenarios)
    on_call: Callable[[str, str, str], None] | None = None  # (call_id, agent_id, scenario)
    # (events ingest accepted, how late each was accepted vs its schedule in s): the benchmark's record
    on_send: Callable[[list[dict], list[float]], None] | None = None
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    sent: int = 0
    errors: int = 0
    retries: int = 0  # sends retried (503 from ingest, connection errors)
    calls_started: int = 0

    def __post_init__(self) -> None:
        self._stop = asyncio.Event()
        self._end_after_s = 0.0

    async def run(self) -> None:
        heap: list = []
        counter = itertools.count()
        names = list(self.scenarios)
        rng = random.Random(self.run_id)
        start = time.monotonic()
        stop_at = start + self.duration if self.duration else None
        mean_len = sum(timeline(ev)[-1][0] for ev in self.scenarios.values()) / len(self.scenarios)
        stagger = min(mean_len / self.speed, 10.0) / max(self.calls, 1)
        for slot in range(self.calls):
            self._schedule_call(
                heap, counter, slot, names[(slot + rng.randrange(len(names))) % len(names)], start + slot * stagger
            )
        send = await self._sender()
        live: dict[str, None] = {}  # calls started and not yet ended, in start order
        try:
            while heap and not self._stop.is_set():
                tick = time.monotonic()
                if stop_at and tick >= stop_at and not any(item[3] != "next" for item in heap):
                    break
                batch, due_at = [], []
                while heap and heap[0][0] <= tick:
                    due, _, slot, kind, payload = heapq.heappop(heap)
                    if kind == "next":
                        if stop_at is None or tick < stop_at:
                            self._schedule_call(heap, counter, slot, rng.choice(names), tick)
                        continue
                    payload["ts"] = iso(utcnow())
                    if payload["type"] == "call_started":
                        live[payload["call_id"]] = None
                    elif payload["type"] == "call_ended":
                        live.pop(payload["call_id"], None)
                    batch.append(payload)
                    due_at.append(due)
                if batch:
                    await self._send(send, batch, due_at)
                # One batch per BATCH_EVERY_S *including* the time the send took (a fixed
                # cadence, not send time + a full period), and no earlier than the next
                # event is due, so a quiet simulator does not spin.
                wake = max(tick + BATCH_EVERY_S, heap[0][0] if heap else 0.0)
                try:
                    await asyncio.wait_for(self._stop.wait(), max(0.0, wake - time.monotonic()))
                except TimeoutError:
                    pass
            if self._stop.is_set() and live:
                # end every call in flight, so downstream forgets it (not after 30 min of silence);
                # the pause first lets the last utterances be analysed before their call ends
                await asyncio.sleep(self._end_after_s)
                ended = [
                    {"type": "call_ended", "call_id": cid, "ts": iso(utcnow()), "reason": "simulator_stop"}
                    for cid in live
                ]
                for i in range(0, len(ended), 500):
                    await self._send(send, ended[i : i + 500], [time.monotonic()] * len(ended[i : i + 500]))
        finally:
            await self._close()

    def stop(self, end_after_s: float = 0.0) -> None:
        """Send nothing more; ``end_after_s`` later every call in flight gets a ``call_ended``.

        Call from the simulator's own event loop."""
        self._end_after_s = end_after_s
        self._stop.set()

    async def _send(self, send, batch: list[dict], due_at: list[float]) -> None:
        ok = await send(batch)
        if self.on_send and ok:
            done = time.monotonic()
            self.on_send(batch, [done - due for due in due_at])

    def _schedule_call(self, heap, counter, slot: int, name: str, at: float) -> None:
        self.calls_started += 1
        call_id = f"sim-{self.run_id}-{self.calls_started:06d}"
        agent_id = f"a-{slot + 1:03d}"
        if self.on_call:
            self.on_call(call_id, agent_id, name)
        tl = timeline(self.scenarios[name])
        for offset, ev in tl:
            ev = dict(ev, call_id=call_id)
            if ev["type"] == "call_started":
                ev["agent_id"] = agent_id
            heapq.heappush(heap, (at + offset / self.speed, next(counter), slot, "event", ev))
        heapq.heappush(heap, (at + tl[-1][0] / self.speed + 2.0, next(counter), slot, "next", None))

    async def _sender(self):
        if self.target == "kafka":
            from shared.kafka import producer

            self._producer = producer(self.settings)
            await self._producer.start()
            topic = self.settings.topics.stt_events

            async def send(batch):
                for ev in batch:
                    await self._producer.send(
                        topic, json.dumps(ev, ensure_ascii=False).encode(), key=ev["call_id"].encode()
                    )
                self.sent += len(batch)
                return True

            return send
        url = f"http://127.0.0.1:{self.settings.ingest_port}/v1/events"
        headers = {"Authorization": f"Bearer {mint(self.settings, 'simulator', 'service')}"}
        self._client = httpx.AsyncClient(timeout=10, headers=headers)

        async def send(batch):
            # Retry through a broker outage (ingest answers 503 + Retry-After while it cannot
            # produce); give up on a batch, and count it, only after RETRY_FOR_S.
            give_up = time.monotonic() + RETRY_FOR_S
            attempt = 0
            while True:
                wait = min(0.2 * (attempt + 1), 2.0)
                try:
                    resp = await self._client.post(url, json=batch)
                    if resp.status_code in (202, 422):
                        self.sent += resp.json().get("accepted", 0)
                        if resp.status_code == 422:
                            self.errors += len(resp.json().get("errors", []))
                        return True
                    if resp.status_code == 503:
                        wait = _retry_after(resp, wait)
                except httpx.HTTPError:
                    pass
                self.retries += 1
                attempt += 1
                if time.monotonic() + wait > give_up:
                    break
                await asyncio.sleep(wait)
            self.errors += len(batch)
            return False

        return send

    async def _close(self) -> None:
        if getattr(self, "_producer", None):
            await self._producer.stop()
        if getattr(self, "_client", None):
            await self._client.aclose()


async def simulate(
    settings: Settings, calls: int, duration: float | None = None, target: str = "ingest", speed: float = 1.0
) -> int:
    from shared.logs import setup_logging

    setup_logging("simulator", settings.log_level)
    sim = Simulator(settings, calls=calls, duration=duration, target=target, speed=speed)
    log.info("simulating", extra={"calls": calls, "scenarios": len(sim.scenarios), "target": target})
    await sim.run()
    log.info("done", extra={"sent": sim.sent, "errors": sim.errors, "calls": sim.calls_started})
    return 0 if sim.errors == 0 else 1
