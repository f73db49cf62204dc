"""The agent desktop and the supervisor wall in headless Chromium, on the real stack.

Calls are driven the way an ASR would drive them: CallEvents posted to ingest,
partials first, then the final of each segment. What the pages show is what
went through ingest -> analyzer -> nudger -> gateway -> websocket; the
agent's feedback is read back from the `nudge-feedback` topic. One browser for
the module, one fresh context (storage) per test, one agent per test.
Screenshots with live data go to docs/screenshots/.
"""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from shared.kafka import consumer
from shared.schemas import iso, utcnow
from tests.callkit import call_started, new_call_id, utterance
from tests.pagekit import shot, sign_in

pw = pytest.importorskip("playwright.sync_api")
expect = pw.expect

pytestmark = [pytest.mark.browser, pytest.mark.brokers("embedded", "kafka")]

ROOT = Path(__file__).resolve().parent.parent
VIEWPORT = {"width": 1360, "height": 820}

ANGRY = "你们这服务太差了,我都等了半个小时了"
ID_NUMBER = "110101199003074514"  # valid checksum: the analyzer redacts it
WAIT_MS = 20_000  # pipeline + 3 s grace on a shared 2-core machine
expect.set_options(timeout=WAIT_MS)


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    pg = ctx.new_page()
    pg.set_default_timeout(WAIT_MS)
    try:
        yield pg
    finally:
        ctx.close()


# ---------------------------------------------------------------- helpers


def post(stack, *events):
    resp = stack.post_events(list(events))
    assert resp.status_code == 202, resp.text


def end_call(stack, call_id):
    stack.post_events([{"type": "call_ended", "call_id": call_id, "ts": iso(utcnow()), "reason": "hangup"}])


def sign_in_with_picker(page, url, sub):
    page.goto(url)
    option = page.locator(f"[data-testid=agent-picker] [data-testid=agent-option][data-id='{sub}']")
    option.click()
    expect(page.locator("[data-testid=conn-status]")).to_have_attribute("data-state", "open")


def line(page, call_id, seq, speaker, scope=None):
    root = scope or f".transcript[data-call-id='{call_id}']"
    return page.locator(f"{root} [data-testid=transcript-line][data-seq='{seq}'][data-speaker='{speaker}']")


def card(page, nudge_type=None, nudge_id=None):
    sel = "[data-testid=nudge-card]"
    if nudge_type:
        sel += f"[data-type='{nudge_type}']"
    if nudge_id:
        sel += f"[data-nudge-id='{nudge_id}']"
    return page.locator(sel)


def page_keys(page):
    """Every transcript line as call|seq|speaker and every card's nudge id, as the DOM holds them."""
    return page.evaluate("""() => ({
        lines: [...document.querySelectorAll('[data-testid=transcript-line]')].map(
            e => e.closest('.transcript').dataset.callId + '|' + e.dataset.seq + '|' + e.dataset.speaker),
        nudges: [...document.querySelectorAll('[data-testid=nudge-card]')].map(e => e.dataset.nudgeId),
    })""")


def read_feedback(stack, want, seconds=20.0):
    """Records of the nudge-feedback topic (from the beginning) until `want(records)` holds."""
    s = stack.settings

    async def scan():
        cons = consumer(s, s.topics.nudge_feedback, group=None)
        await cons.start()
        found = []
        try:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline and not want(found):
                for records in (await cons.getmany(timeout_ms=500)).values():
                    found += [json.loads(r.value) for r in records]
        finally:
            await cons.stop()
        return found

    # The sync Playwright API owns this thread's event loop: the consumer gets its own thread.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, scan()).result(seconds + 30)


# ---------------------------------------------------------------- agent desktop


