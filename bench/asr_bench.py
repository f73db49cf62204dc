"""ASR bridge benchmark (`make bench-asr`): real-time factor, channels per core, final latency.

Runs the bridge's own streaming path (VAD, segmenter, partial and final
decodes, the same ChannelStream the websocket uses) over the committed test
calls (tests/data/speech), every channel as fast as it goes, and measures:

* RTF per channel: processing time / audio time (partials included), with
  1 decoder thread; channels per core = 1 / RTF (how many live channels one
  core keeps up with; a live channel skips partials before it falls behind).
* The added latency from end of speech to the final event: the VAD's
  end-of-segment silence (audio that must arrive before the segment can
  close) plus the final decode, per segment.
* Throughput with several channels decoded at once (concurrency 1 and 2 on
  this 2-core machine).

Writes bench/results/asr-<date>.json and prints a table.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.asr_bridge.cer import cer  # noqa: E402
from services.asr_bridge.offline import read_call  # noqa: E402
from services.asr_bridge.stream import CallSeq, ChannelStream, recorded_clock  # noqa: E402
from services.asr_bridge.transcriber import Transcriber  # noqa: E402
from services.asr_bridge.vad import FRAME_BYTES, FRAME_MS, FrameVad  # noqa: E402
from shared.config import Settings  # noqa: E402
from shared.schemas import utcnow  # noqa: E402

DATA = ROOT / "tests" / "data" / "speech"


def channels() -> list[tuple[str, str, bytes, list[str]]]:
    index = json.loads((DATA / "calls.json").read_text())
    out = []
    for call in index["calls"]:
        pcm = read_call(DATA / call["file"])
        for speaker, chan in zip(("agent", "customer"), pcm, strict=False):
            refs = [u["text"] for u in call["utterances"] if u["speaker"] == speaker]
            out.append((call["name"], speaker, chan, refs))
    return out


def run_channel(settings: Settings, decode, name: str, speaker: str, pcm: bytes) -> dict:
    stream = ChannelStream(
        name, speaker, CallSeq(), decode, FrameVad(settings.asr_vad_aggressiveness), settings, recorded_clock(utcnow())
    )
    events, final_decode = [], []
    t0 = time.perf_counter()
    for i in range(0, len(pcm), FRAME_BYTES * 5):  # 150 ms messages, like a live socket
        before = stream.decode_s
        new = stream.feed(pcm[i : i + FRAME_BYTES * 5])
        if any(e.is_final for e in new):
            final_decode.append(stream.decode_s - before)
        events += new
    new = stream.finish()
    events += new
    wall = time.perf_counter() - t0
    finals = [e for e in events if e.is_final]
    audio_s = len(pcm) / 32000
    # End of speech -> final: silence the VAD waits for + the final's decode.
    waits = [(close - end) * FRAME_MS / 1000 for end, close in stream.closed_at]
    return {
        "call": name,
        "speaker": speaker,
        "audio_s": round(audio_s, 2),
        "wall_s": round(wall, 3),
        "rtf": round(wall / audio_s, 4),
        "decode_s": round(stream.decode_s, 3),
        "segments": len(finals),
        "partials": sum(not e.is_final for e in events),
        "latency_s": [round(w + d, 3) for w, d in zip(waits, final_decode, strict=False)],
        "finals": [e.text for e in finals],
    }


def main() -> int:
    settings = Settings()
    t = time.perf_counter()
    transcriber = Transcriber(settings.model_copy(update={"asr_cpu_threads": 1, "asr_workers": 2}))
    load_s = time.perf_counter() - t
    chans = channels()
    results = {
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared), {platform.python_version()}",
        "model": "whisper-base int8 (CTranslate2)",
        "settings": {k: v for k, v in settings.model_dump().items() if k.startswith("asr_")},
        "model_load_s": round(load_s, 2),
    }
    results["settings"]["asr_model"] = str(results["settings"]["asr_model"])

    per_channel = [run_channel(settings, transcriber.decode, n, s, pcm) for n, s, pcm, _ in chans]
    refs = [r for *_, rs in chans for r in rs]
    hyps = [h for pc in per_channel for h in pc["finals"]]
    audio = sum(pc["audio_s"] for pc in per_channel)
    wall = sum(pc["wall_s"] for pc in per_channel)
    lat = sorted(x for pc in per_channel for x in pc["latency_s"])
    results["single"] = {
        "channels": per_channel,
        "rtf": round(wall / audio, 4),
        "channels_per_core": round(audio / wall, 1),
        "cer": round(cer(refs, hyps), 4),
        "latency_p50_s": round(statistics.median(lat), 3),
        "latency_p90_s": round(lat[int(0.9 * (len(lat) - 1))], 3),
        "latency_max_s": round(lat[-1], 3),
    }

    t = time.perf_counter()  # two channels at once, one decoder thread each
    with ThreadPoolExecutor(2) as pool:
        par = list(pool.map(lambda c: run_channel(settings, transcriber.decode, c[0], c[1], c[2]), chans))
    par_wall = time.perf_counter() - t
    lat2 = sorted(x for pc in par for x in pc["latency_s"])
    results["two_at_once"] = {
        "wall_s": round(par_wall, 2),
        "audio_s": round(audio, 2),
        "channels_realtime": round(audio / par_wall, 1),
        "latency_p50_s": round(statistics.median(lat2), 3),
        "latency_max_s": round(lat2[-1], 3),
    }

    out = ROOT / "bench" / "results" / f"asr-{results['date']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n")

    print(f"ASR bridge benchmark — {results['model']}, {results['machine']}, model load {load_s:.1f} s")
    print(f"{'channel':<32}{'audio s':>8}{'wall s':>8}{'RTF':>7}{'segs':>6}{'partials':>9}{'final lat s (max)':>19}")
    for pc in per_channel:
        print(
            f"{pc['call'] + ' ' + pc['speaker']:<32}{pc['audio_s']:>8.1f}{pc['wall_s']:>8.2f}{pc['rtf']:>7.3f}"
            f"{pc['segments']:>6}{pc['partials']:>9}{max(pc['latency_s'] or [0]):>19.2f}"
        )
    s = results["single"]
    print(
        f"\none channel at a time: RTF {s['rtf']:.3f} -> {s['channels_per_core']} live channels per core; "
        f"CER {s['cer']:.1%}"
    )
    print(
        f"end of speech -> final: p50 {s['latency_p50_s']:.2f} s, p90 {s['latency_p90_s']:.2f} s, "
        f"max {s['latency_max_s']:.2f} s (of which {settings.asr_end_silence_ms} ms is the VAD's silence)"
    )
    d = results["two_at_once"]
    print(
        f"two channels at once: {d['audio_s']:.0f} s of audio in {d['wall_s']:.1f} s -> "
        f"{d['channels_realtime']} live channels on this machine; final latency p50 {d['latency_p50_s']:.2f} s"
    )
    print(f"written: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
