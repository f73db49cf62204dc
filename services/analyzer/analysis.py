"""Utterance analysis: sentiment, emotion, cues and PII redaction — pure, no Kafka.

``analyze_text`` is the one function the analyzer worker, ``heartline analyze``
and ``heartline replay`` call, so what is tested offline is what runs live.

How a final utterance is analysed (docs/analysis.md has the details):

1. ``shared.pii.redact`` masks ID numbers, bank cards, phones, accounts,
   passwords, e-mail addresses (spoken Chinese digits and separators
   included) and yields ``pii:*`` cues — the one redaction every service uses.
2. ``normalize.norm`` folds full-width and traditional characters.
3. ``cue_rules.find_cues`` finds the speaker's cues.
4. ``emotion.lexicon_scores`` scans the call-center lexicon once (degree
   adverbs, negation), ``emotion.rule_adjust`` adds rhetorical-question,
   exclamation and cue evidence → emotion and a domain polarity.
5. ``sentiment.bayes_logit`` — snownlp's Bayes model over jieba tokens — is
   blended in as a bounded prior; the domain polarity dominates.

Partials (``partial=True``) skip step 5 and report neutral sentiment/emotion
unless the lexicon evidence alone is strong.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from shared.pii import redact
from shared.schemas import MAX_TEXT_CHARS, Emotion, Utterance, UtteranceAnalysis, utcnow

from . import emotion as _emotion
from .cue_rules import find_cues
from .knowledge import Retriever
from .normalize import norm
from .sentiment import bayes_logit

__all__ = ["Analysis", "analyze_text", "analyze_utterance", "redact"]


@dataclass
class Analysis:
    sentiment: float
    emotion: Emotion
    emotion_score: float
    cues: list[str] = field(default_factory=list)
    text: str = ""  # PII redacted


# Blend weights (tuned on the dev split of tests/data/eval_utterances.jsonl).
DOMAIN_WEIGHT = 0.7  # per unit of lexicon polarity, in logits
BAYES_WEIGHT = 0.4  # snownlp's log-odds, squashed by tanh, at most ±this
BAYES_SCALE = 6.0
EMOTION_LEAN = 0.4  # polarity pulled toward a decided customer emotion
PARTIAL_STRONG = 2.0  # |domain polarity| a partial needs to leave neutral
_CACHE_MAX_CHARS = 512


def _sigmoid(x: float) -> float:
    if x > 30:
        return 1.0
    if x < -30:
        return 0.0
    return 1.0 / (1.0 + math.exp(-x))


def _analyze(text: str, speaker: str, partial: bool) -> tuple[float, Emotion, float, tuple[str, ...], str]:
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS]
    redacted, pii_cues = redact(text)
    normed = norm(redacted)
    if not normed.strip():
        return 0.5, "neutral", 0.9, tuple(pii_cues), redacted
    cues = find_cues(normed, speaker)
    scores, polarity, _, situ = _emotion.lexicon_scores(normed, speaker, general=not partial)
    polarity = _emotion.rule_adjust(normed, speaker, cues, scores, polarity, situ)
    emotion, score = _emotion.decide(scores)
    if emotion != "neutral" and speaker == "customer":
        # Keep polarity consistent with a clear emotion (a confused or worried
        # customer is not "neutral" even when no single word is negative).
        lean = EMOTION_LEAN * min(scores[emotion], 2.0)
        polarity += lean if emotion == "satisfaction" else -lean
    if partial:
        if abs(polarity) >= PARTIAL_STRONG:
            sentiment = _sigmoid(DOMAIN_WEIGHT * polarity)
        else:
            sentiment = 0.5
            if emotion != "neutral" and score < 0.7:
                emotion, score = "neutral", 0.5
    else:
        bayes = BAYES_WEIGHT * math.tanh(bayes_logit(normed) / BAYES_SCALE)
        sentiment = _sigmoid(DOMAIN_WEIGHT * polarity + bayes)
    return round(sentiment, 4), emotion, score, tuple(cues + pii_cues), redacted


_cached = lru_cache(maxsize=8192)(_analyze)


def analyze_text(text: str, speaker: str = "customer", *, partial: bool = False) -> Analysis:
    """Analyse one utterance; never raises on any string input."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    speaker = "agent" if speaker == "agent" else "customer"
    fn = _cached if len(text) <= _CACHE_MAX_CHARS else _analyze
    sentiment, emotion, score, cues, redacted = fn(text, speaker, bool(partial))
    return Analysis(sentiment=sentiment, emotion=emotion, emotion_score=score, cues=list(cues), text=redacted)


def analyze_utterance(
    event: Utterance, ingest_ts: datetime | None = None, knowledge: Retriever | None = None
) -> UtteranceAnalysis:
    """Analyse one utterance event into the record the analyzer publishes.

    With a knowledge base, a customer final that asks something it answers
    carries the match (``knowledge``), found on the redacted text.
    """
    result = analyze_text(event.text, event.speaker, partial=not event.is_final)
    match = None
    if knowledge is not None and event.is_final and event.speaker == "customer":
        match = knowledge.match(result.text, result.cues, result.emotion, result.emotion_score)
    return UtteranceAnalysis(
        call_id=event.call_id,
        seq=event.seq,
        speaker=event.speaker,
        text=result.text,
        is_final=event.is_final,
        sentiment=result.sentiment,
        emotion=result.emotion,
        emotion_score=result.emotion_score,
        cues=result.cues,
        start_ms=event.start_ms,
        end_ms=event.end_ms,
        ts=event.ts,
        ingest_ts=ingest_ts or event.ingest_ts or event.ts,
        analyzed_ts=utcnow(),
        knowledge=match,
    )
