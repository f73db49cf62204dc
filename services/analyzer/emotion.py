"""Lexicon scoring: emotion scores and a domain polarity from one scan.

Walks the hits of ``lexicon.scan`` left to right. Degree adverbs and negators
that sit right before a term (at most 2 characters apart, same clause) form a
chain that modifies it:

* degree multiplies both the polarity and the emotion weight (太差 > 差 > 有点差);
* a negated negative emotion is cancelled (我不是生气 / 您别着急 → no anger,
  no anxiety) and its polarity flips at half strength;
* a negated positive term turns into dissatisfaction (不满意 is in the
  lexicon; 不太专业, 没有帮到 → anger at half weight) with flipped polarity.

Then rules on top of the words: rhetorical questions, exclamations, cue
evidence (complaint threats, asking for a manager, waiting complaints,
urgency, impolite agent phrasing) and speaker (agents' scripted courtesy is
no emotion).
"""

from __future__ import annotations

import math
import re

from shared import cues as C

from .lexicon import EMOTIONS, scan

_BOUNDARY = frozenset(",.;!?~ \n\t")
_RHETORICAL = re.compile(r"难道|凭什么|怎么还|怎么又|还要我|有没有搞错|你们是怎么|到底(?:有没有|能不能|会不会|怎么)|"
                         r"(?:能不能|可不可以).{0,10}(?:好不好|行不行)|是不是.{0,8}(?:故意|有病|骗)|"
                         r"能不能(?:有点|靠谱|专业|认真|上点心|负点责|算点数|给句)|不是.{1,8}吗")
_POLITE_INQUIRY = re.compile(r"^(?:你好|您好)?[,. ]*(?:我)?(?:想)?(?:问一下|请问|咨询一下|想问|想咨询)")
_CHOICE_QUESTION = re.compile(r"是.{1,12}还是.{1,12}")
_EXCLAIM = re.compile(r"!+")
_QUESTION_BURST = re.compile(r"\?{2,}|\?!|!\?")

# Extra evidence from cues (customer side) and agent phrasing.
_CUE_EMOTION = {
    C.COMPLAINT_THREAT: ("anger", 0.9),
    C.ASKS_FOR_MANAGER: ("anger", 1.0),
    C.WAITING_COMPLAINT: ("anger", 0.6),
    C.URGENCY: ("anxiety", 0.6),
    C.CONFUSION: ("confusion", 0.4),
    C.GRATITUDE: ("satisfaction", 0.3),
    C.IMPOLITE: ("anger", 1.2),
}
_NEGATIVE = ("anger", "anxiety", "confusion", "sadness")
THRESHOLD = 0.8  # below this the utterance is neutral


def lexicon_scores(text: str, speaker: str) -> tuple[dict[str, float], float, int]:
    """``(emotion scores, domain polarity, number of sentiment terms hit)``."""
    scores = dict.fromkeys(EMOTIONS, 0.0)
    polarity = 0.0
    n_terms = 0
    agent = speaker == "agent"
    mult, negated, imperative, chain_end = 1.0, False, False, -10
    for start, end, entry in scan(text):
        kind = entry.kind
        attached = start - chain_end <= 2 and not any(ch in _BOUNDARY for ch in text[chain_end:start])
        if kind != "term":
            if not attached:
                mult, negated, imperative = 1.0, False, False
            if kind == "neg":
                negated = not negated
                imperative = entry.imperative
            else:
                mult *= entry.degree
            chain_end = end
            continue
        if not attached:
            mult, negated, imperative = 1.0, False, False
        elif negated and _ends_rhetorical(text, end):
            negated = False  # 这不是骗人吗: a rhetorical question, not a negation
        n_terms += 1
        pol = entry.polarity * mult
        angry = any(name == "anger" for name, _ in entry.emotions)
        if negated and not (imperative and angry):
            pol = -0.5 * pol if pol < 0 else -0.8 * pol
        elif agent and pol < 0 and not angry:
            pol *= 0.3  # an agent naming the customer's worry is not negative
        polarity += pol
        if entry.emotions and not (agent and entry.customer_only):
            for name, weight in entry.emotions:
                w = weight * mult
                if negated:
                    if name == "satisfaction":
                        scores["anger"] += 0.5 * w
                    elif imperative and name == "anger":
                        scores[name] += w  # 你们别老是推脱: still a complaint
                    continue
                scores[name] += w
        mult, negated, imperative, chain_end = 1.0, False, False, -10
    return scores, polarity, n_terms


def _ends_rhetorical(text: str, end: int) -> bool:
    """True when the clause after ``end`` closes with 吗 (不是…吗 / 没…吗)."""
    for k in range(end, min(len(text), end + 8)):
        ch = text[k]
        if ch == "吗":
            return True
        if ch in _BOUNDARY:
            return False
    return False


def rule_adjust(text: str, speaker: str, cues: list[str], scores: dict[str, float],
                polarity: float) -> float:
    """Apply rhetorical / exclamation / cue rules in place; returns new polarity."""
    if _RHETORICAL.search(text):
        scores["anger"] += 0.7
        polarity -= 1.2
    for cue in cues:
        hit = _CUE_EMOTION.get(cue)
        if hit is not None and (cue != C.GRATITUDE or speaker == "customer"):
            scores[hit[0]] += hit[1]
            if hit[0] != "satisfaction":
                polarity -= 0.5
    if C.EMPATHY in cues or C.THANKS_FOR_WAITING in cues or C.GREETING in cues or C.CLOSING in cues:
        polarity += 0.8
    if _CHOICE_QUESTION.search(text) and ("?" in text or "吗" in text or "呢" in text or speaker == "customer"):
        scores["confusion"] += 0.5
    if _QUESTION_BURST.search(text):
        scores["anger"] += 0.4 if scores["anger"] > 0 else 0.0
        scores["confusion"] += 0.3 if scores["anger"] == 0 else 0.0
        polarity -= 0.4
    exclaims = len(_EXCLAIM.findall(text))
    if exclaims:
        amp = 1.0 + 0.2 * min(exclaims, 3)
        top = max(scores, key=scores.__getitem__)
        if scores[top] > 0:
            scores[top] *= amp
        polarity *= amp
    if _POLITE_INQUIRY.search(text) and scores["confusion"] < 1.2:
        # 我想问一下…为什么… / 请问… is an information question, not bewilderment.
        scores["confusion"] *= 0.6
    if speaker == "agent":
        # Agents' emotion shows in irritation (impolite phrasing), rarely else.
        for name in ("anxiety", "confusion", "sadness", "satisfaction"):
            scores[name] *= 0.5
    return polarity


def decide(scores: dict[str, float]) -> tuple[str, float]:
    """Pick the emotion and its 0..1 score."""
    top = max(scores, key=scores.__getitem__)
    best = scores[top]
    if best < THRESHOLD:
        return "neutral", round(0.9 - 0.4 * best / THRESHOLD, 3)
    # Strength of the winner and its margin over the runner-up.
    second = max(v for k, v in scores.items() if k != top)
    strength = 1.0 - math.exp(-best / 1.5)
    margin = (best - second) / best
    return top, round(min(0.99, 0.35 + 0.45 * strength + 0.2 * margin), 3)
