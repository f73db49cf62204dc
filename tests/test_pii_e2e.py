"""PII across the services, on the real stack: what only the analyzer may hold stays there.

* A customer partial reads a bank card digit by digit (spoken, with spaces),
  then grouped; the agent talks over it (``dont_interrupt`` quotes the
  customer); the final goes unanswered (``timely_response`` quotes it). The
  card, in any form, is on no topic after the analyzer (nudges, call-state,
  the nudger's table changelog, the DLQs), in no log or /metrics page, not in
  the history DB, not on the wall.
* ``customer.id`` (a phone number) is hashed before call-state: neither the
  id nor its digits travel, and an ended call's call-state record is
  deleted with a tombstone after ``HEARTLINE_CALL_STATE_KEEP_S``.
* A bad record whose text is ``\\u``-escaped JSON (digits escaped too) reaches
  the DLQ with the number masked.
* ``heartline customer delete --id`` reaches the DB and the compacted topics
  (call-state, the nudger's changelog): tombstones for the customer's calls,
  nobody else's.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid

import httpx
import pytest
import websockets
from sqlalchemy import MetaData, create_engine, select

from shared.pii import digit_view, hash_customer, luhn_ok
from shared.schemas import iso, utcnow
from shared.topics import dlq
from tests.callkit import call_started, collect, new_call_id, utterance
from tests.kafkatools import produce_raw, read_topic

pytestmark = [pytest.mark.e2e, pytest.mark.brokers("embedded", "kafka")]

KEEP_S = 2


def _card() -> str:
    body = f"622848{uuid.uuid4().int % 10**9:09d}"
    return next(body + d for d in "0123456789" if luhn_ok(body + d))


def _phone() -> str:
    return f"139{uuid.uuid4().int % 10**8:08d}"


SPOKEN = dict(zip("0123456789", "洞幺两三四五六拐八勾", strict=True))


@pytest.fixture(scope="module")
def pii_stack(own_stack):
    """The standard stack, with ended calls leaving call-state after KEEP_S (the default is 120 s)."""
    with own_stack("test_pii_e2e", extra_env={"HEARTLINE_CALL_STATE_KEEP_S": str(KEEP_S)}) as live:
        yield live


def _latest(records: list[tuple[bytes | None, bytes | None]], key: bytes):
    values = [v for k, v in records if k == key]
    return values[-1] if values else b"<absent>"


def _db_dump(url: str) -> str:
    engine = create_engine(url)
    try:
        meta = MetaData()
        meta.reflect(engine)
        with engine.connect() as conn:
            return "\n".join(repr(row) for table in meta.sorted_tables for row in conn.execute(select(table)))
    finally:
        engine.dispose()


def _changelog(settings) -> str:
    return f"{settings.group('nudger')}-calls-changelog"


def test_partial_card_number_and_customer_id_never_leave_the_analyzer(pii_stack):
    s = pii_stack.settings
    card, phone, call_id = _card(), _phone(), new_call_id("piie")
    spoken = " ".join(SPOKEN[c] for c in card)
    grouped = " ".join(card[i : i + 4] for i in range(0, len(card), 4))
    started = call_started(call_id, "a-311")
    started["customer"] = {"id": phone, "name": "李女士", "segment": "senior"}
    events = [
        started,
        utterance(call_id, 1, "我的卡号是", final=False, start_ms=0, end_ms=1500),
        utterance(call_id, 2, "您好这边是客服中心小王", speaker="agent", final=False, start_ms=1000, end_ms=2500),
        utterance(call_id, 1, f"我的卡号是 {spoken}", final=False, start_ms=0, end_ms=3000),
        utterance(call_id, 1, f"我的卡号是 {grouped}", final=False, start_ms=0, end_ms=4000),
        utterance(call_id, 2, "您好这边是客服中心小王", speaker="agent", start_ms=1000, end_ms=3200),
        utterance(call_id, 1, f"我的卡号是 {spoken}，帮我查查为什么扣了两次钱", start_ms=0, end_ms=6000),
    ]
    # A bad record (seq is not a number) whose text json.dumps escaped, the digits by hand too.
    escaped_digits = "".join(f"\\u{ord(c):04x}" for c in card)
    bad = (
        f'{{"type": "utterance", "call_id": "{call_id}", "seq": "one", "speaker": "customer", '
        f'"text": "\\u6211\\u7684\\u5361\\u53f7{escaped_digits}"}}'
    ).encode()

    async def go():
        wall_url = f"{pii_stack.gateway_ws}/ws/wall?token={pii_stack.token('s-311', 'supervisor')}"
        async with websockets.connect(wall_url) as wall:
            await collect(wall, 0.5)
            await wall.send(json.dumps({"kind": "watch", "call_id": call_id}))
            for event in events:  # one by one, as an ASR sends them
                assert (await asyncio.to_thread(pii_stack.post_events, [event])).status_code == 202
                await asyncio.sleep(0.3)
            await wall.send(json.dumps({"kind": "watch", "call_id": call_id}))
            wall_msgs = await collect(
                wall,
                12,
                until=lambda m: any(
                    x.get("kind") == "nudge" and x.get("type") == "timely_response" and x.get("call_id") == call_id
                    for x in m
                ),
            )
            ended = {"type": "call_ended", "call_id": call_id, "ts": iso(utcnow())}
            assert (await asyncio.to_thread(pii_stack.post_events, [ended])).status_code == 202
            wall_msgs += await collect(wall, KEEP_S + 4)
        await produce_raw(s, s.topics.stt_events, [(call_id.encode(), bad)])
        deadline = time.monotonic() + 20
        while True:  # the nudger deletes the ended call from call-state after KEEP_S
            state = await read_topic(s, s.topics.call_state)
            if _latest(state, call_id.encode()) is None or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
        topics = {}
        for name in (
            s.topics.utterance_analysis,
            s.topics.nudges,
            s.topics.call_state,
            _changelog(s),
            dlq(s.topics.stt_events),
            dlq(s.topics.utterance_analysis),
            dlq(s.topics.nudges),
            dlq(s.topics.call_state),
        ):
            topics[name] = [(k, v) for k, v in await read_topic(s, name) if k == call_id.encode()]
        return wall_msgs, topics

    wall_msgs, topics = asyncio.run(go())
    nudges = [json.loads(v) for _, v in topics[s.topics.nudges] if v]
    types = {n["type"] for n in nudges}
    assert {"dont_interrupt", "timely_response", "privacy_guard"} <= types, types
    assert any(k == call_id.encode() for k, _ in topics[dlq(s.topics.stt_events)]), "the bad record was dead-lettered"

    # customer.id: hashed on call-state, then the ended call leaves call-state (a tombstone)
    states = [v for _, v in topics[s.topics.call_state]]
    assert states and states[-1] is None, "no tombstone for the ended call"
    customers = [json.loads(v)["customer"] for v in states if v]
    assert customers and all(c.get("id") is None for c in customers)
    assert {c.get("id_hash") for c in customers} == {hash_customer(s.customer_salt.get_secret_value(), phone)}
    assert [m for m in wall_msgs if m.get("kind") == "call_state" and m.get("call_id") == call_id], "the wall saw it"

    haystacks = {
        f"topic {name}": b"\n".join(v or b"" for _, v in recs).decode("utf-8", "replace")
        for name, recs in topics.items()
    }
    haystacks["wall"] = json.dumps(wall_msgs, ensure_ascii=False)
    haystacks["history db"] = _db_dump(s.db_url)
    for proc in pii_stack.stack.procs:
        haystacks[f"log {proc.name}"] = (pii_stack.stack.log_dir / f"{proc.name}.log").read_text(errors="replace")
        if proc.url:
            haystacks[f"metrics {proc.name}"] = httpx.get(f"{proc.url}/metrics", timeout=5).text
    for where, text in haystacks.items():
        flat = digit_view(text).replace(" ", "")  # spoken digits and groups read as one number
        for secret in (card, card[:8], card[8:], phone, grouped, spoken):
            assert secret not in text and (not secret.isdigit() or secret not in flat), f"{secret} in {where}"


def test_customer_delete_reaches_the_db_and_the_compacted_topics(pii_stack):
    s = pii_stack.settings
    phone, other = _phone(), _phone()
    mine, theirs = new_call_id("del"), new_call_id("keep")
    events = []
    for call_id, who in ((mine, phone), (theirs, other)):
        started = call_started(call_id, "a-312")
        started["customer"] = {"id": who, "name": "赵先生"}
        # a live call that has gone quiet: nothing left for the nudger to change
        events += [
            started,
            utterance(call_id, 1, "您好很高兴为您服务", speaker="agent"),
            utterance(call_id, 2, "好的", start_ms=1600, end_ms=2000),
        ]
    assert pii_stack.post_events(events).status_code == 202
    env = pii_stack.stack.env()

    def cli(*args) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "heartline.cli", "customer", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    deadline = time.monotonic() + 30
    while not json.loads(cli("export", "--id", phone).stdout)["calls"]:  # the recorder has it
        assert time.monotonic() < deadline, "the recorder never stored the call"
        time.sleep(1)
    state = asyncio.run(read_topic(s, s.topics.call_state))
    assert _latest(state, mine.encode()) not in (None, b"<absent>")

    done = cli("delete", "--id", phone)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["calls"] == 1 and phone not in done.stdout
    assert out["tombstones"][s.topics.call_state] == [mine]
    assert out["tombstones"][_changelog(s)] == [mine], out["tombstones"]

    state = asyncio.run(read_topic(s, s.topics.call_state))
    assert _latest(state, mine.encode()) is None
    assert _latest(state, theirs.encode()) not in (None, b"<absent>"), "another customer's call was erased"
    changelog = asyncio.run(read_topic(s, _changelog(s)))
    assert _latest(changelog, mine.encode()) is None
    assert json.loads(cli("export", "--id", phone).stdout)["calls"] == []
    assert json.loads(cli("export", "--id", other).stdout)["calls"], "another customer's history was erased"

    again = json.loads(cli("delete", "--id", phone).stdout)  # nothing left anywhere
    assert again["calls"] == 0 and again["tombstones"] == {s.topics.call_state: [], _changelog(s): []}
