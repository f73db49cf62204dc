"""The two load-generator processes of the end-to-end benchmark and the load test.

* ``simulator_main``: the Simulator (target ingest) driving N concurrent call
  slots; records every event ingest accepted (as sent, with the simulator's own
  ``ts``) and how late each was against its schedule. On ``stop`` it ends the
  calls in flight (``call_ended`` after ``end_delay_s``, so the last
  utterances are analysed before the call ends, as in a real call), and on
  ``expect`` it replays each call's events offline (``services.nudger.replay``)
  and returns the nudges each call should yield.
* ``clients_main``: one real websocket per agent (``/ws/agent``) plus one
  supervisor wall (``/ws/wall``); records, with the receive time, every nudge,
  every transcript line and the moment each call's end was shown. Reconnects
  a closed socket (counted), exactly as a desktop would.

Each runs in its own process (spawned), so the measuring sockets are not slowed
by the simulator's work, and talks to the orchestrator over a pipe.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict

AGENT_PREFIX = "a-"


def agent_id(slot: int) -> str:
    return f"{AGENT_PREFIX}{slot + 1:03d}"  # the Simulator's agent of slot i


# --------------------------------------------------------------------------- simulator


def simulator_main(conn, settings, calls: int, speed: float, end_delay_s: float) -> None:
    asyncio.run(_simulator(conn, settings, calls, speed, end_delay_s))


async def _simulator(conn, settings, calls: int, speed: float, end_delay_s: float) -> None:
    from services.simulator.simulate import Simulator

    events: dict[str, list[dict]] = defaultdict(list)
    late: list[float] = []
    counts = {"sent_in_window": 0}
    window = {"open": False}

    def on_send(batch: list[dict], lateness: list[float]) -> None:
        for ev in batch:
            events[ev["call_id"]].append(ev)
        if window["open"]:
            late.extend(lateness)
            counts["sent_in_window"] += len(batch)

    sim = Simulator(settings, calls=calls, target="ingest", speed=speed, on_send=on_send)
    task = asyncio.create_task(sim.run())
    conn.send(("started", time.time()))
    loop = asyncio.get_running_loop()
    while True:
        cmd = await loop.run_in_executor(None, conn.recv)
        if cmd == "window":
            window["open"] = True
            counts["sent_in_window"] = 0
            conn.send(("ok", None))
        elif cmd == "stop":
            window["open"] = False
            sim.stop(end_after_s=end_delay_s)  # nothing new; calls in flight end end_delay_s later
            await task
            conn.send(
                (
                    "stopped",
                    {
                        "sent": sim.sent,
                        "errors": sim.errors,
                        "calls": sim.calls_started,
                        "sent_in_window": counts["sent_in_window"],
                        "late": late,
                    },
                )
            )
        elif cmd == "expect":
            conn.send(("expected", expected_for(events, settings)))
        elif cmd == "quit":
            return


def expected_for(events: dict[str, list[dict]], settings, workers: int = 2) -> dict[str, list[tuple]]:
    """call_id -> [(nudge_id, type, audience, trigger_seq)] from an offline replay of what was sent."""
    from concurrent.futures import ProcessPoolExecutor

    items = list(events.items())
    chunks = [items[i::workers] for i in range(workers)]
    out: dict[str, list[tuple]] = {}
    with ProcessPoolExecutor(workers) as pool:
        for part in pool.map(
            _replay_chunk, chunks, [str(settings.rules)] * workers, [str(settings.knowledge)] * workers
        ):
            out.update(part)
    return out


def _replay_chunk(
    items: list[tuple[str, list[dict]]], rules_path: str, knowledge_dir: str | None = None
) -> dict[str, list[tuple]]:
    """The replay with the analyzer's knowledge base, as the live analyzer runs (knowledge_answer)."""
    from services.analyzer.analysis import analyze_utterance
    from services.analyzer.knowledge_base import load_base
    from services.nudger.replay import replay
    from services.nudger.rules import load_rules
    from shared.schemas import parse_event

    rules = load_rules(rules_path)
    base = load_base(knowledge_dir) if knowledge_dir else None
    analyzer = (lambda u: analyze_utterance(u, knowledge=base)) if base is not None else None
    out = {}
    for call_id, evs in items:
        nudges = replay([parse_event(e) for e in evs], rules, analyzer=analyzer)
        out[call_id] = [(n.nudge_id, n.type, n.audience, n.trigger_seq) for n in nudges]
    return out


