"""snownlp's Bayes sentiment model, fed jieba tokens directly, as a log-odds.

``SnowNLP(text).sentiments`` segments with snownlp's own character-based
segmenter (slow: most of its ~2.5 ms per utterance) and then, for each of the
two classes, sums ``log(freq(word))`` and normalises. For two classes that is
exactly a sigmoid of a sum of per-word log-likelihood ratios, so we precompute
``llr[word] = log P(word|pos) - log P(word|neg)`` once per process from the
same trained model (``snownlp.sentiment.classifier``) and score an utterance
with one dictionary lookup per token. Tokens come from jieba (dictionary mode,
no HMM) after snownlp's own stop-word filter.
"""

from __future__ import annotations

import math

from snownlp import normal as _snow_normal
from snownlp import sentiment as _snow_sentiment

from .segment import cut

_STOP = frozenset(_snow_normal.stop)


def _build() -> tuple[dict[str, float], float, float]:
    bayes = _snow_sentiment.classifier.classifier  # snownlp.classification.bayes.Bayes
    pos, neg = bayes.d["pos"], bayes.d["neg"]
    log_pos_total, log_neg_total = math.log(pos.getsum()), math.log(neg.getsum())
    prior = log_pos_total - log_neg_total
    unknown = log_neg_total - log_pos_total  # log(1/pos_total) - log(1/neg_total)
    llr: dict[str, float] = {}
    for word in set(pos.d) | set(neg.d):
        llr[word] = (math.log(pos.d.get(word, pos.none)) - log_pos_total) - (
            math.log(neg.d.get(word, neg.none)) - log_neg_total
        )
    return llr, prior, unknown


_LLR, _PRIOR, _UNKNOWN = _build()


def tokens(text: str) -> list[str]:
    stop = _STOP
    return [w for w in cut(text) if w not in stop and not w.isspace()]


def bayes_logit(text: str) -> float:
    """Log-odds (pos vs neg) of snownlp's Bayes model over jieba tokens."""
    llr, unknown = _LLR, _UNKNOWN
    total = _PRIOR
    for word in tokens(text):
        total += llr.get(word, unknown)
    return total


def bayes_probability(text: str) -> float:
    logit = bayes_logit(text)
    if logit > 35:
        return 1.0
    if logit < -35:
        return 0.0
    return 1.0 / (1.0 + math.exp(-logit))
