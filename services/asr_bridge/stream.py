"""One call's channels: audio frames in, Utterance CallEvents out.

A :class:`ChannelStream` owns a channel's VAD, segmenter and audio since the
open segment's start; ``decode`` is any callable (the real
:class:`~services.asr_bridge.transcriber.Transcriber` or a stub in tests).
The channels of one call share a :class:`CallSeq`: a segment takes the next
``seq`` when it opens, so seq follows segment start across both channels (a
segment that yields no text leaves a gap in the numbers).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np

from services.asr_bridge.segmenter import Segmenter, SegmenterConfig
from services.asr_bridge.transcriber import Hypothesis
from services.asr_bridge.vad import FRAME_MS, FrameSplitter
from shared.config import Settings
from shared.schemas import Utterance, utcnow

Decode = Callable[[np.ndarray, bool], Hypothesis]
MIN_PARTIAL_MS = 600


class CallSeq:
    def __init__(self) -> None:
        self._next, self._lock = 0, threading.Lock()

    def take(self) -> int:
        with self._lock:
            self._next += 1
            return self._next - 1


def live_clock(_ms: int) -> datetime:
    return utcnow()


def recorded_clock(t0: datetime) -> Callable[[int], datetime]:
    return lambda ms: t0 + timedelta(milliseconds=ms)


class ChannelStream:
    def __init__(
        self,
        call_id: str,
        speaker: str,
        seqs: CallSeq,
        decode: Decode,
        vad,
        settings: Settings,
        clock: Callable[[int], datetime] = live_clock,
    ):
        self.call_id, self.speaker, self.seqs, self.decode, self.vad = call_id, speaker, seqs, decode, vad
        self.clock = clock
        self.partial_frames = settings.asr_partial_interval_ms // FRAME_MS
        self.seg = Segmenter(
            SegmenterConfig.from_ms(FRAME_MS, settings.asr_end_silence_ms, settings.asr_max_segment_ms)
        )
        self.splitter = FrameSplitter()
        self._frames: list[bytes] = []
        self._base = 0  # frame index of _frames[0]
        self._seq: int | None = None
        self._last_partial = 0  # frame position of the last partial decode
        self._partial_text = ""
        self.decode_s = 0.0  # time spent decoding (for metrics and the benchmark)
        self.closed_at: list[tuple[int, int]] = []  # (speech end frame, close frame) per final

    def feed(self, pcm: bytes) -> list[Utterance]:
        """Process what arrived; at most one partial decode per call (so a backlog catches up)."""
        out: list[Utterance] = []
        for frame in self.splitter.frames(pcm):
            self._frames.append(frame)
            for ev in self.seg.push(self.vad.is_speech(frame)):
                if ev.kind == "open":
                    self._seq, self._last_partial, self._partial_text = self.seqs.take(), ev.start, ""
                elif ev.kind == "close":
                    out += self._final(ev.start, ev.end)
            self._trim()
        if (
            self.seg.is_open
            and self.partial_frames
            and self.seg.pos - self._last_partial >= self.partial_frames
            and self.seg.pos - self.seg.start >= MIN_PARTIAL_MS // FRAME_MS
        ):
            out += self._partial(self.seg.start, self.seg.pos)
        return out

    def finish(self) -> list[Utterance]:
        out = []
        for ev in self.seg.flush():
            out += self._final(ev.start, ev.end)
        return out

    def _audio(self, start: int, end: int) -> np.ndarray:
        pcm = b"".join(self._frames[max(0, start - self._base) : end - self._base])
        return np.frombuffer(pcm, "<i2").astype(np.float32) / 32768.0

    def _timed_decode(self, start: int, end: int, final: bool) -> Hypothesis:
        import time

        t = time.perf_counter()
        hyp = self.decode(self._audio(start, end), final)
        self.decode_s += time.perf_counter() - t
        return hyp

    def _partial(self, start: int, end: int) -> list[Utterance]:
        self._last_partial = end
        hyp = self._timed_decode(start, end, final=False)
        if not hyp.text or hyp.text == self._partial_text:
            return []
        self._partial_text = hyp.text
        return [self._event(start, end, hyp, final=False)]

    def _final(self, start: int, end: int) -> list[Utterance]:
        self.closed_at.append((end, self.seg.pos))
        hyp = self._timed_decode(start, end, final=True)
        had_partial, self._partial_text = bool(self._partial_text), ""
        if not hyp.text and not had_partial:
            return []  # noise: nothing was shown, nothing to supersede
        return [self._event(start, end, hyp, final=True)]

    def _event(self, start: int, end: int, hyp: Hypothesis, final: bool) -> Utterance:
        start_ms, end_ms = start * FRAME_MS, end * FRAME_MS
        return Utterance(
            type="utterance",
            call_id=self.call_id,
            seq=self._seq,
            speaker=self.speaker,
            text=hyp.text,
            is_final=final,
            start_ms=start_ms,
            end_ms=end_ms,
            confidence=hyp.confidence,
            ts=self.clock(end_ms),
        )

    def _trim(self) -> None:
        """Keep audio from the open segment's start, or enough to open one."""
        keep_from = self.seg.start if self.seg.is_open else self.seg.pos - self.seg.cfg.start_window - self.seg.cfg.pad
        drop = keep_from - self._base
        if drop > 200:  # trim in batches
            del self._frames[:drop]
            self._base += drop
