"""The analyzer's gate (which utterances are analysed, by event time) and the nudger's
per-call order across its two input topics (parking a record until its predecessor)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.analyzer.gate import PARTIAL_EVERY_MS, Gate
from services.nudger import order
from services.nudger.memory import new_memory
from shared.schemas import Utterance
from shared.topics import AFTER_HEADER, SRC_HEADER

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def utt(seq: int, end_ms: int, final: bool = False, speaker: str = "customer", call: str = "c-1") -> Utterance:
    return Utterance(
        type="utterance",
        call_id=call,
        seq=seq,
        speaker=speaker,
        text="我想问一下",
        is_final=final,
        start_ms=0,
        end_ms=end_ms,
        ts=T0 + timedelta(milliseconds=end_ms),
    )


def test_gate_admits_the_first_partial_then_one_per_second_of_speech_and_each_final_once():
    gate = Gate()
    admitted = [gate.admit(utt(1, ms)) for ms in (300, 600, 900, 1200, 1500, 2100, 2400)]
    # 300: a segment's first partial; 1500: the first one PARTIAL_EVERY_MS past it; 2400 < 1500 + 1000
    assert admitted == [True, False, False, False, True, False, False]
    assert gate.admit(utt(1, 2600, final=True))
    assert not gate.admit(utt(1, 2600, final=True)), "a redelivered final is analysed once"
    assert not gate.admit(utt(1, 2700)), "a partial after its segment's final is stale"
    assert gate.admit(utt(2, 100, speaker="agent")), "another segment has its own first partial"


def test_gate_is_a_function_of_the_events_only():
    events = [utt(s, ms, final=ms == 3000) for s in (1, 2) for ms in range(0, 3001, 300)]
    runs = []
    for _ in range(2):
        gate = Gate()
        runs.append([gate.admit(e) for e in events])
    assert runs[0] == runs[1]
    assert PARTIAL_EVERY_MS == 1000
    assert sum(runs[0]) == 2 * 4  # per segment: partials at 0, 1200, 2400 and the final


def test_positions_read_faust_and_aiokafka_headers():
    pairs = [(SRC_HEADER, b"3:120"), (AFTER_HEADER, b"3:117")]
    assert order.positions(pairs) == ((3, 120), (3, 117))
    assert order.positions(dict(pairs)) == ((3, 120), (3, 117))
    assert order.positions(tuple(pairs)) == ((3, 120), (3, 117))
    assert order.positions(None) == (None, None)
    assert order.positions([(SRC_HEADER, b"junk")]) == (None, None)


def test_a_record_waits_for_its_predecessor_and_is_released_after_it():
    mem = new_memory("c-1")
    assert not order.waits(mem, None), "no header: applied at once"
    assert order.waits(None, (0, 5)), "nothing of the call applied yet"
    order.applied(mem, (0, 5))
    assert not order.waits(mem, (0, 5))
    assert order.waits(mem, (0, 9))
    order.park(mem, "event", "{}", (0, 12), (0, 9), now=100.0)
    assert order.releasable(mem, now=101.0) is None
    order.applied(mem, (0, 9))
    p = order.releasable(mem, now=101.0)
    assert (p.partition, p.offset) == (0, 12)
    assert not mem.parked


def test_a_parked_record_is_applied_anyway_after_the_wait_and_in_stt_events_order():
    mem = new_memory("c-1")
    order.applied(mem, (0, 1))
    order.park(mem, "analysis", "{}", (0, 30), (0, 20), now=100.0)
    order.park(mem, "event", "{}", (0, 25), (0, 21), now=100.0)
    assert order.releasable(mem, now=100.0 + order.PARK_MAX_S - 1) is None
    first = order.releasable(mem, now=100.0 + order.PARK_MAX_S + 1)
    assert first.offset == 25
    assert order.releasable(mem, now=100.0, force=True).offset == 30


def test_another_partition_is_no_order_to_keep():
    mem = new_memory("c-1")
    order.applied(mem, (2, 50))
    assert not order.waits(mem, (5, 60))
    order.applied(mem, (2, 40))
    assert mem.src_offset == 50, "a redelivered, older record does not move the position back"
