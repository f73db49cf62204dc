"""Small helpers on speech segments and call time, shared by the tracker and the detectors."""

from __future__ import annotations

import re
from datetime import datetime

from services.nudger.memory import CallMemory

_BACKCHANNEL = set("嗯啊哦噢呃好对是的行恩唔")
_PUNCT = re.compile(r"[\s,，。.!！?？、;；:：…~\-\"“”'‘’]")
HIDDEN = "•"


def mask(text: str) -> str:
    """What the nudger keeps of raw ASR text (stt-events partials, never redacted): punctuation
    and backchannel characters; every other character becomes ``•``. Same length, so
    ``content_chars`` and ``is_backchannel`` read it as they read the original."""
    return "".join(ch if ch in _BACKCHANNEL or _PUNCT.match(ch) else HIDDEN for ch in text)


def content_chars(text: str) -> int:
    return len(_PUNCT.sub("", text))


def is_backchannel(text: str) -> bool:
    core = _PUNCT.sub("", text)
    return not core or set(core) <= _BACKCHANNEL


def quote(text: str, limit: int = 30) -> str:
    """A short quote for a nudge reason: only the analyzer's redacted text, never raw speech."""
    text = text.strip()
    if not text or HIDDEN in text:
        return ""  # masked raw speech: nothing to quote
    return f"«{text[:limit]}{'…' if len(text) > limit else ''}»"


def offset_ms(mem: CallMemory, clock: datetime) -> int:
    return int((clock.timestamp() - (mem.base_ts or clock.timestamp())) * 1000)


def timer_key(mem: CallMemory, ts: datetime) -> str:
    """Deterministic key for a nudge triggered by a call-level event: its second in the call."""
    return f"t{max(0, int(ts.timestamp() - (mem.base_ts or ts.timestamp())))}"
