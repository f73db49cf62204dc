"""Build the scenario library: compact call scripts → JSONL CallEvents as a streaming ASR emits them.

The scripts live in ``scenarios/scripts.yaml`` (name → agent, customer,
queue, rates, script). Run ``python -m services.simulator.build_scenarios``
after editing one; the generated JSONL files are committed next to it.

Script lines (one speech segment or call event each):

    C 0.8 客户说的话。        speaker C(ustomer)/A(gent), gap in seconds after the
    A -1.5 坐席插话……           latest speech ended (negative: starts while the
                                other side is still talking — an overlap)
    HOLD 30                     hold_started 0.5 s after the last speech, hold_ended 30 s later
    END 1.5                     call_ended 1.5 s after the last speech
    DUP                         the ASR retries: the previous final is sent again

Each segment lasts len(text) / rate seconds (rate in characters per second,
slower for senior customers), emits a partial every 300 ms with the text
grown so far (same seq, growing end_ms, is_final false), then the final. seq
numbers segments in order of their start; both channels' events are merged
by time, so they interleave as they would live.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent / "scenarios"
SCRIPTS = HERE / "scripts.yaml"
PARTIAL_MS = 300
BASE = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _iso(t0: datetime, ms: int) -> str:
    ts = t0 + timedelta(milliseconds=ms)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def build(number: int, spec: dict) -> list[dict]:
    call_id = f"scn-{number:02d}"
    t0 = BASE + timedelta(minutes=10 * number)
    rate = {"A": spec.get("agent_rate", 4.6), "C": spec.get("customer_rate", 4.4)}
    timed: list[tuple[int, int, dict]] = []  # (ms, order, event)
    order = 0

    def add(ms: int, event: dict) -> None:
        nonlocal order
        event = {"type": event["type"], "call_id": call_id, "ts": _iso(t0, ms), **event}
        timed.append((ms, order, event))
        order += 1

    add(
        0,
        {
            "type": "call_started",
            "agent_id": spec["agent"],
            "customer": spec.get("customer", {}),
            "queue": spec.get("queue", "brokerage"),
        },
    )
    latest_end, seq, last_final = 600, 0, None
    for raw in spec["script"].strip().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        head, _, rest = line.partition(" ")
        if head == "HOLD":
            start = latest_end + 500
            add(start, {"type": "hold_started"})
            latest_end = start + int(float(rest) * 1000)
            add(latest_end, {"type": "hold_ended"})
            continue
        if head == "END":
            add(latest_end + int(float(rest or 1) * 1000), {"type": "call_ended", "reason": "hangup"})
            continue
        if head == "DUP":
            ms, _, ev = last_final
            add(ms + 200, dict(ev))
            continue
        gap, _, text = rest.partition(" ")
        speaker = "agent" if head == "A" else "customer"
        seq += 1
        start = max(0, latest_end + int(float(gap) * 1000))
        dur = max(600, int(len(text) / rate[head] * 1000))
        end = start + dur
        base = {"type": "utterance", "seq": seq, "speaker": speaker, "start_ms": start}
        for k in range(1, math.ceil(dur / PARTIAL_MS)):
            at = start + k * PARTIAL_MS
            shown = text[: max(1, round(len(text) * k * PARTIAL_MS / dur))]
            add(at, {**base, "text": shown, "is_final": False, "end_ms": at, "confidence": 0.8})
        final = {**base, "text": text, "is_final": True, "end_ms": end, "confidence": 0.93}
        add(end, final)
        last_final = timed[-1]
        latest_end = max(latest_end, end)
    timed.sort(key=lambda x: (x[0], x[1]))
    return [ev for _, _, ev in timed]


def load_scripts() -> dict[str, dict]:
    return yaml.safe_load(SCRIPTS.read_text(encoding="utf-8"))


def main() -> None:
    scenarios = load_scripts()
    for old in HERE.glob("*.jsonl"):
        old.unlink()
    for name, spec in scenarios.items():
        number = int(name.split("_", 1)[0])
        lines = [json.dumps(ev, ensure_ascii=False, separators=(",", ":")) for ev in build(number, spec)]
        (HERE / f"{name}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(scenarios)} scenarios to {HERE}")


if __name__ == "__main__":
    main()
