"""Voice activity per channel: WebRTC's VAD (webrtcvad-wheels) on 30 ms frames.

The VAD is a small GMM classifier in C: about 10 µs a frame, so one core
classifies thousands of channels. It is stateful per channel (its noise
estimate adapts), so every channel owns one :class:`FrameVad`.
"""

from __future__ import annotations

RATE = 16_000
FRAME_MS = 30
FRAME_BYTES = RATE * FRAME_MS // 1000 * 2  # 16-bit mono


class FrameVad:
    def __init__(self, aggressiveness: int = 2):
        import webrtcvad  # speech extra

        self._vad = webrtcvad.Vad(aggressiveness)

    def is_speech(self, frame: bytes) -> bool:
        return self._vad.is_speech(frame, RATE)


class FrameSplitter:
    """Cuts an arbitrary byte stream into whole 30 ms frames (keeps the remainder)."""

    def __init__(self) -> None:
        self._rest = b""

    def frames(self, chunk: bytes) -> list[bytes]:
        data = self._rest + chunk
        whole = len(data) - len(data) % FRAME_BYTES
        self._rest = data[whole:]
        return [data[i : i + FRAME_BYTES] for i in range(0, whole, FRAME_BYTES)]
