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
from typing import cast

from shared import cues as C
from shared.schemas import Emotion

from .lexicon import EMOTIONS, general_hits, scan

_BOUNDARY = frozenset(",.;!?~ \n\t")
_RHETORICAL = re.compile(
    r"难道|难不成|凭什么|有(?:你们)?这么[^,.;!?]{1,10}的吗|是来[^,.;!?]{1,10}的吗|还得[^,.;!?]{0,8}呗|怎么还|怎么又|还要我|有没有搞错|你们是怎么|到底(?:有没有|能不能|会不会|怎么)|"
    r"(?:能不能|可不可以).{0,10}(?:好不好|行不行)|是不是.{0,8}(?:故意|有病|骗)|"
    r"能不能(?:有点|靠谱|专业|认真|上点心|负点责|算点数|给句)|不是.{1,8}吗|"
    r"就不能[^,.;!?]{0,8}吗|什么叫[^,.;!?]{1,8}\?|你跟我说[^,.;!?]{0,6}\?|"
    r"要的是[^.;!?]{1,12}不是"
)
# Indignant "什么叫X？" is not bewilderment.
_WHAT_IS_INDIGNANT = re.compile(r"什么叫[^,.;!?]{1,8}\?")
# Habitual failure (一到开盘就崩) and "not a single…" (一个电话都没有): complaints
# without a complaint word.
_HABITUAL = re.compile(
    r"一到[^,.;!?]{1,6}就(?:崩|卡|出问题|掉线|闪退|打不开|登不上|不行|出错)|"
    r"一(?:个|条|句|次)[^,.;!?]{0,3}都(?:没|不给|不回)|要的是[^.;!?]{1,12}不是"
)
# Exasperated "again?" (又是系统升级？ / 又让我下载新版本？).
_AGAIN_QUESTION = re.compile(r"(?:^|[,.!?])(?:又是|又让|又要|又来)[^,.;!?]{0,12}\?")
_POLITE_INQUIRY = re.compile(r"^(?:你好|您好)?[,. ]*(?:我)?(?:想)?(?:问一下|请问|咨询一下|想问|想咨询|想查一下|想了解)")
# A calm information question: polite framing (我想问一下 / 请问 / 我想查一下 …) or
# a why-question. Its situation words (登录不上, 冻结, 卖不出去) are what is asked
# about, not how the caller feels.
_CALM_QUESTION = re.compile(
    r"^(?:你好|您好|喂)?[,. ]*(?:我)?(?:就是)?(?:想)?(?:问一下|问下|请问|咨询一下|想问|想咨询|"
    r"想查一下|想查下|查一下|想了解|了解一下|想确认)|为什么"
)
CALM_SITUATION = 0.35  # situation-word emotion kept in a calm question
SUGGESTION_ANGER = 0.5  # anger kept in a calm suggestion (no !, no rhetoric, no threat)
# A hypothetical question (如果到时候还不到账的话，我找谁？) asks about a worry, it does not voice one.
_HYPOTHETICAL = re.compile(r"(?:如果|万一|要是|假如|假设)[^,.;!?]{0,16}")
_QUOTED = re.compile(r"“[^”]{0,40}”|\"[^\"]{0,40}\"|「[^」]{0,40}」")
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
_CUE_POLARITY = {C.IMPOLITE: -1.2}  # others: -0.5 for a negative cue
_COURTESY = (C.EMPATHY, C.THANKS_FOR_WAITING, C.GREETING, C.CLOSING, C.CLOSING_QUESTION)
_NEGATIVE = ("anger", "anxiety", "confusion", "sadness")
THRESHOLD = 0.8  # below this the utterance is neutral
NEGATED_FEELING = 0.2  # 我不是生气 / 不担心: the feeling is cancelled, the words lean barely positive
BEFORE_CONTRAST = 0.35  # what comes before 但 / 可是 / 就是 … counts this much
IRONY_ANGER = 0.6
RHETORICAL_ANGER = 0.95  # a customer's rhetorical challenge (难道 / 凭什么 / 有这么…的吗)
# A clause-initial contrast: the part after it is the point (可以 / 可能 / 可不可以 are no contrast).
_CONTRAST = re.compile(r"(?:^|[,;])\s*(?:但是|但|可是|不过|只是|然而|就是|就怕|可(?![以能是不]))")
# Irony: praise or thanks that can only mean blame.
_IRONY = re.compile(
    r"呵呵|厉害厉害|可真(?:行|会|是|够|有)|真(?:行|有你们的)啊|(?:还|真)好意思|(?:还得|真得|得好好)谢谢|"
    r"谢谢你们(?:啊|了)?[,]?(?:让|害)我|见过最[^,.!?]{1,6}的|真会[^,.!?]{0,4}(?:折腾|挑时候)"
)
_EMPHATIC_PRAISE = re.compile(
    r"(?:真是|实在是|太)(?:太)?(?:感谢|谢谢)你们了?|(?:真是|真)(?:好啊|好|周到|专业|高效|厉害)"
)
_FAILURE = re.compile(r"(?:全|都)没了|白白|(?:连|一)[^,.!?]{0,8}都[^,.!?]{0,6}(?:不了|不到|没有|没)|又让我")