def test_agent_desk_live_call_nudges_feedback_and_pii(stack, page):
    agent = "a-012"  # the picker offers the demo agents only; this stack runs no demo calls
    call_id = new_call_id("pg1")
    try:
        sign_in_with_picker(page, f"{stack.gateway_url}/agent", agent)
        expect(page.locator("[data-testid=who]")).to_contain_text(agent)

        post(
            stack,
            call_started(call_id, agent),
            utterance(call_id, 1, "你们这服务", final=False, start_ms=500, end_ms=1200),
        )
        expect(page.locator(f"[data-testid=call-tab][data-call-id='{call_id}']")).to_be_visible()
        first = line(page, call_id, 1, "customer")
        expect(first).to_have_attribute("data-final", "false")
        first.evaluate("el => el.setAttribute('data-probe', 'partial')")  # survives only an in-place update

        post(
            stack,
            utterance(call_id, 1, "你们这服务太差了,我都等了", final=False, start_ms=500, end_ms=2400),
            utterance(call_id, 1, ANGRY, start_ms=500, end_ms=3400),
            utterance(call_id, 2, "嗯", speaker="agent", final=False, start_ms=3600, end_ms=3900),
            utterance(call_id, 2, "嗯,请您说一下具体情况", speaker="agent", start_ms=3600, end_ms=5200),
            utterance(call_id, 3, "我的身份证号是", final=False, start_ms=5400, end_ms=6500),
            utterance(call_id, 3, f"我的身份证号是{ID_NUMBER}", start_ms=5400, end_ms=9000),
        )
        expect(first).to_have_attribute("data-final", "true")
        expect(first).to_have_attribute("data-probe", "partial")
        expect(first.locator(".text")).to_have_text(ANGRY)
        expect(line(page, call_id, 2, "agent")).to_have_attribute("data-final", "true")
        expect(line(page, call_id, 3, "customer")).to_have_attribute("data-final", "true")

        # PII: the final is shown redacted (a chip), and no digit run of the number is anywhere on the page.
        expect(line(page, call_id, 3, "customer").locator(".pii")).to_have_count(1)
        privacy = card(page, "privacy_guard")
        expect(privacy).to_have_count(1)

        # The angry customer's nudge comes after the rule's 3 s grace (the agent said no empathy words).
        ack = card(page, "acknowledge_emotion")
        expect(ack).to_have_count(1)
        expect(ack).to_have_attribute("data-nudge-id", f"{call_id}:1:acknowledge_emotion")
        expect(ack).to_have_attribute("data-state", "open")
        text = page.inner_text("body")
        runs = {ID_NUMBER[i : i + 6] for i in range(len(ID_NUMBER) - 5)}
        assert not [r for r in runs if r in text], "a digit run of the id number is on the page"
        assert "身份证号" in line(page, call_id, 3, "customer").inner_text()
        shot(page, "agent.png")

        keys = page_keys(page)
        assert sorted(keys["lines"]) == sorted(
            {f"{call_id}|{s}|{w}" for s, w in ((1, "customer"), (2, "agent"), (3, "customer"))}
        )
        assert len(keys["nudges"]) == len(set(keys["nudges"]))

        ack_id = ack.get_attribute("data-nudge-id")
        privacy_id = privacy.get_attribute("data-nudge-id")
        ack.get_by_test_id("btn-accept").click()  # 用了
        expect(ack).to_have_attribute("data-state", "accepted")
        privacy.get_by_test_id("btn-dismiss").click()  # 忽略
        expect(card(page, nudge_id=privacy_id)).to_have_count(0)  # dismissed: fades out
        expect(ack).to_have_attribute("data-state", "accepted")  # the used one stays a while, marked

        def done(records):
            return {(r["nudge_id"], r["action"]) for r in records} >= {(ack_id, "accepted"), (privacy_id, "dismissed")}

        records = read_feedback(stack, done)
        assert done(records), records
        mine = [r for r in records if r["call_id"] == call_id]
        assert len(mine) == 2, "one feedback record per click"
        assert all(r["agent_id"] == agent for r in mine)
        assert {r["nudge_id"]: r["type"] for r in mine} == {ack_id: "acknowledge_emotion", privacy_id: "privacy_guard"}
    finally:
        end_call(stack, call_id)


def test_agent_reload_resumes_without_duplicates(stack, page):
    agent = "a-401"
    call_id = new_call_id("pg2")
    try:
        sign_in(page, f"{stack.gateway_url}/agent", stack.token(agent))
        expect(page.locator("[data-testid=conn-status]")).to_have_attribute("data-state", "open")
        post(
            stack,
            call_started(call_id, agent),
            utterance(call_id, 1, "喂,你好", final=False, start_ms=300, end_ms=900),
            utterance(call_id, 1, "喂,你好,我的账户登录不上", start_ms=300, end_ms=2100),
            utterance(call_id, 2, "您好,请问", speaker="agent", final=False, start_ms=2300, end_ms=2800),
            utterance(call_id, 2, "您好,请问您遇到什么问题", speaker="agent", start_ms=2300, end_ms=3600),
            utterance(call_id, 3, "你们这服务", final=False, start_ms=3800, end_ms=4500),
            utterance(call_id, 3, ANGRY, start_ms=3800, end_ms=6000),
        )
        ack = card(page, "acknowledge_emotion")
        expect(ack).to_have_count(1)
        expect(line(page, call_id, 3, "customer")).to_have_attribute("data-final", "true")
        before = page_keys(page)
        assert len(before["lines"]) == 3 and len(set(before["lines"])) == 3
        assert len(before["nudges"]) == len(set(before["nudges"])) >= 1

        page.reload()
        expect(page.locator("[data-testid=conn-status]")).to_have_attribute("data-state", "open")
        expect(page.locator(f"[data-testid=call-tab][data-call-id='{call_id}']")).to_have_count(1)
        expect(page.locator("[data-testid=transcript-line]")).to_have_count(3)
        expect(card(page, "acknowledge_emotion")).to_have_count(1)
        page.wait_for_timeout(1500)  # anything the gateway would send twice has arrived by now
        after = page_keys(page)
        assert sorted(after["lines"]) == sorted(before["lines"])
        assert len(after["nudges"]) == len(set(after["nudges"])), after["nudges"]
        assert set(before["nudges"]) <= set(after["nudges"])

        # Live again after the reload: a new segment shows once, the partial replaced by its final.
        post(
            stack,
            utterance(call_id, 4, "非常理解", speaker="agent", final=False, start_ms=6200, end_ms=6800),
            utterance(call_id, 4, "非常理解您的心情,我马上帮您处理", speaker="agent", start_ms=6200, end_ms=8000),
        )
        expect(line(page, call_id, 4, "agent")).to_have_attribute("data-final", "true")
        final = page_keys(page)
        assert len(final["lines"]) == len(set(final["lines"])) == 4
        assert len(final["nudges"]) == len(set(final["nudges"]))
    finally:
        end_call(stack, call_id)


