"""Helpers for the scorecard / summary / whisper tests: a stack with its own history DB,
a scripted call whose scorecard is known, and small waits on the gateway's APIs."""

from __future__ import annotations

import time
from contextlib import contextmanager

import httpx

from shared.schemas import iso, utcnow
from tests.callkit import call_started, utterance
from tests.stackkit import LiveStack

ID_NUMBER = "110101199003074514"  # valid checksum: the analyzer redacts it to [身份证号]
CUSTOMER = {"id": "13700001111", "name": "赵女士", "segment": "standard"}


@contextmanager
def history_stack(own_stack, tmp_path_factory, name: str):
    """The real stack (recorder included) on a fresh SQLite history DB of its own
    (``own_stack`` is conftest's factory fixture)."""
    db_file = tmp_path_factory.mktemp(name) / "heartline.db"
    with own_stack(name, settings={"database_url": f"sqlite:///{db_file}"}) as live:
        yield live


# A transfer call handled well but for one thing: the agent reads the customer's
# full ID number back (privacy). Offsets in ms; the hold is announced (seq 6).
SCRIPT = [
    (1, "agent", "您好,很高兴为您服务,请问有什么可以帮您?", 0, 2000),
    (2, "customer", "我转账三天了还没到账,你们这服务太差了,我想查一下到底怎么回事", 2500, 6000),
    (3, "agent", "非常理解您的心情,给您添麻烦了", 6500, 8000),
    (4, "agent", "跟您确认一下,您是想查询转账到账的情况,对吗?", 8200, 10000),
    (5, "customer", "对", 10300, 10600),
    (6, "agent", "这个问题帮您核实一下,您方便在线等待吗?", 11000, 13000),
    (7, "customer", "好的", 13300, 13600),
    (8, "agent", "感谢您的耐心等待,已经帮您提交了加急处理,24小时内会有短信通知您", 30000, 34000),
    (9, "agent", f"您的身份证号是{ID_NUMBER}对吧", 34500, 37000),
    (10, "customer", "好的,谢谢", 37500, 38500),
    (11, "agent", "您看您还有其他问题吗?", 39000, 40500),
    (12, "customer", "没有了", 41000, 41500),
    (13, "agent", "谢谢您的来电,再见", 42000, 43500),
]
EXPECTED = {
    "greeting": "pass",
    "attention": "pass",
    "respect": "pass",
    "understanding": "pass",
    "affirmation": "na",
    "confirm_request": "pass",
    "hold_etiquette": "pass",
    "privacy": "fail",
    "compliance": "pass",
    "closing": "pass",
}


def scripted_call(call_id: str, agent: str, customer: dict | None = None) -> list[dict]:
    events = [call_started(call_id, agent, customer=customer or CUSTOMER)]
    events += [utterance(call_id, seq, text, speaker=who, start_ms=a, end_ms=b) for seq, who, text, a, b in SCRIPT]
    return events


def ended(call_id: str) -> dict:
    return {"type": "call_ended", "call_id": call_id, "ts": iso(utcnow()), "reason": "hangup"}


def api(stack: LiveStack, path: str, token: str | None = None, **kw) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    method = httpx.post if "json" in kw else httpx.get
    return method(f"{stack.gateway_url}{path}", headers=headers, timeout=10, **kw)


def wait_for(fn, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            value = fn()
        except httpx.TransportError:  # e.g. the gateway opening the history DB on first use
            value = None
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out: {what}")


def reviewed(stack: LiveStack, call_id: str, lines: int, seconds: float = 30) -> dict:
    """The call's review detail once the recorder has stored it ended, with all its lines."""
    sup = stack.token("s-001", "supervisor")

    def get():
        r = api(stack, f"/api/review/calls/{call_id}", sup)
        body = r.json() if r.status_code == 200 else None
        return body if body and body.get("scorecard") and len(body["transcript"]) >= lines else None

    return wait_for(get, seconds, f"call {call_id} scored in the history DB")