# --------------------------------------------------------------------------- sockets


def clients_main(conn, settings, agents: int, wall: bool) -> None:
    asyncio.run(_clients(conn, settings, agents, wall))


class Recorder:
    """What the sockets saw. Times are ``time.time()`` right after the frame was read."""

    def __init__(self) -> None:
        # (socket, connection no, nudge_id, type, audience, call_id, trigger_seq, ingest_ts, created_ts, recv)
        self.nudges: list[tuple] = []
        # (call_id, seq, speaker, is_final, ingest_ts, analyzed_ts, recv)
        self.transcripts: list[tuple] = []
        self.ended: dict[str, float] = {}  # call_id -> when the agent was told the call ended
        self.reconnects = 0
        self.close_codes: dict[int, int] = defaultdict(int)
        self.loop_lag: list[float] = []
        self.messages = 0

    def summary(self) -> dict:
        return {
            "nudges": self.nudges,
            "transcripts": self.transcripts,
            "ended": self.ended,
            "reconnects": self.reconnects,
            "close_codes": dict(self.close_codes),
            "loop_lag": self.loop_lag,
            "messages": self.messages,
        }


async def _clients(conn, settings, agents: int, wall: bool) -> None:
    import orjson
    import websockets

    from shared.auth import mint

    rec = Recorder()
    base = f"ws://127.0.0.1:{settings.gateway_port}"
    stopping = asyncio.Event()
    loads = orjson.loads

    async def socket(path: str, sub: str, role: str, name: str, connected: asyncio.Event) -> None:
        conn_no = 0
        while not stopping.is_set():
            conn_no += 1
            try:
                async with websockets.connect(
                    f"{base}{path}?token={mint(settings, sub, role)}",
                    max_size=None,
                    open_timeout=60,
                    ping_interval=None,
                ) as ws:
                    connected.set()
                    async for text in ws:
                        now = time.time()
                        rec.messages += 1
                        msg = loads(text)
                        kind = msg.get("kind")
                        if kind == "transcript":
                            rec.transcripts.append(
                                (
                                    msg["call_id"],
                                    msg["seq"],
                                    msg["speaker"],
                                    msg.get("is_final", True),
                                    msg["ingest_ts"],
                                    msg["analyzed_ts"],
                                    now,
                                )
                            )
                        elif kind == "nudge":
                            rec.nudges.append(
                                (
                                    name,
                                    conn_no,
                                    msg["nudge_id"],
                                    msg["type"],
                                    msg.get("audience"),
                                    msg["call_id"],
                                    msg.get("trigger_seq"),
                                    msg.get("ingest_ts"),
                                    msg.get("created_ts"),
                                    now,
                                )
                            )
                        elif kind == "call" and msg.get("ended_ts") and msg["call_id"] not in rec.ended:
                            rec.ended[msg["call_id"]] = now
                    rec.close_codes[ws.close_code or 0] += 1
            except (TimeoutError, OSError, websockets.WebSocketException) as exc:
                code = getattr(getattr(exc, "rcvd", None), "code", None) or -1
                rec.close_codes[code] += 1
            if not stopping.is_set():
                rec.reconnects += 1
                await asyncio.sleep(0.5)

    async def lag_probe() -> None:
        while not stopping.is_set():
            t = time.perf_counter()
            await asyncio.sleep(0.05)
            rec.loop_lag.append(time.perf_counter() - t - 0.05)

    tasks = []
    sem = asyncio.Semaphore(50)

    async def start(path, sub, role, name):
        ev = asyncio.Event()
        async with sem:
            tasks.append(asyncio.create_task(socket(path, sub, role, name, ev)))
            await asyncio.wait_for(ev.wait(), 120)

    plan = [("/ws/agent", agent_id(i), "agent", agent_id(i)) for i in range(agents)]
    if wall:
        plan.append(("/ws/wall", "s-001", "supervisor", "wall"))
    await asyncio.gather(*(start(*p) for p in plan))
    probe = asyncio.create_task(lag_probe())
    conn.send(("connected", len(plan)))
    loop = asyncio.get_running_loop()
    while True:
        cmd = await loop.run_in_executor(None, conn.recv)
        if cmd == "reset_lag":
            rec.loop_lag.clear()
            conn.send(("ok", None))
        elif cmd == "stop":
            stopping.set()
            for t in [*tasks, probe]:
                t.cancel()
            await asyncio.gather(*tasks, probe, return_exceptions=True)
            conn.send(("records", rec.summary()))
            return
