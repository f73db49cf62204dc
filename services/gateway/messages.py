"""Every message the gateway's websockets send: one JSON object with a ``kind`` (docs/websocket.md).

Records travel flat — a ``nudge`` message is the Nudge's fields plus ``"kind": "nudge"`` — so
the record builders take the record's dict. ``encode`` turns a message into its text frame
once; the hub shares that text between all the clients it goes to. The models that document
these messages (docs/asyncapi.yaml) are ``shared/socket_messages.py``; tests/test_contract.py
checks messages captured from the running sockets against them, tests/test_gateway_protocol.py
every message the protocol tests receive.
"""

from __future__ import annotations

from typing import Any

import orjson

CALL = "call"
CALL_STATE = "call_state"
TRANSCRIPT = "transcript"
NUDGE = "nudge"


def encode(msg: dict) -> str:
    return orjson.dumps(msg).decode()


def record(kind: str, rec: dict) -> dict:
    """A record's fields as a message of ``kind`` (``call``, ``call_state``, ``transcript``, ``nudge``)."""
    return {"kind": kind, **rec}


def is_nudge(msg: dict) -> bool:
    return msg.get("kind") == NUDGE


def error(text: str, **extra: Any) -> dict:
    """A malformed or refused client message; the socket stays open."""
    return {"kind": "error", "error": text, **extra}


def whisper_refused(call_id: Any, status: int, reason: str) -> dict:
    """A whisper the gateway did not send, with the HTTP-like status (404, 409, 422, 429, 503)."""
    return error(f"whisper: {reason}", about="whisper", status=status, call_id=call_id)


def whisper_ack(call_id: str, nudge_id: str) -> dict:
    return {"kind": "whisper_ack", "call_id": call_id, "nudge_id": nudge_id}


def feedback_not_recorded(nudge_id: str, retry_after_s: float) -> dict:
    """Feedback the broker did not take (it is down): the desk sends it again after ``retry_after_s``."""
    return error(
        "feedback: not recorded, the broker is unavailable; send it again",
        about="feedback",
        nudge_id=nudge_id,
        retry_after_s=retry_after_s,
    )


def feedback_ack(nudge_id: str, action: str) -> dict:
    return {"kind": "feedback_ack", "nudge_id": nudge_id, "action": action}


def resumed(call_id: str, after_seq: int) -> dict:
    return {"kind": "resumed", "call_id": call_id, "after_seq": after_seq}


def pong(t: Any) -> dict:
    return {"kind": "pong", "t": t}


def stats(figures: dict) -> dict:
    """The wall's header: live_calls, at_risk, nudges_per_min, acceptance_rate."""
    return {"kind": "stats", **figures}
