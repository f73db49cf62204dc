"""Text normalisation shared by every analysis step.

Two views of an utterance, both computed with ``str.translate`` (one C-level
pass, no Python loop per character):

* ``norm(text)`` — what the lexicon, cue and sentiment steps read:
  full-width ASCII folded to half-width, traditional characters folded to
  simplified, letters lower-cased.
* ``digit_view(text)`` — what PII detection reads: ``norm`` plus digits spoken
  as Chinese numerals (一二三 / 幺 / 两 / 洞 / 〇 …) turned into ASCII digits.

Every mapping is one character to one character, so a position in either view
is the same position in the original text: PII found in the digit view is
redacted in the original.
"""

from __future__ import annotations

from snownlp.normal import zh as _zh

# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space → half-width.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FULL_WIDTH[0x3000] = 0x20
# Chinese punctuation that carries the same meaning as its ASCII cousin.
_PUNCT = {ord("。"): ord("."), ord("，"): ord(","), ord("、"): ord(","), ord("；"): ord(";"),
          ord("："): ord(":"), ord("…"): ord("."), ord("～"): ord("~")}
# Traditional → simplified, single characters only (snownlp ships the table).
_T2S = {ord(k): ord(v) for k, v in _zh.zh2hans.items() if len(k) == 1 and len(v) == 1 and k != v}
# 帳號 → 账号 is covered above; 裡/裏 are common in speech transcripts.
_T2S.update({ord("裡"): ord("里"), ord("裏"): ord("里"), ord("妳"): ord("你")})

_NORM = {**_T2S, **_FULL_WIDTH, **_PUNCT}
_NORM.update({code: code + 32 for code in range(ord("A"), ord("Z") + 1)})
_NORM.update({code + 0xFEE0: code + 32 for code in range(ord("A"), ord("Z") + 1)})
NORM_TABLE = str.maketrans(_NORM)

# Spoken digits. 叉 is how callers read the X check digit of an ID number.
_SPOKEN = {"零": "0", "〇": "0", "洞": "0", "一": "1", "幺": "1", "么": "1", "二": "2", "两": "2",
           "三": "3", "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9",
           "拐": "7", "勾": "9", "叉": "X", "x": "X"}
_DIGITS = dict(_NORM)
_DIGITS.update({ord(k): ord(v) for k, v in _SPOKEN.items()})
_DIGITS.update({ord("X"): ord("X"), ord("Ｘ"): ord("X"), ord("ｘ"): ord("X")})
DIGIT_TABLE = str.maketrans(_DIGITS)


def norm(text: str) -> str:
    return text.translate(NORM_TABLE)


def digit_view(text: str) -> str:
    return text.translate(DIGIT_TABLE)
