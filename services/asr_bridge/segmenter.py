"""Streaming speech segmentation: one VAD decision per frame in, segment events out.

Pure logic, no audio and no model, so it is tested on plain lists of booleans.

* A segment **opens** when ``start_voiced`` of the last ``start_window``
  frames are speech. Its start is the first frame of that window less
  ``pad`` frames, a fixed distance behind the frame that opened it: across
  channels fed in step, segments therefore open in the order they start.
* While open, every frame **grows** it (``end`` = frames seen so far).
* It **closes** after ``end_silence`` frames without speech (its end is the
  last speech frame plus ``pad``) or when it reaches ``max_len`` frames.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class SegmentEvent:
    kind: Literal["open", "grow", "close"]
    start: int  # frame index, inclusive
    end: int  # frame index, exclusive


@dataclass
class SegmenterConfig:
    start_window: int = 8  # 240 ms at 30 ms frames
    start_voiced: int = 6
    end_silence: int = 17  # ~500 ms
    pad: int = 5  # 150 ms of context kept on each side
    max_len: int = 500  # 15 s

    @classmethod
    def from_ms(cls, frame_ms: int, end_silence_ms: int, max_segment_ms: int) -> SegmenterConfig:
        return cls(end_silence=max(1, round(end_silence_ms / frame_ms)), max_len=max(10, max_segment_ms // frame_ms))


class Segmenter:
    def __init__(self, config: SegmenterConfig | None = None):
        self.cfg = config or SegmenterConfig()
        self.pos = 0  # frames seen
        self.start: int | None = None  # open segment's first frame
        self._window: deque[bool] = deque(maxlen=self.cfg.start_window)
        self._last_voiced = 0
        self._floor = 0  # a segment never starts before the last one ended

    @property
    def is_open(self) -> bool:
        return self.start is not None

    def push(self, voiced: bool) -> list[SegmentEvent]:
        cfg, out = self.cfg, []
        self.pos += 1
        if self.start is None:
            self._window.append(voiced)
            if sum(self._window) >= cfg.start_voiced:
                self.start = max(self._floor, self.pos - len(self._window) - cfg.pad)
                self._last_voiced = self.pos
                self._window.clear()
                out.append(SegmentEvent("open", self.start, self.pos))
            return out
        if voiced:
            self._last_voiced = self.pos
        out.append(SegmentEvent("grow", self.start, self.pos))
        if self.pos - self._last_voiced >= cfg.end_silence:
            out.append(self._close(min(self.pos, self._last_voiced + cfg.pad)))
        elif self.pos - self.start >= cfg.max_len:
            out.append(self._close(self.pos))
        return out

    def flush(self) -> list[SegmentEvent]:
        """End of audio: close an open segment where the speech stopped."""
        if self.start is None:
            return []
        return [self._close(min(self.pos, self._last_voiced + self.cfg.pad))]

    def _close(self, end: int) -> SegmentEvent:
        event = SegmentEvent("close", self.start, max(end, self.start + 1))
        self.start, self._floor = None, event.end
        return event
