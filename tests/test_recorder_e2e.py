"""Call history end to end on the real broker: stack -> recorder -> DB -> gateway APIs and pages.

One stack for the module (its own SQLite file). The calls build on each
other, like one customer's week: an unresolved login call, then the same
customer again (history panel data + repeat_caller nudge on the agent
socket), a re-read of every topic that must change nothing, bad records to
the dead-letter topic, the review API, and the pages in headless Chromium
(screenshots in docs/screenshots/).
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest
import websockets

from services.recorder import db
from services.recorder.queries import review_call
from services.recorder.store import Store
from services.recorder.worker import Recorder
from shared.kafka import consumer, producer, topic_partitions
from shared.schemas import iso, utcnow
from tests.callkit import call_started, collect, new_call_id, utterance
from tests.pagekit import shot, sign_in
from tests.storekit import snapshot

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent
CUSTOMER = {"id": "13912345678", "name": "王先生", "segment": "senior"}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def hstack(own_stack, tmp_path_factory):
    db_file = tmp_path_factory.mktemp("history") / "heartline.db"
    with own_stack("test_recorder_e2e", settings={"database_url": f"sqlite:///{db_file}"}) as live:
        yield live


@pytest.fixture(scope="module")
def store(hstack):
    engine = db.make_engine(hstack.settings.db_url)
    yield Store(engine, hstack.settings.customer_salt.get_secret_value(), hstack.settings.retention_days)
    engine.dispose()


@pytest.fixture(scope="module")
def first_call(hstack, store):
    """An angry customer whose login problem is not solved."""
    call_id = new_call_id("h1")
    events = [
        call_started(call_id, "a-051", customer=CUSTOMER),
        utterance(call_id, 1, "我的交易软件登录不上去了,一直提示密码错误,你们这服务太差了", start_ms=500),
        utterance(call_id, 2, "我查一下", speaker="agent", start_ms=3000),
        utterance(call_id, 3, "算了算了,什么破系统,气死我了", start_ms=6000),
    ]
    assert hstack.post_events(events).status_code == 202
    wait_for(lambda: (review_call(store, call_id) or {}).get("nudges"), 20, "a nudge of the call is recorded")
    hstack.post_events([{"type": "call_ended", "call_id": call_id, "ts": iso(utcnow()), "reason": "hangup"}])
    row = wait_for(lambda: _ended(store, call_id), 20, "the call lands in the DB after call_ended")
    return call_id, row


def _ended(store: Store, call_id: str):
    row = review_call(store, call_id)
    return row if row and row["ended_ts"] and row["outcome"] and len(row["transcript"]) == 3 else None


def wait_for(fn, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out: {what}")


def api(hstack, path, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"{hstack.gateway_url}{path}", headers=headers, timeout=10)


def test_finished_call_is_recorded(hstack, store, first_call):
    _, row = first_call
    assert row["topic"] == "login" and row["outcome"] == "unresolved"
    assert row["worst_emotion"] in {"anger", "anxiety", "sadness"}
    assert row["agent_id"] == "a-051" and row["customer"] == {"name": "王先生", "segment": "senior", "known": True}
    assert [u["speaker"] for u in row["transcript"]] == ["customer", "agent", "customer"]
    assert row["nudges"] and all(n["audience"] in ("agent", "supervisor") for n in row["nudges"])
    raw = Path(hstack.settings.db_url.removeprefix("sqlite:///")).read_bytes()
    assert CUSTOMER["id"].encode() not in raw, "the customer id is never stored in clear"


def test_same_customer_again_history_and_repeat_caller_nudge(hstack, store, first_call):
    first_id, _ = first_call
    call_id = new_call_id("h2")

    async def scenario():
        ws = await websockets.connect(f"{hstack.gateway_ws}/ws/agent?token={hstack.token('a-052')}")
        try:
            resp = hstack.post_events(
                [
                    call_started(call_id, "a-052", customer=CUSTOMER),
                    utterance(call_id, 1, "你好,我那个登录的问题还是没解决", start_ms=400),
                ]
            )
            assert resp.status_code == 202
            msgs = await collect(ws, 15, until=lambda m: any(x.get("type") == "repeat_caller" for x in m))
            return [m for m in msgs if m["kind"] == "nudge" and m.get("type") == "repeat_caller"]
        finally:
            await ws.close()

    nudges = asyncio.run(scenario())
    assert len(nudges) == 1, "the repeat_caller nudge reaches the agent's socket once"
    n = nudges[0]
    assert n["nudge_id"] == f"{call_id}:repeat:repeat_caller" and n["agent_id"] == "a-052"
    assert "登录" in n["suggestion"] and n["audience"] == "agent"

    token = hstack.token("a-052")
    hist = wait_for(
        lambda: (r := api(hstack, f"/api/history/{call_id}", token)).status_code == 200 and r.json(),
        10,
        "history for the new call",
    )
    assert hist["summary"].startswith("本周第2次来电") and "登录" in hist["summary"]
    assert hist["open_issue"]["call_id"] == first_id and hist["open_issue"]["topic"] == "login"
    assert [c["call_id"] for c in hist["calls"]] == [first_id]
    assert api(hstack, f"/api/history/{call_id}").status_code == 401
    assert api(hstack, f"/api/history/{call_id}", hstack.token("a-099")).status_code == 404, "not another agent's call"
    assert api(hstack, f"/api/history/{call_id}", hstack.token("s-001", "supervisor")).status_code == 200
    hstack.post_events([{"type": "call_ended", "call_id": call_id, "ts": iso(utcnow()), "reason": "hangup"}])
    wait_for(lambda: (review_call(store, call_id) or {}).get("ended_ts"), 10, "second call ended")


def test_review_api_is_for_supervisors(hstack, first_call):
    first_id, _ = first_call
    sup = hstack.token("s-001", "supervisor")
    assert api(hstack, "/api/review/calls").status_code == 401
    assert api(hstack, "/api/review/calls", "garbage").status_code == 401
    assert api(hstack, "/api/review/calls", hstack.token("a-051")).status_code == 403
    listed = api(hstack, "/api/review/calls?agent=a-051", sup).json()
    assert first_id in [c["call_id"] for c in listed["calls"]]
    detail = api(hstack, f"/api/review/calls/{first_id}", sup).json()
    assert detail["curve"] and detail["transcript"] and detail["nudges"]
    acc = api(hstack, "/api/review/acceptance", sup).json()
    assert acc["by_agent"]["a-051"]["shown"] >= 1
    assert api(hstack, "/api/review/calls/nope", sup).status_code == 404
    assert api(hstack, "/api/review/calls?since=yesterday", sup).status_code == 422
    assert httpx.get(f"{hstack.gateway_url}/review", timeout=5).status_code == 200


def test_bad_records_go_to_the_dead_letter_topic(hstack):
    s = hstack.settings

    async def scenario():
        prod = producer(s)
        await prod.start()
        await prod.send_and_wait(s.topics.call_state, b"{not json", key=b"bad-1")
        await prod.send_and_wait(s.topics.nudge_feedback, json.dumps({"nudge_id": "x"}).encode(), key=b"bad-2")
        await prod.stop()
        cons = consumer(s, s.topics.call_state + ".dlq", s.topics.nudge_feedback + ".dlq", group=None)
        await cons.start()
        found = []
        deadline = time.monotonic() + 45  # generous: a busy shared CI box
        while time.monotonic() < deadline and len(found) < 2:
            for records in (await cons.getmany(timeout_ms=500)).values():
                found += [json.loads(r.value) for r in records if b"recorder" in r.value or b"invalid" in r.value]
        await cons.stop()
        return found

    found = asyncio.run(scenario())
    assert {d["topic"] for d in found} >= {s.topics.call_state, s.topics.nudge_feedback}
    assert all("invalid" in d["reason"] for d in found)
    recorder = next(p for p in hstack.stack.procs if p.name.startswith("recorder"))
    assert recorder.popen.poll() is None
    assert httpx.get(f"{recorder.url}/readyz", timeout=5).status_code == 200
    assert "heartline_events_in_total" in httpx.get(f"{recorder.url}/metrics", timeout=5).text


def test_history_panel_and_review_page_in_chromium(hstack, store, first_call):
    pw = pytest.importorskip("playwright.sync_api")
    # the customer's two earlier calls (h1, h2) are recorded before the third starts
    wait_for(lambda: len(store.export_customer(CUSTOMER["id"])["calls"]) >= 2, 30, "two earlier calls recorded")
    call_id = new_call_id("h3")
    with pw.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 820}, locale="zh-CN")
            sign_in(page, f"{hstack.gateway_url}/agent", hstack.token("a-053"))
            page.wait_for_selector("[data-testid=conn-status][data-state=open]", timeout=15000)
            hstack.post_events(
                [
                    call_started(call_id, "a-053", customer=CUSTOMER),
                    utterance(call_id, 1, "您好,我的登录还是有问题", start_ms=300),
                ]
            )
            panel = page.locator("[data-testid=history-panel]")
            panel.wait_for(state="visible", timeout=20000)
            summary = page.locator("[data-testid=history-summary]").inner_text()
            assert summary.startswith("本周第3次来电"), summary
            assert page.locator("[data-testid=history-open-issue]").inner_text().startswith("未结问题:登录")
            assert page.locator(".history-call").count() == 2
            page.get_by_text("老客户再次来电").first.wait_for(timeout=15000)
            shot(page, "history.png")

            hstack.post_events([{"type": "call_ended", "call_id": call_id, "ts": iso(utcnow()), "reason": "hangup"}])
            wait_for(lambda: (review_call(store, call_id) or {}).get("outcome"), 10, "third call recorded")
            page = browser.new_page(viewport={"width": 1360, "height": 900}, locale="zh-CN")
            sign_in(page, f"{hstack.gateway_url}/review", hstack.token("s-001", "supervisor"))
            page.wait_for_selector("[data-testid=review-calls] tbody tr", timeout=15000)
            page.locator(f"tr[data-call-id='{first_call[0]}']").click()
            page.wait_for_selector("[data-testid=review-curve] svg polyline", timeout=10000)
            assert page.locator("[data-testid=review-transcript] li").count() == 3
            assert page.locator("[data-testid=review-nudges] li").count() >= 1
            assert page.locator("[data-testid=acceptance-types] tbody tr").count() >= 1
            shot(page, "review.png", full_page=True)
        finally:
            browser.close()


def test_reconsuming_every_topic_changes_nothing(hstack, store):
    """A second recorder reads all four topics from the start into the same DB: no row changes."""
    s = hstack.settings
    before = wait_for(lambda: _quiet(store), 15, "the recorder is idle")

    async def reread():
        rec = Recorder(s, store)
        rec.producer = producer(s)
        await rec.producer.start()
        cons = consumer(s, group=None, enable_auto_commit=False)
        await cons.start()
        parts = await topic_partitions(cons, rec.models)
        cons.assign(parts)
        await cons.seek_to_beginning(*parts)
        empty = 0
        while empty < 3:
            batches = await cons.getmany(timeout_ms=300, max_records=500)
            empty = 0 if batches else empty + 1
            if batches:
                await rec.handle(batches)
        await cons.stop()
        await rec.producer.stop()

    asyncio.run(reread())
    assert snapshot(store) == before


def _quiet(store):
    first = snapshot(store)
    time.sleep(1.0)
    return first if snapshot(store) == first else None
