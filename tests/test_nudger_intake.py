"""What the nudger keeps of raw input: timing, not words; a hashed customer id, not the id (pure, no broker).

The nudger reads lifecycle events and analyses for timing. Nothing of raw words
may reach a nudge reason, its memory (kept in a changelog topic)
or call-state; ``heartline replay`` goes through the same intake.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from services.nudger.intake import admit
from services.nudger.memory import CallMemory
from services.nudger.replay import replay
from services.nudger.rules import load_rules
from services.nudger.speech import content_chars, is_backchannel, quote
from shared.pii import digit_view, hash_customer, luhn_ok
from shared.schemas import CallEnded, CallStarted, Utterance, parse_event

RULES = load_rules(Path(__file__).resolve().parent.parent / "rules" / "default.yaml")
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SALT = "test-salt"
PHONE = "13800138000"
CARD = next(f"622202100112345{d}" for d in "0123456789" if luhn_ok(f"622202100112345{d}"))
SPOKEN_CARD = " ".join(dict(zip("0123456789", "洞幺两三四五六拐八勾", strict=True))[c] for c in CARD)


def _ev(kind: str, ms: int, **kw):
    return parse_event({"type": kind, "call_id": "c-priv", "ts": (T0 + timedelta(milliseconds=ms)).isoformat(), **kw})


def _utt(seq: int, speaker: str, text: str, start: int, end: int, final: bool):
    return _ev("utterance", end, seq=seq, speaker=speaker, text=text, start_ms=start, end_ms=end, is_final=final)


def _leaks(text: str) -> list[str]:
    view = digit_view(text).replace(" ", "")
    return [s for s in (CARD, CARD[:8], CARD[8:], PHONE) if s in view]


def test_admit_drops_finals_masks_partials_and_hashes_the_customer_id():
    final = _utt(1, "customer", f"卡号{CARD}", 0, 2000, True)
    assert admit(final, SALT) is None  # arrives analysed on utterance-analysis
    partial = admit(_utt(1, "customer", f"我的卡号是 {SPOKEN_CARD}，好的", 0, 2000, False), SALT)
    assert isinstance(partial, Utterance) and not _leaks(partial.text) and "卡号" not in partial.text
    assert (partial.seq, partial.start_ms, partial.end_ms) == (1, 0, 2000)
    assert quote(partial.text) == ""  # masked speech is never quoted
    started = admit(
        _ev("call_started", 0, agent_id="a-1", customer={"id": f" {PHONE} ", "name": "王先生", "segment": "senior"}),
        SALT,
    )
    assert isinstance(started, CallStarted)
    assert started.customer.id is None and started.customer.id_hash == hash_customer(SALT, PHONE)
    assert (started.customer.name, started.customer.segment) == ("王先生", "senior")
    assert PHONE not in started.model_dump_json()
    assert admit(_ev("call_started", 0, customer={"id_hash": "chosen-by-the-sender"}), SALT).customer.id_hash is None
    ended = _ev("call_ended", 9000)
    assert admit(ended, SALT) is ended


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("嗯啊哦好对是的行，。 ！？、-…我的卡号六二两幺洞12345abcXx"))), st.booleans()
)
def test_property_masked_partials_time_like_the_original(text, agent):
    """The timing rules read content length and backchannel-ness: the mask keeps both, and no digit."""
    masked = admit(_utt(3, "agent" if agent else "customer", text, 0, 1000, False), SALT).text
    assert len(masked) == len(text)
    assert content_chars(masked) == content_chars(text)
    assert is_backchannel(masked) == is_backchannel(text)
    assert not any(ch.isdigit() for ch in digit_view(masked))


def _call_with_a_card_number() -> list:
    """The customer reads a card number; the agent talks over the partial; then nobody answers the final."""
    return [
        _ev("call_started", 0, agent_id="a-9", customer={"id": PHONE, "name": "李女士"}),
        _utt(1, "customer", "我的卡号是", 0, 1500, False),
        _utt(2, "agent", "您好这边是客服中心小王", 1000, 2500, False),
        _utt(1, "customer", f"我的卡号是 {SPOKEN_CARD}", 0, 3000, False),
        _utt(1, "customer", f"我的卡号是 {CARD[:4]} {CARD[4:8]} {CARD[8:12]} {CARD[12:]}", 0, 4000, False),
        _utt(2, "agent", "您好这边是客服中心小王", 1000, 3200, True),
        _utt(1, "customer", f"我的卡号是 {SPOKEN_CARD}，帮我查查为什么扣了两次钱", 0, 6000, True),
        _ev("call_ended", 30_000),
    ]


def test_replay_quotes_only_redacted_text_in_timing_nudges():
    """dont_interrupt (on a raw partial) and timely_response (on a final) quote the customer;
    the quote is the analyzer's redacted text, or nothing — never the raw number."""
    memory: list[CallMemory] = []
    nudges = replay(_call_with_a_card_number(), RULES, memory=memory, salt=SALT)
    types = {n.type for n in nudges}
    assert {"dont_interrupt", "timely_response", "privacy_guard"} <= types, types
    for n in nudges:
        assert not _leaks(n.model_dump_json()), (n.type, n.reason)
    timely = next(n for n in nudges if n.type == "timely_response")
    assert "[银行卡号]" in timely.reason  # the analyzer's words, redacted
    (mem,) = memory
    dumped = mem.model_dump_json()  # what the nudger's table (and its changelog topic) holds
    assert not _leaks(dumped), dumped
    assert mem.state.customer.id is None and mem.state.customer.id_hash == hash_customer(SALT, PHONE)
    assert PHONE not in json.dumps(mem.model_dump(mode="json"))