# One term's contribution: (start, polarity, [(emotion, weight), …], situation word).
Contribution = tuple[int, float, list[tuple[str, float]], bool]


def lexicon_scores(
    text: str, speaker: str, general: bool = True
) -> tuple[dict[str, float], float, int, dict[str, float]]:
    """``(emotion scores, domain polarity, sentiment terms hit, situation part)``.

    The situation part holds what situation words (``s`` entries) contributed to
    each emotion score, and to polarity under the key ``"polarity"``.

    Quoted speech (“请您耐心等待”) is what someone else said: not scanned.
    Then, for a customer: after a clause-initial contrast (但 / 可是 / 不过 / 就是 /
    就怕) the later part is the point and what came before counts ``BEFORE_CONTRAST``
    (你人挺好的，就是规定太死板了 is a complaint; 虽然亏了，但你讲得很清楚 is thanks);
    irony (可真行啊 / 呵呵 / 还得谢谢你们呗 / 太感谢你们了，…全没了) turns the praise
    into blame.
    """
    if "“" in text or '"' in text or "「" in text:
        text = _QUOTED.sub(lambda m: " " * len(m.group()), text)
    scores = dict.fromkeys(EMOTIONS, 0.0)
    situ = dict.fromkeys(EMOTIONS, 0.0)
    agent = speaker == "agent"
    hits = scan(text)
    if general:
        hits = general_hits(text, hits)  # everyday emotion words (DUTIR / HowNet), whole words only
    # One contribution per term: (start, polarity, ((emotion, weight), …), situation word)
    contrib: list[Contribution] = []
    mult, negated, imperative, chain_end = 1.0, False, False, -10
    for start, end, entry in hits:
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
        pol = entry.polarity * mult
        angry = any(name == "anger" for name, _ in entry.emotions)
        if negated and not (imperative and angry):
            pol = -NEGATED_FEELING * pol if pol < 0 else -0.8 * pol
        elif agent and pol < 0 and not angry:
            pol *= 0.3  # an agent naming the customer's worry is not negative
        elif agent and pol > 0 and entry.customer_only:
            pol *= 0.5  # an agent reporting 成功了 / 可以了 states a fact, not a feeling
        emotions: list[tuple[str, float]] = []
        if entry.emotions and not (agent and entry.customer_only):
            for name, weight in entry.emotions:
                w = weight * mult
                if negated:
                    if name == "satisfaction":
                        emotions.append(("anger", 0.5 * w))
                    elif imperative and name == "anger":
                        emotions.append((name, w))  # 你们别老是推脱: still a complaint
                    continue
                emotions.append((name, w))
        contrib.append((start, pol, emotions, entry.situation))
        mult, negated, imperative, chain_end = 1.0, False, False, -10
    irony = False
    if not agent and contrib:
        cut = _contrast_at(text)
        if cut > 0 and any(c[0] >= cut for c in contrib):
            contrib = [
                (st, pol * BEFORE_CONTRAST, [(n, w * BEFORE_CONTRAST) for n, w in emo], sit)
                if st < cut
                else (st, pol, emo, sit)
                for st, pol, emo, sit in contrib
            ]
        irony = _is_ironic(text, contrib)
        if irony:
            contrib = [
                (st, -0.8 * pol if pol > 0 else pol, [("anger" if n == "satisfaction" else n, w) for n, w in emo], sit)
                for st, pol, emo, sit in contrib
            ]
    polarity = situ_pol = 0.0
    for _, pol, emotions, situation in contrib:
        polarity += pol
        if situation:
            situ_pol += pol
        for name, w in emotions:
            scores[name] += w
            if situation:
                situ[name] += w
    if irony:
        scores["anger"] += IRONY_ANGER
        polarity -= IRONY_ANGER
    situ["polarity"] = situ_pol
    return scores, polarity, len(contrib), situ


def _contrast_at(text: str) -> int:
    """Where the clause after the last clause-initial contrast (但 / 可是 / 不过 / 就是 …) starts, or -1."""
    at = -1
    for m in _CONTRAST.finditer(text):
        at = m.end()
    return at


def _is_ironic(text: str, contrib: list[Contribution]) -> bool:
    """Praise that means blame: an ironic frame, or emphatic praise/thanks followed by a loss."""
    if _IRONY.search(text):
        return True
    m = _EMPHATIC_PRAISE.search(text)
    if m is None:
        return False
    later = sum(pol for st, pol, _, _ in contrib if st >= m.end() and pol < 0)
    return later <= -1.0 or _FAILURE.search(text, m.end()) is not None


