"""The analyzer's one jieba tokenizer (dictionary mode, no HMM).

jieba's dictionary costs ~65 MB per tokenizer instance, so sentiment and
knowledge retrieval share this one, and its cut of a text is cached: both
cut the same normalised, redacted text of a final, so the second cut is a
cache hit. Nothing adds words to it: the sentiment model's per-word ratios
were computed on jieba's own segmentation, and knowledge retrieval finds its
domain terms (创业板, 三方存管 …) by scanning for the knowledge base's
keywords instead (services/analyzer/knowledge.py).
"""

from __future__ import annotations

import logging
from functools import lru_cache

import jieba

jieba.setLogLevel(logging.WARNING)

_tokenizer = jieba.Tokenizer()
_tokenizer.initialize()


@lru_cache(maxsize=4096)
def cut(text: str) -> tuple[str, ...]:
    """jieba words of ``text``, dictionary mode (deterministic, no HMM guesses)."""
    return tuple(_tokenizer.lcut(text, HMM=False))