def test_engine_never_keeps_raw_partial_text():
    """Fed a raw partial straight (not through intake), the engine still keeps only its timing."""
    from services.nudger.engine import step

    mem, _ = step(None, _utt(1, "customer", f"卡号 {SPOKEN_CARD}", 0, 2000, False), T0, RULES)
    assert not _leaks(mem.model_dump_json())
    assert mem.segments[0].chars == content_chars(f"卡号 {SPOKEN_CARD}")


def test_call_ended_is_admitted_unchanged():
    assert isinstance(admit(_ev("call_ended", 1), SALT), CallEnded)


def test_the_nudger_gets_the_customer_salt_in_kubernetes():
    """The nudger hashes customer ids and refuses production without the salt: k8s gives it from a Secret."""
    import yaml

    root = Path(__file__).resolve().parent.parent / "deploy" / "k8s"
    (dep,) = [
        d
        for d in yaml.safe_load_all((root / "nudger.yaml").read_text(encoding="utf-8"))
        if d and d["kind"] == "Deployment"
    ]
    (container,) = dep["spec"]["template"]["spec"]["containers"]
    (salt,) = [e for e in container.get("env", []) if e["name"] == "HEARTLINE_CUSTOMER_SALT"]
    ref = salt["valueFrom"]["secretKeyRef"]
    (template,) = list(yaml.safe_load_all((root / "secret-customer-salt.template.yaml").read_text(encoding="utf-8")))
    assert template["metadata"]["name"] == ref["name"] and ref["key"] in template["stringData"]


def test_the_recorder_stores_the_nudgers_hash_and_erases_by_the_clear_id(tmp_path):
    """call-state carries id_hash only; history, export and erasure still find the customer by the id."""
    from services.recorder import db
    from services.recorder.queries import history
    from services.recorder.store import Store
    from shared.schemas import CallState, Customer

    engine = db.make_engine(f"sqlite:///{tmp_path}/history.db", writer=True)
    db.upgrade(engine)
    store = Store(engine, SALT)
    try:
        hashed = admit(_ev("call_started", 0, customer={"id": PHONE, "name": "王先生"}), SALT).customer
        store.apply(
            [
                CallState(call_id="c-h1", customer=hashed, started_ts=T0, last_update_ts=T0),
                CallState(
                    call_id="c-h0",
                    customer=Customer(id=PHONE),
                    started_ts=T0 - timedelta(days=1),
                    ended_ts=T0 - timedelta(days=1),
                    last_update_ts=T0,
                ),
            ],
            now=T0,
        )  # from before hashing
        assert history(store, "c-h1")["customer"]["known"]
        assert [c["call_id"] for c in store.export_customer(PHONE)["calls"]] == ["c-h0", "c-h1"]
        gone = store.delete_customer(PHONE, now=T0 + timedelta(minutes=1))
        assert gone["calls"] == 2 and sorted(gone["call_ids"]) == ["c-h0", "c-h1"]
        assert PHONE not in repr(store.export_customer(PHONE))
    finally:
        engine.dispose()
