"""Knowledge answers end to end on the real stack: a customer's question posted to ingest comes
back as a knowledge_answer card on the agent's socket and on the real desktop in Chromium, and
what the agent does with it is counted per knowledge entry in /api/rules/stats and /review."""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from pathlib import Path

import httpx
import pytest
import websockets

from services.analyzer.knowledge_base import DEFAULT_DIR, load_entries
from shared.schemas import iso, utcnow
from tests.callkit import call_started, collect, new_call_id, utterance

ROOT = Path(__file__).resolve().parent.parent
ENTRIES = {e.id: e for e in load_entries(DEFAULT_DIR)}
WAIT_S = 20


def _cards(msgs, call_id):
    return [
        m
        for m in msgs
        if m.get("kind") == "nudge" and m.get("call_id") == call_id and m.get("type") == "knowledge_answer"
    ]


def _poll(fn, seconds: float = WAIT_S):
    """``fn()`` until it returns something truthy (or the last value after ``seconds``)."""
    deadline = time.monotonic() + seconds
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.5)


@pytest.mark.e2e
def test_question_gets_the_answer_card_and_feedback_counts_per_entry(stack):
    call_id = new_call_id("kb")
    question = "您好,我想问一下创业板怎么开通?"

    async def scenario():
        ws = await websockets.connect(f"{stack.gateway_ws}/ws/agent?token={stack.token('a-041')}")
        try:
            resp = stack.post_events([call_started(call_id, "a-041"), utterance(call_id, 2, question, start_ms=1000)])
            assert resp.status_code == 202, resp.text
            msgs = await collect(ws, WAIT_S, until=lambda m: _cards(m, call_id))
            (card,) = _cards(msgs, call_id)
            entry = ENTRIES["perm-chinext"]
            assert card["nudge_id"] == f"{call_id}:2:knowledge_answer" and card["trigger_seq"] == 2
            assert card["source"] == "perm-chinext" and card["agent_id"] == "a-041"
            assert card["title"] in entry.questions and card["suggestion"] == entry.answer
            assert "创业板怎么开通" in card["reason"] and card["ingest_ts"]

            # Asking again about the same entry: no second card. Another question, with an account
            # number read out: its own card, matched and quoted on the redacted text.
            stack.post_events(
                [
                    utterance(call_id, 4, "那创业板开通要什么条件啊?", start_ms=6000),
                    utterance(call_id, 6, "还有我资金账号310088273641的密码锁了怎么办?", start_ms=12000),
                ]
            )
            more = await collect(ws, WAIT_S, until=lambda m: [c for c in _cards(m, call_id) if c["trigger_seq"] == 6])
            later = _cards(more, call_id)
            assert [c["source"] for c in later] == ["pwd-locked"], later
            assert "310088273641" not in json.dumps(later, ensure_ascii=False)

            await ws.send(json.dumps({"kind": "feedback", "nudge_id": card["nudge_id"], "action": "accepted"}))
            await ws.send(json.dumps({"kind": "feedback", "nudge_id": later[0]["nudge_id"], "action": "dismissed"}))
            acks = await collect(ws, 10, until=lambda m: len([x for x in m if x["kind"] == "feedback_ack"]) >= 2)
            assert len([x for x in acks if x["kind"] == "feedback_ack"]) == 2
        finally:
            await ws.close()

    asyncio.run(scenario())

    def entry_stats():
        stats = httpx.get(f"{stack.gateway_url}/api/rules/stats", timeout=5).json()
        entries = stats["types"].get("knowledge_answer", {}).get("entries", {})
        done = entries.get("perm-chinext", {}).get("accepted") and entries.get("pwd-locked", {}).get("dismissed")
        return entries if done else None

    entries = _poll(entry_stats)
    assert entries, "feedback reaches the per-entry rule stats"
    assert entries["perm-chinext"]["shown"] >= 1 and entries["perm-chinext"]["acceptance_rate"] == 1.0
    assert entries["pwd-locked"]["acceptance_rate"] == 0.0

    # The recorder keeps the entry with the nudge: /review reports acceptance per entry too.
    auth = {"Authorization": f"Bearer {stack.token('s-001', 'supervisor')}"}

    def review_stats():
        data = httpx.get(f"{stack.gateway_url}/api/review/acceptance", headers=auth, timeout=5).json()
        row = data.get("by_entry", {}).get("perm-chinext", {})
        return data["by_entry"] if row.get("accepted") else None

    by_entry = _poll(review_stats, 30)
    assert by_entry and by_entry["perm-chinext"]["accepted"] >= 1 and by_entry["pwd-locked"]["dismissed"] >= 1


# ---------------------------------------------------------------- the desktop in Chromium

pw = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def page():
    p = pw.sync_playwright().start()
    browser = p.chromium.launch(
        executable_path="/usr/bin/chromium",
        args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    )
    ctx = browser.new_context(viewport={"width": 1360, "height": 820}, locale="zh-CN")
    pg = ctx.new_page()
    pg.set_default_timeout(WAIT_S * 1000)
    try:
        yield pg
    finally:
        ctx.close()
        browser.close()
        p.stop()


@pytest.mark.browser
def test_desktop_shows_the_answer_card_with_its_source(stack, page):
    expect = pw.expect
    call_id = new_call_id("kbp")
    page.goto(f"{stack.gateway_url}/agent")
    page.locator("[data-testid=agent-picker] [data-testid=agent-option][data-id='a-004']").click()
    expect(page.locator("[data-testid=conn-status]")).to_have_attribute("data-state", "open")

    start = {**call_started(call_id, "a-004"), "customer": {"name": "陈女士", "segment": None}}
    resp = stack.post_events(
        [
            start,
            utterance(call_id, 1, "您好,很高兴为您服务,请问有什么可以帮您?", speaker="agent", start_ms=500),
            utterance(call_id, 2, "你好,我想问一下从银行转到证券账户的钱多久能到账?", start_ms=3500, end_ms=7000),
        ]
    )
    assert resp.status_code == 202, resp.text

    card = page.locator(f"[data-testid=nudge-card][data-type='knowledge_answer'][data-call-id='{call_id}']")
    expect(card).to_be_visible()
    expect(card).to_have_class(re.compile(r"\bknowledge\b"))
    expect(card.locator(".badge-knowledge")).to_have_text("知识库")
    entry = ENTRIES["transfer-in-arrival"]
    assert card.locator(".nudge-title").inner_text() in entry.questions
    expect(card.locator(".suggestion")).to_have_text(entry.answer)
    source = card.locator("[data-testid=knowledge-source]")
    expect(source).to_have_attribute("data-source", "transfer-in-arrival")
    expect(source).to_contain_text("来源 transfer-in-arrival")
    expect(card.locator(".reason")).to_contain_text("多久能到账")
    page.locator(f".transcript[data-call-id='{call_id}'] [data-testid=transcript-line][data-seq='2']").wait_for()
    if os.environ.get("HEARTLINE_SCREENSHOTS") == "1":  # make screenshots
        page.screenshot(path=str(ROOT / "docs" / "screenshots" / "knowledge.png"))

    card.locator("[data-testid=btn-accept]").click()
    expect(card).to_have_attribute("data-state", "accepted")
    stack.post_events([{"type": "call_ended", "call_id": call_id, "ts": iso(utcnow()), "reason": "hangup"}])
