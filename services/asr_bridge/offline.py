"""``heartline transcribe CALL.wav``: a recorded call through the same streaming path.

A stereo WAV (left = agent, right = customer; a mono file is one customer
channel) is cut into 30 ms frames and fed to both channels in step, so the
events come out in the order a live bridge would emit them: call_started,
the utterances (partials, then the final of each segment), call_ended. In
real time each frame is fed when its time comes; ``--fast`` feeds as fast as
the decoder allows and stamps ``ts`` from the audio position.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
import wave
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np

from services.asr_bridge.stream import CallSeq, ChannelStream, live_clock, recorded_clock
from services.asr_bridge.vad import FRAME_BYTES, FRAME_MS, RATE, FrameVad
from shared.config import Settings
from shared.schemas import CallEnded, CallStarted, utcnow

SPEAKERS = ("agent", "customer")


def read_call(path: Path) -> list[bytes]:
    """16 kHz 16-bit PCM per channel (agent, customer); other rates are resampled."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: 16-bit PCM WAV expected, got {8 * w.getsampwidth()}-bit")
        rate, nch = w.getframerate(), w.getnchannels()
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, nch)
    if nch == 1:
        chans = [np.zeros(len(pcm), "<i2"), pcm[:, 0]]
    else:
        chans = [pcm[:, 0], pcm[:, 1]]
    if rate != RATE:  # linear resampling is enough for telephone-band speech
        n = int(len(pcm) * RATE / rate)
        x = np.linspace(0, len(pcm) - 1, n)
        chans = [np.interp(x, np.arange(len(c)), c).astype("<i2") for c in chans]
    return [np.ascontiguousarray(c).tobytes() for c in chans]


def call_events(
    path: Path, settings: Settings, decode, call_id: str, agent_id: str | None = None, fast: bool = False
) -> Iterator:
    """Every CallEvent of the recording, in emission order."""
    chans = read_call(path)
    t0 = utcnow()
    clock = recorded_clock(t0) if fast else live_clock
    seqs = CallSeq()
    streams = [
        ChannelStream(call_id, spk, seqs, decode, FrameVad(settings.asr_vad_aggressiveness), settings, clock)
        for spk in SPEAKERS
    ]
    yield CallStarted(type="call_started", call_id=call_id, ts=t0, agent_id=agent_id, queue="recorded")
    n = max(len(c) for c in chans) // FRAME_BYTES
    started = time.monotonic()
    for i in range(n):
        if not fast:
            delay = started + (i + 1) * FRAME_MS / 1000 - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        for stream, pcm in zip(streams, chans, strict=True):
            yield from stream.feed(pcm[i * FRAME_BYTES : (i + 1) * FRAME_BYTES])
    for stream in streams:
        yield from stream.finish()
    end = t0 + timedelta(milliseconds=n * FRAME_MS) if fast else utcnow()
    yield CallEnded(type="call_ended", call_id=call_id, ts=end, reason="hangup")


def _sender(settings: Settings, to: str) -> tuple[Callable, Callable]:
    if to == "stdout":

        def send(event):
            sys.stdout.write(event.model_dump_json() + "\n")
            sys.stdout.flush()

        return send, lambda: None
    if to == "ingest":
        import httpx

        from shared.auth import mint

        client = httpx.Client(
            timeout=10, headers={"Authorization": f"Bearer {mint(settings, 'asr-transcribe', 'service')}"}
        )
        url = f"http://127.0.0.1:{settings.ingest_port}/v1/events"

        def send(event):
            resp = client.post(url, content=event.to_json(), headers={"Content-Type": "application/json"})
            if resp.status_code != 202:
                raise RuntimeError(f"ingest answered {resp.status_code}: {resp.text[:200]}")

        return send, client.close
    from shared.kafka import producer

    async def start():
        prod = producer(settings)  # aiokafka binds to the running loop
        await prod.start()
        return prod

    loop = asyncio.new_event_loop()
    prod = loop.run_until_complete(start())
    topic = settings.topics.stt_events

    def send(event):
        if event.ingest_ts is None:
            event.ingest_ts = utcnow()
        loop.run_until_complete(prod.send_and_wait(topic, event.to_json(), key=event.call_id.encode()))

    def close():
        loop.run_until_complete(prod.stop())
        loop.close()

    return send, close


def transcribe(
    path: str,
    settings: Settings,
    to: str = "stdout",
    fast: bool = False,
    call_id: str | None = None,
    agent_id: str | None = None,
) -> int:
    from services.asr_bridge.transcriber import Transcriber

    decode = Transcriber(settings).decode
    call_id = call_id or f"{Path(path).stem[:40].replace(' ', '-')}-{uuid.uuid4().hex[:6]}"
    send, close = _sender(settings, to)
    try:
        for event in call_events(Path(path), settings, decode, call_id, agent_id, fast):
            send(event)
    finally:
        close()
    if to != "stdout":
        print(json.dumps({"call_id": call_id, "sent_to": to}), file=sys.stderr)
    return 0
