"""ASR bridge, pure parts: segmentation, seq order, CER, encoder window (no model needed)."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from services.asr_bridge.cer import cer, edit_distance, normalize
from services.asr_bridge.segmenter import Segmenter, SegmenterConfig
from services.asr_bridge.stream import CallSeq, ChannelStream
from services.asr_bridge.transcriber import Hypothesis, window_frames
from services.asr_bridge.vad import FRAME_BYTES
from shared.config import Settings

CFG = SegmenterConfig(start_window=4, start_voiced=3, end_silence=5, pad=1, max_len=50)


def run(flags, cfg=CFG):
    seg = Segmenter(cfg)
    events = [e for f in flags for e in seg.push(f)]
    return events + seg.flush()


def test_segment_opens_grows_and_closes_after_silence():
    events = run([False] * 10 + [True] * 20 + [False] * 10)
    kinds = [e.kind for e in events]
    assert kinds[0] == "open" and kinds.count("open") == 1 and kinds.count("close") == 1
    opened, closed = events[0], next(e for e in events if e.kind == "close")
    assert opened.start == 13 - 4 - 1  # opened at frame 13: window start (9) less pad (1)
    assert closed.start == opened.start and closed.end == 30 + 1  # last speech frame + pad
    grows = [e.end for e in events if e.kind == "grow"]
    assert grows == sorted(grows) and all(e.start == opened.start for e in events)


def test_short_blips_do_not_open_and_pauses_shorter_than_end_silence_do_not_close():
    assert run([True, False, True, False, False, True, False] * 5) == []
    events = run([True] * 10 + [False] * 3 + [True] * 10 + [False] * 10)
    assert [e.kind for e in events].count("close") == 1


def test_max_length_splits_and_flush_closes_at_end_of_audio():
    events = run([True] * 120)
    closes = [e for e in events if e.kind == "close"]
    assert len(closes) >= 2 and all(c.end - c.start <= CFG.max_len for c in closes)
    assert closes[-1].end <= 120


def test_segments_never_overlap_within_a_channel():
    events = run(([True] * 8 + [False] * 6) * 6)
    closes = [e for e in events if e.kind == "close"]
    assert all(a.end <= b.start for a, b in pairwise(closes))


class ScriptedVad:
    def __init__(self, flags):
        self.flags = iter(flags)

    def is_speech(self, frame):
        return next(self.flags, False)


def test_seq_follows_segment_start_across_channels_and_partials_precede_final():
    settings = Settings(asr_partial_interval_ms=300, asr_end_silence_ms=300)
    seqs, decoded = CallSeq(), []

    def decode(audio, final):
        decoded.append((len(audio), final))
        return Hypothesis(f"{'final' if final else 'partial'}{len(audio)}", 0.9)

    agent_flags = [False] * 40 + [True] * 60 + [False] * 40
    cust_flags = [False] * 10 + [True] * 50 + [False] * 80  # starts first, overlaps the agent
    agent = ChannelStream("c-1", "agent", seqs, decode, ScriptedVad(agent_flags), settings)
    cust = ChannelStream("c-1", "customer", seqs, decode, ScriptedVad(cust_flags), settings)
    out = []
    silence = b"\0" * FRAME_BYTES
    for _ in range(140):  # both channels in step, one frame at a time
        out += cust.feed(silence)
        out += agent.feed(silence)
    out += agent.finish() + cust.finish()
    finals = [e for e in out if e.is_final]
    assert [(e.speaker, e.seq) for e in finals] == [("customer", 0), ("agent", 1)]
    assert finals[0].start_ms < finals[1].start_ms, "seq follows segment start"
    for final in finals:
        same = [e for e in out if e.seq == final.seq]
        assert same[-1] is final and len(same) > 1, "partials first, the final last"
        assert all(not e.is_final and e.end_ms <= final.end_ms + 300 for e in same[:-1])
        assert [e.end_ms for e in same[:-1]] == sorted(e.end_ms for e in same[:-1])


def test_a_segment_without_text_emits_nothing():
    settings = Settings(asr_partial_interval_ms=0)
    stream = ChannelStream(
        "c-2", "agent", CallSeq(), lambda a, f: Hypothesis("", 0.0), ScriptedVad([True] * 30 + [False] * 30), settings
    )
    assert stream.feed(b"\0" * FRAME_BYTES * 60) + stream.finish() == []


def test_frames_are_reassembled_from_odd_sized_messages():
    settings = Settings(asr_partial_interval_ms=0, asr_end_silence_ms=300)
    got = []
    stream = ChannelStream(
        "c-3",
        "agent",
        CallSeq(),
        lambda a, f: got.append(len(a)) or Hypothesis("好", 1.0),
        ScriptedVad([True] * 30 + [False] * 30),
        settings,
    )
    pcm = (np.arange(FRAME_BYTES * 30, dtype=np.int64) % 200).astype("<i2").tobytes()
    out = []
    for i in range(0, len(pcm), 333):
        out += stream.feed(pcm[i : i + 333])
    assert [e.text for e in out] == ["好"] and got


def test_cer_ignores_punctuation_and_width():
    assert normalize("你好，世界！ ok") == "你好世界ok"
    assert edit_distance("证券账户", "正劝账户") == 2
    assert cer(["你们这服务太差了"], ["你们这服务太差了。"]) == 0
    assert cer(["您好", "谢谢"], ["你好"]) == pytest.approx(3 / 4)


def test_encoder_window_is_padded_in_steps_and_capped():
    assert window_frames(300, 1000) == 1000
    assert window_frames(1200, 1000) == 1500
    assert window_frames(2950, 1000) == 3000
    assert window_frames(100, 3000) == 3000