# ---------------------------------------------------------------- supervisor wall


def test_wall_escalation_moves_to_top_alerts_and_listen_in(stack, page):
    calm_id = new_call_id("pg3calm")
    hot_id = new_call_id("pg3hot")
    tiles = page.locator("[data-testid=tiles] > [data-testid=tile]")
    try:
        sign_in_with_picker(page, f"{stack.gateway_url}/wall", "s-001")
        post(
            stack,
            call_started(calm_id, "a-402", customer={"name": "李女士", "segment": "standard"}),
            utterance(calm_id, 1, "你好,我想查一下", final=False, start_ms=300, end_ms=1000),
            utterance(calm_id, 1, "你好,我想查一下我的账户余额,谢谢", start_ms=300, end_ms=2200),
            utterance(calm_id, 2, "好的,没问题", speaker="agent", start_ms=2400, end_ms=3200),
        )
        calm = page.locator(f"[data-testid=tile][data-call-id='{calm_id}']")
        expect(calm).to_be_visible()

        # The second call starts later: below the calm one until it escalates.
        post(stack, call_started(hot_id, "a-403"))
        hot = page.locator(f"[data-testid=tile][data-call-id='{hot_id}']")
        expect(tiles).to_have_count(2)
        expect(tiles.nth(1)).to_have_attribute("data-call-id", hot_id)
        expect(hot.get_by_test_id("badge-escalated")).to_have_count(0)

        post(
            stack,
            utterance(hot_id, 1, "你们这服务", final=False, start_ms=400, end_ms=1200),
            utterance(hot_id, 1, ANGRY, start_ms=400, end_ms=2600),
            utterance(hot_id, 2, "我要投诉", final=False, start_ms=2800, end_ms=3500),
            utterance(hot_id, 2, "我要投诉你们,我要打12386", start_ms=2800, end_ms=5200),
        )
        expect(hot.get_by_test_id("badge-escalated")).to_be_visible()
        alert = page.locator(f"[data-testid=alert][data-call-id='{hot_id}']")
        expect(alert).to_have_count(1)
        expect(tiles.first).to_have_attribute("data-call-id", hot_id)
        expect(tiles.nth(1)).to_have_attribute("data-call-id", calm_id)
        hot_risk = float(hot.get_attribute("data-risk"))
        calm_risk = float(calm.get_attribute("data-risk"))
        assert hot_risk - calm_risk > 0.05, (hot_risk, calm_risk)
        expect(calm.get_by_test_id("badge-escalated")).to_have_count(0)

        hot.click()
        panel = page.get_by_test_id("listen-panel")
        expect(panel).to_be_visible()
        expect(panel).to_have_attribute("data-call-id", hot_id)
        listen_lines = panel.locator("[data-testid=transcript-line]")
        expect(listen_lines).to_have_count(2)
        expect(line(page, hot_id, 2, "customer", scope="#listen-transcript")).to_contain_text("我要投诉你们")
        expect(line(page, hot_id, 2, "customer", scope="#listen-transcript")).to_have_attribute("data-final", "true")
        # The agent's nudges of the watched call show too (the alert itself is in the alert list,
        # sent once per connection). The angry customer's card comes after its 3 s grace.
        expect(panel.locator("[data-testid=listen-nudge][data-type='acknowledge_emotion']")).to_have_count(1)

        # Listen-in is live: the next line of the watched call arrives in the panel.
        post(stack, utterance(hot_id, 3, "非常抱歉给您带来不好的体验", speaker="agent", start_ms=5400, end_ms=7600))
        expect(listen_lines).to_have_count(3)
        shot(page, "wall.png")
    finally:
        end_call(stack, calm_id)
        end_call(stack, hot_id)
