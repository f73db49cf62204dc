"""Shared by the speech tests: the recorded calls, and when to skip."""

from __future__ import annotations

import json
import os
import wave
from pathlib import Path

import pytest

from services.asr_bridge.model import speech_installed

DATA = Path(__file__).resolve().parent.parent / "data" / "speech"
CALLS = json.loads((DATA / "calls.json").read_text())["calls"]

# Skip only on a developer box without the speech extra; in CI these must run.
needs_speech = pytest.mark.skipif(
    not speech_installed() and not os.environ.get("CI"),
    reason="speech extra not installed (make install-speech); CI runs these",
)


def call(name: str) -> dict:
    return next(c for c in CALLS if c["name"] == name)


def channel_pcm(name: str, speaker: str) -> bytes:
    """One channel of a recorded call as 16 kHz 16-bit mono PCM."""
    import numpy as np

    with wave.open(str(DATA / call(name)["file"]), "rb") as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, 2)
    return np.ascontiguousarray(pcm[:, 0 if speaker == "agent" else 1]).tobytes()
