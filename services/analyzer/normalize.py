"""Text normalisation shared by every analysis step.

``norm(text)`` — what the lexicon, cue and sentiment steps read: full-width
ASCII folded to half-width, traditional characters folded to simplified,
letters lower-cased; computed with ``str.translate`` (one C-level pass, no
Python loop per character). PII detection reads its own view of the text,
``shared.pii.digit_view`` (spoken digits as ASCII digits).
"""

from __future__ import annotations

from snownlp.normal import zh as _zh

# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space → half-width.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FULL_WIDTH[0x3000] = 0x20
# Chinese punctuation that carries the same meaning as its ASCII cousin.
_PUNCT = {
    ord("。"): ord("."),
    ord("，"): ord(","),
    ord("、"): ord(","),
    ord("；"): ord(";"),
    ord("："): ord(":"),
    ord("…"): ord("."),
    ord("～"): ord("~"),
}
# Traditional → simplified, single characters only (snownlp ships the table).
_T2S = {ord(k): ord(v) for k, v in _zh.zh2hans.items() if len(k) == 1 and len(v) == 1 and k != v}
# 帳號 → 账号 is covered above; 裡/裏 are common in speech transcripts.
_T2S.update({ord("裡"): ord("里"), ord("裏"): ord("里"), ord("妳"): ord("你")})

_NORM = {**_T2S, **_FULL_WIDTH, **_PUNCT}
_NORM.update({code: code + 32 for code in range(ord("A"), ord("Z") + 1)})
_NORM.update({code + 0xFEE0: code + 32 for code in range(ord("A"), ord("Z") + 1)})
NORM_TABLE = str.maketrans(_NORM)


def norm(text: str) -> str:
    return text.translate(NORM_TABLE)