def _ends_rhetorical(text: str, end: int) -> bool:
    """True when the clause after ``end`` closes with 吗 (不是…吗 / 没…吗)."""
    for k in range(end, min(len(text), end + 8)):
        ch = text[k]
        if ch == "吗":
            return True
        if ch in _BOUNDARY:
            return False
    return False


def rule_adjust(
    text: str,
    speaker: str,
    cues: list[str],
    scores: dict[str, float],
    polarity: float,
    situ: dict[str, float] | None = None,
) -> float:
    """Apply rhetorical / exclamation / cue rules in place; returns new polarity."""
    customer = speaker == "customer"
    rhetorical = _RHETORICAL.search(text) is not None
    if rhetorical:
        scores["anger"] += RHETORICAL_ANGER if customer else 0.7
        polarity -= 1.2
        if "什么叫" in text and _WHAT_IS_INDIGNANT.search(text):
            scores["confusion"] = max(0.0, scores["confusion"] - 1.0)
    if customer and _HABITUAL.search(text):
        scores["anger"] += 0.6
        polarity -= 0.6
    if customer and _AGAIN_QUESTION.search(text):
        rhetorical = True
        scores["anger"] += 1.0
        polarity -= 1.2
    for cue in cues:
        hit = _CUE_EMOTION.get(cue)
        if hit is not None and (cue != C.GRATITUDE or customer):
            scores[hit[0]] += hit[1]
            if hit[0] != "satisfaction":
                polarity += _CUE_POLARITY.get(cue, -0.5)
    if any(c in cues for c in _COURTESY):
        polarity += 0.8
    if not customer and C.PROMISE_RETURNS in cues and polarity > 0:
        polarity = 0.0  # a mis-selling promise (保本, 您放心买) is not courtesy
    if customer and C.SUGGESTION in cues:
        # 条件单设置太复杂了 / 老年人看不懂 inside a suggestion is about the product,
        # not the caller being lost.
        scores["confusion"] *= 0.3
        polarity *= 0.5  # a suggestion is constructive, not a complaint
        if not rhetorical and "!" not in text and not (set(cues) & {C.COMPLAINT_THREAT, C.ASKS_FOR_MANAGER}):
            # 入口太难找了，我找了半天: a mild complaint inside a calm suggestion is not anger,
            # and the worrying facts it mentions are about the product.
            scores["anger"] *= SUGGESTION_ANGER
            if situ:
                for name, w in situ.items():
                    if name != "polarity" and w:
                        scores[name] -= (1.0 - CALM_SITUATION) * w
    if _CHOICE_QUESTION.search(text) and ("?" in text or "吗" in text or "呢" in text or customer):
        scores["confusion"] += 0.5
    if _QUESTION_BURST.search(text):
        scores["anger"] += 0.4 if scores["anger"] > 0 else 0.0
        scores["confusion"] += 0.3 if scores["anger"] == 0 else 0.0
        polarity -= 0.4
    exclaims = len(_EXCLAIM.findall(text))
    if (
        customer
        and situ
        and not exclaims
        and not rhetorical
        and C.URGENCY not in cues
        and (_CALM_QUESTION.search(text) or ("?" in text and _HYPOTHETICAL.search(text)))
    ):
        # 我想问一下，我的交易软件登录不上去了 / 我想查一下账户为什么被冻结了: a calm
        # question about a worrying fact. Feeling words (着急, 担心) keep their weight.
        for name, w in situ.items():
            if name == "polarity":
                polarity -= (1.0 - CALM_SITUATION) * w
            elif w:
                scores[name] -= (1.0 - CALM_SITUATION) * w
    if exclaims:
        amp = 1.0 + 0.2 * min(exclaims, 3)
        top = max(scores, key=scores.__getitem__)
        if scores[top] > 0:
            scores[top] *= amp
        polarity *= amp
    if _POLITE_INQUIRY.search(text) and scores["confusion"] < 1.2:
        # 我想问一下…为什么… / 请问… is an information question, not bewilderment.
        scores["confusion"] *= 0.6
    if not customer:
        # Agents' emotion shows in irritation (impolite phrasing), rarely else.
        for name in ("anxiety", "confusion", "sadness", "satisfaction"):
            scores[name] *= 0.5
    return polarity


def decide(scores: dict[str, float]) -> tuple[Emotion, float]:
    """Pick the emotion and its 0..1 score (``scores`` is keyed by ``EMOTIONS``)."""
    top = cast("Emotion", max(scores, key=scores.__getitem__))
    best = scores[top]
    if best < THRESHOLD:
        return "neutral", round(0.9 - 0.4 * best / THRESHOLD, 3)
    # Strength of the winner and its margin over the runner-up.
    second = max(v for k, v in scores.items() if k != top)
    strength = 1.0 - math.exp(-best / 1.5)
    margin = (best - second) / best
    return top, round(min(0.99, 0.35 + 0.45 * strength + 0.2 * margin), 3)
