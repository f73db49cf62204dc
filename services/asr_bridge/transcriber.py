"""Decode one speech segment with whisper (CTranslate2), in simplified Chinese.

Whisper was trained on 30 s windows and faster-whisper always pads to one.
CTranslate2's encoder also takes shorter inputs, and a window of at least
``HEARTLINE_ASR_WINDOW_S`` (10 s by default; the segment plus 1 s, in 5 s
steps, when longer) decodes call-center sentences as well as the full window
at about a third of the cost (docs/speech.md has the measurement); 30
restores whisper's own window. Unpadded input (no window) made whisper repeat
itself, so there is always some padding.

Partials re-decode the growing segment greedily; the final decodes it once
more with ``HEARTLINE_ASR_BEAM_SIZE``. whisper-base writes part of its
Chinese in traditional characters; OpenCC's t2s converts it. ``confidence``
is ``exp`` of the decoder's average token log-probability.
"""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass

import numpy as np

from shared.config import Settings

FULL_WINDOW = 3000  # mel frames (10 ms each): whisper's 30 s
STEP = 500  # windows grow in 5 s steps
NO_SPEECH = 0.6  # whisper's own thresholds for "this was not speech"
LOW_LOGPROB = -1.0
# Whisper's well-known inventions on silence or noise (after t2s).
HALLUCINATIONS = ("字幕", "订阅", "点赞", "谢谢观看", "明镜", "打赏")


@dataclass(frozen=True)
class Hypothesis:
    text: str
    confidence: float


def window_frames(n_frames: int, min_window: int) -> int:
    """Mel frames to encode for a segment of ``n_frames``: padded, in steps, at most 30 s."""
    if min_window >= FULL_WINDOW:
        return FULL_WINDOW
    need = math.ceil((n_frames + 100) / STEP) * STEP
    return min(FULL_WINDOW, max(min_window, need))


class Transcriber:
    def __init__(self, settings: Settings):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub at run time
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer
        from opencc import OpenCC

        from services.asr_bridge.model import ensure_model

        compute = settings.asr_compute_type or ("int8" if settings.asr_device == "cpu" else "float16")
        self.whisper = WhisperModel(
            str(ensure_model(settings)),
            device=settings.asr_device,
            compute_type=compute,
            cpu_threads=settings.asr_cpu_threads,
            num_workers=max(1, settings.asr_workers),
        )
        self.tokenizer = Tokenizer(
            self.whisper.hf_tokenizer, self.whisper.model.is_multilingual, task="transcribe", language="zh"
        )
        self.prompt = [*self.tokenizer.sot_sequence, self.tokenizer.no_timestamps]
        self.beam_size = max(1, settings.asr_beam_size)
        self.min_window = int(settings.asr_window_s * 100)
        self._t2s = OpenCC("t2s")
        self._t2s_lock = threading.Lock()  # the pure-Python converter is not thread-safe

    def decode(self, audio: np.ndarray, final: bool) -> Hypothesis:
        """``audio``: float32 mono 16 kHz in [-1, 1]."""
        import ctranslate2

        feats = self.whisper.feature_extractor(audio)  # (n_mels, frames)
        width = window_frames(feats.shape[1], self.min_window)
        feats = np.pad(feats, ((0, 0), (0, max(0, width - feats.shape[1]))))[:, :width]
        result = self.whisper.model.generate(
            ctranslate2.StorageView.from_array(np.ascontiguousarray(feats[None], dtype=np.float32)),
            [self.prompt],
            beam_size=self.beam_size if final else 1,
            max_length=224,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=[-1],
        )[0]
        tokens = [t for t in result.sequences_ids[0] if t < self.tokenizer.eot]
        avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1) if tokens else -10.0
        if not tokens or (result.no_speech_prob > NO_SPEECH and avg_logprob < LOW_LOGPROB):
            return Hypothesis("", 0.0)
        with self._t2s_lock:
            text = self._t2s.convert(self.tokenizer.decode(tokens)).strip()
        if not text or any(h in text for h in HALLUCINATIONS):
            return Hypothesis("", 0.0)
        return Hypothesis(text, round(min(1.0, max(0.0, math.exp(avg_logprob))), 3))
