"""What a test sends and reads like a client: call ids, STT events, socket messages."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

from shared.schemas import iso, utcnow


def new_call_id(prefix: str = "c") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def call_started(call_id: str, agent_id: str = "a-007", **extra) -> dict:
    return {
        "type": "call_started",
        "call_id": call_id,
        "ts": iso(utcnow()),
        "agent_id": agent_id,
        "customer": {"name": "王先生", "segment": "senior"},
        "queue": "brokerage",
        **extra,
    }


def utterance(
    call_id: str, seq: int, text: str, speaker: str = "customer", final: bool = True, start_ms: int = 0, end_ms: int = 0
) -> dict:
    return {
        "type": "utterance",
        "call_id": call_id,
        "seq": seq,
        "speaker": speaker,
        "text": text,
        "is_final": final,
        "start_ms": start_ms,
        "end_ms": end_ms or start_ms + 1500,
        "confidence": 0.93,
        "ts": iso(utcnow()),
    }


async def collect(ws, seconds: float, until=None) -> list[dict]:
    """Messages from a websocket for up to ``seconds`` (or until ``until(msgs)``)."""
    out: list[dict] = []
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return out
        try:
            out.append(json.loads(await asyncio.wait_for(ws.recv(), left)))
        except TimeoutError:
            return out
        if until and until(out):
            return out
