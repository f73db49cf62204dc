"""Scorecard, post-call summary and whisper on the real pages, in headless Chromium.

One stack (with its own history DB) for the module, one browser; calls go in
through ingest. Screenshots (docs/screenshots/scorecard.png, whisper.png,
whisper-wall.png) are written only when HEARTLINE_SCREENSHOTS=1, so a test
run never changes tracked files.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.callkit import call_started, new_call_id, utterance
from tests.pagekit import sign_in
from tests.reviewkit import (
    CUSTOMER,
    EXPECTED,
    ID_NUMBER,
    SCRIPT,
    api,
    ended,
    history_stack,
    reviewed,
    scripted_call,
    wait_for,
)

pw = pytest.importorskip("playwright.sync_api")
expect = pw.expect

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
WAIT_MS = 20_000
expect.set_options(timeout=WAIT_MS)


def shoot(page, name: str, **kw) -> None:
    if os.environ.get("HEARTLINE_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / name), **kw)


@pytest.fixture(scope="module")
def stack(own_stack, tmp_path_factory):
    with history_stack(own_stack, tmp_path_factory, "test_review_pages") as live:
        yield live


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    ctx.set_default_timeout(WAIT_MS)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture(scope="module")
def scored_call(stack):
    call_id = new_call_id("pgsc")
    assert stack.post_events(scripted_call(call_id, "a-071")).status_code == 202
    wait_for(
        lambda: api(stack, f"/api/review/calls/{call_id}", stack.token("s-001", "supervisor")).status_code == 200,
        30,
        "the call is recorded",
    )
    stack.post_events([ended(call_id)])
    return call_id, reviewed(stack, call_id, len(SCRIPT))


def test_review_page_shows_the_scorecard_with_evidence_summary_and_trend(stack, context, scored_call):
    call_id, detail = scored_call
    page = context.new_page()
    sign_in(page, f"{stack.gateway_url}/review", stack.token("s-001", "supervisor"))
    row = page.locator(f"[data-testid=review-calls] tr[data-call-id='{call_id}']")
    expect(row.get_by_test_id("call-score")).to_have_text(str(detail["score"]))
    row.click()
    expect(page.get_by_test_id("score-total")).to_have_text(str(detail["score"]))
    items = page.locator("[data-testid=score-item]")
    expect(items).to_have_count(len(EXPECTED))
    for key, status in EXPECTED.items():
        expect(page.locator(f"[data-testid=score-item][data-key='{key}']")).to_have_attribute("data-status", status)
    privacy = page.locator("[data-testid=score-item][data-key='privacy']")
    expect(privacy.locator("[data-testid=evidence] li[data-seq='9']")).to_have_count(1)
    expect(privacy.locator(".pii")).to_have_text("身份证号")  # the redaction chip, never the number
    greeting = page.locator("[data-testid=score-item][data-key='greeting'] [data-testid=evidence] li")
    expect(greeting).to_contain_text(SCRIPT[0][2])
    recap = page.get_by_test_id("review-recap")
    expect(recap.locator("dd[data-field='客户诉求'] [data-seq='2']")).to_contain_text("转账三天了还没到账")
    expect(recap.locator("dd[data-field='待跟进']")).to_contain_text("24小时内会有短信通知您")
    expect(recap.locator("dd[data-field='结果']")).to_contain_text("已解决")
    trend = page.locator("[data-testid=score-trend] tr[data-agent='a-071']")
    expect(trend).to_contain_text("保护隐私")
    expect(trend.locator("td").nth(2)).to_have_text(str(detail["score"]))
    body = page.inner_text("body")
    assert ID_NUMBER[:6] not in body and ID_NUMBER[-6:] not in body
    shoot(page, "scorecard.png", full_page=True)


def test_whisper_from_the_wall_to_the_agent_desktop(stack, context, browser):
    agent = "a-072"
    call_id = new_call_id("pgwh")
    text = "先向客户道歉,再说明到账时间"
    desk = context.new_page()
    sign_in(desk, f"{stack.gateway_url}/agent", stack.token(agent))
    expect(desk.locator("[data-testid=conn-status]")).to_have_attribute("data-state", "open")
    wall_ctx = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    try:
        wall = wall_ctx.new_page()
        wall.set_default_timeout(WAIT_MS)
        sign_in(wall, f"{stack.gateway_url}/wall", stack.token("s-001", "supervisor"))
        stack.post_events(
            [
                call_started(call_id, agent, customer={"name": "钱先生", "segment": "senior"}),
                utterance(call_id, 1, "我转的钱三天了还没到,你们到底怎么回事", start_ms=300, end_ms=3000),
                utterance(call_id, 2, "您好,我帮您查一下", speaker="agent", start_ms=3500, end_ms=5000),
            ]
        )
        tile = wall.locator(f"[data-testid=tile][data-call-id='{call_id}']")
        tile.click()
        panel = wall.get_by_test_id("listen-panel")
        expect(panel).to_have_attribute("data-call-id", call_id)
        wall.get_by_test_id("whisper-input").fill(text)
        wall.get_by_test_id("btn-whisper").click()
        expect(wall.get_by_test_id("whisper-status")).to_have_attribute("data-state", "sent")
        expect(wall.get_by_test_id("whisper-input")).to_have_value("")
        expect(panel.locator("[data-testid=listen-nudge][data-type='supervisor_whisper']")).to_contain_text(text)
        shoot(wall, "whisper-wall.png")

        card = desk.locator("[data-testid=nudge-card][data-type='supervisor_whisper']")
        expect(card).to_have_count(1)
        expect(card).to_have_class(re.compile(r"\bwhisper\b"))
        expect(card.locator(".suggestion")).to_have_text(text)
        expect(card.get_by_test_id("whisper-from")).to_have_text("来自值班主管 郑华(s-001)")
        expect(card.get_by_test_id("btn-accept")).to_have_text("收到")
        shoot(desk, "whisper.png")

        desk.reload()  # survives a reload, shown once
        expect(desk.locator("[data-testid=conn-status]")).to_have_attribute("data-state", "open")
        expect(desk.locator("[data-testid=nudge-card][data-type='supervisor_whisper']")).to_have_count(1)
        desk.wait_for_timeout(1500)
        expect(desk.locator("[data-testid=nudge-card][data-type='supervisor_whisper']")).to_have_count(1)
        card = desk.locator("[data-testid=nudge-card][data-type='supervisor_whisper']")
        card.get_by_test_id("btn-accept").click()
        expect(card).to_have_attribute("data-state", "accepted")

        # an over-long whisper is refused on the wall, with the reason
        wall.get_by_test_id("whisper-input").evaluate("el => el.removeAttribute('maxlength')")
        wall.get_by_test_id("whisper-input").fill("太长" * 101)
        wall.get_by_test_id("btn-whisper").click()
        expect(wall.get_by_test_id("whisper-status")).to_have_attribute("data-state", "error")
        expect(wall.get_by_test_id("whisper-status")).to_contain_text("at most 200")
    finally:
        wall_ctx.close()
        stack.post_events([ended(call_id)])


def test_the_desktop_shows_the_last_calls_summary_for_the_same_customer(stack, context, scored_call):
    first_id, detail = scored_call
    agent = "a-073"
    call_id = new_call_id("pgnx")
    page = context.new_page()
    sign_in(page, f"{stack.gateway_url}/agent", stack.token(agent))
    expect(page.locator("[data-testid=conn-status]")).to_have_attribute("data-state", "open")
    try:
        stack.post_events(
            [
                call_started(call_id, agent, customer=CUSTOMER),
                utterance(call_id, 1, "你好,我上次转账的事还想问一下", start_ms=300),
            ]
        )
        recap = page.get_by_test_id("history-recap")
        expect(recap).to_have_attribute("data-call-id", first_id)
        expect(recap).to_contain_text("转账到账")
        expect(recap.locator("dd[data-field='诉求']")).to_contain_text("转账三天了还没到账")
        expect(recap.locator("dd[data-field='结果']")).to_have_text(detail["recap"]["outcome_label"])
        expect(recap.locator("dd[data-field='待跟进']")).to_contain_text("24小时内会有短信通知您")
    finally:
        stack.post_events([ended(call_id)])


def test_the_review_page_and_the_desk_speak_english_on_request(stack, context, scored_call):
    """Every word through i18n: after the language switch the review page's labels, the scorecard
    items, the topic, the recap's field names and the nudge cards read in English (no Chinese
    label, no raw i18n key left), the choice survives a reload, and switching back restores Chinese."""
    call_id, detail = scored_call
    page = context.new_page()
    sign_in(page, f"{stack.gateway_url}/review", stack.token("s-001", "supervisor"))
    page.locator(f"[data-testid=review-calls] tr[data-call-id='{call_id}']").click()
    expect(page.get_by_test_id("score-total")).to_have_text(str(detail["score"]))
    page.get_by_test_id("btn-lang").click()
    expect(page.locator("#calls-title")).to_contain_text("Finished calls")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("[data-testid=score-item][data-key='privacy'] .score-item-label")).to_have_text(
        "Protects privacy"
    )
    recap = page.get_by_test_id("review-recap")
    expect(recap.locator("dt").nth(1)).to_have_text("Customer wanted")
    expect(recap.locator("dd[data-field='结果']")).to_contain_text("Resolved")
    expect(page.locator("[data-testid=review-nudges] [data-action]").first).to_be_visible()
    page.reload()  # remembered
    expect(page.locator("#calls-title")).to_contain_text("Finished calls")
    page.locator(f"[data-testid=review-calls] tr[data-call-id='{call_id}']").click()
    expect(page.get_by_test_id("score-total")).to_have_text(str(detail["score"]))
    expect(page.locator("[data-testid=score-trend] tr[data-agent='a-071']")).to_contain_text("Protects privacy")
    labels = page.evaluate("""() => [...document.querySelectorAll(
        'h1, h2, h3, th, label > span, button, dt, .action, .status, .score-item-label, .outcome')]
        .map(e => e.textContent.trim()).filter(Boolean)""")
    assert labels and not [s for s in labels if re.search(r"[\u4e00-\u9fff]", s) and s != "中文"], labels
    assert not re.search(r"\b(review|history|nudge|filter|status|action)\.[a-z_.]+\b", page.inner_text("body"))
    page.get_by_test_id("btn-lang").click()
    expect(page.locator("#calls-title")).to_contain_text("已结束通话")
