"""Knowledge retrieval: the best answer for a customer's question, or nothing.

``Retriever(entries).match(text, cues, emotion, emotion_score)`` runs on every
customer final in the analyzer, on the redacted text (a card never depends
on, or repeats, a card number or a password):

1. **Gate** (``asks``). A question or request (怎么/多久/吗/?/找谁/想再…,
   the spoken forms 能用不能用 / …能申请不 / …是吧 / 是…还是…, or the
   analyzer's ``request`` cue) is looked up; so is a problem stated without
   asking (挂单挂不上去 / 验证码一直收不到 / 转账失败), on a stronger match and
   not in anger. A thanks, a feeling or a digit string never is, nor an
   angry rhetorical question (凭什么…? / 什么破系统 is not asking for an FAQ)
   unless it asks how or where to complain.
2. **Terms.** The text is normalised (full-width, traditional → simplified),
   spoken variants are folded (证券公司 → 券商, 礼拜天 → 周末: ``_SYNONYMS``)
   and it is cut by the analyzer's jieba tokenizer (``segment.cut``);
   function words and fillers are dropped; the knowledge base's own keywords
   found in the text are added as whole terms (jieba cuts 科创板 into 科/创/板;
   the keyword scan keeps it one term and also carries synonyms: 两融, 打新,
   换绑). The runs of content words also give character bigrams (银行卡 →
   银行 行卡), so a paraphrase that jieba cuts differently still meets the
   wording.
3. **BM25** (``bm25s``) over one document per question wording, each
   carrying its entry's keywords, plus a second BM25 over the wordings'
   bigrams weighted ``BIGRAM_WEIGHT``; an entry scores its best wording.
   Keywords found in the text weigh double (``KEYWORD_BOOST``), and the kind
   of answer asked for (a time, an amount, a reason, a place: ``_INTENTS``)
   is one more term, so 转入多久到账 and 转账限额是多少 stay apart.
4. **Entry model** (``knowledge_model.EntryModel``): a logistic regression
   over character n-grams and words, trained on all of an entry's wordings
   and its answer at load, gives P(entry). The entries are ordered by their
   best wording's score relative to the best one's plus ``MODEL_WEIGHT`` ×
   P(entry): one wording that happens to share two words with the question
   no longer outvotes an entry whose wordings together explain it better.
5. **Confidence.** The first entry is shown only if the share of the
   customer's (IDF-weighted) words its best wording explains passes
   ``MIN_COVERAGE`` and that wording's score passes ``MIN_SCORE`` — or
   ``SURE_MIN_SCORE`` when the model is at least ``MODEL_SURE`` of the
   entry or the wording explains ``SURE_COVERAGE`` of the words (手续费怎么算
   is short and plain: its score is low, its match is not); a stated
   problem needs ``PROBLEM_MIN_*``. The thresholds were
   chosen on the validation and tuning data (the labelled brokerage
   questions of the scenario library and the analysis eval set, the earlier
   blind sets, and the off-topic utterances), never on the blind held-out
   set: a weak match shows nothing — no card is better than a wrong card
   (docs/knowledge.md has the trade-off table).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import bm25s
import numpy as np

from shared import cues as C
from shared.schemas import KnowledgeMatch

from .knowledge_model import EntryModel, default_cache
from .normalize import norm
from .segment import cut

# Thresholds (see the module docstring; docs/knowledge.md explains them).
MIN_SCORE = 8.5  # score of the best wording (for a base the size of the starter one: ~1,500 wordings and asked)
MIN_COVERAGE = 0.15  # IDF share of the customer's words found in that wording
MODEL_SURE = 0.5  # the entry model this sure of the entry ...
SURE_COVERAGE = 0.6  # ... or a wording that explains this share of the words (a short, plain question) ...
SURE_MIN_SCORE = 5.0  # ... shows it on a weaker best wording (down to this score)
MODEL_WEIGHT = 1.0  # weight of the entry model's probability against the best wording's relative BM25 score
PROBLEM_MIN_SCORE = 10.0  # a problem stated without asking: shown on a stronger match only
PROBLEM_MIN_COVERAGE = 0.3
ANGER_SKIP = 0.6  # an angry turn at or above this emotion score that is rhetorical is not looked up
BM25_K1, BM25_B = 1.2, 0.75
KEYWORD_BOOST = 2.0  # weight of a query term that is one of the base's keywords
BIGRAM_WEIGHT = 0.3  # weight of the character-bigram BM25 score added to the word score

_QUESTION = re.compile(
    r"[?？]|吗|么(?:$|[,.!])|呢(?:$|[,.!])|怎么|怎样|如何|多久|多长|多少|几(?:点|天|个|次|号|时|年|道|种|项|笔|步|遍|成|位|家|分钟|小时|周|月)|(?<!没)什么|(?<!没)啥|哪|咋|"
    r"能不能|能否|可不可以|可以吗|是不是|有没有|要不要|会不会|需不需要|用不用|请问|问一下|问问|想问|咨询|了解一下|为什么|为啥|"
    # who to turn to, and a want stated without 我想 (…想再做一遍 / 想把它注销掉)
    r"(?:找|向|问|跟|联系)谁|(?<![不没])想(?:再|重新|把|换|改|开|注销|销|申请|办|查|撤|取消|转|知道)|"
    # spoken yes/no and choice questions: 能用不能用 / 到没到, …能申请不 / …了没有, …是吧, 是发钱还是发股票
    r"(\w{1,2})[不没]\1|[^\W不没][不没]有?(?:$|[,.!啊呀呢哈])|[是对][吧不]|是[^,.!?]{1,10}还是"
)
# A problem stated on a service line asks for its remedy: 挂单挂不上去 / 验证码一直收不到 / 转账失败.
# Looked up too, but shown only on a stronger match (PROBLEM_MIN_*), and not in anger.
_PROBLEM = re.compile(
    r"[^\W\d][不没](?:上|进|去|了|到|出|来|开|动)|收不到|没收到|没到|没看到|不见了|失败|报错|出错|被拒|拒绝|"
    r"闪退|白屏|卡住|卡死|转圈|锁(?:了|住)|冻结|忘(?:了|记)|丢了|停机|过期|到期|用不了"
)
# The customer names where or how to take a complaint: an angry turn that asks this wants the answer.
_ASKS_WHERE = re.compile(r"在哪|哪里|哪儿|找谁|向谁|哪个部门|什么渠道|怎么(?:投诉|反映|提)|去哪")
# An angry turn that says it is not asking: 凭什么…? / 难道…? / 什么破系统 / …有什么用? — the emotion
# wants acknowledging, not an FAQ. Anger alone does not close the gate: an angry customer who
# asks how to repay a loan still asks how to repay a loan.
_RHETORIC = re.compile(
    r"凭什么|难道|难不成|有没有搞错|搞什么|什么破|破(?:系统|软件|公司|银行|app)|骗子|骗人|有什么用|算什么|"
    r"怎么解释|有病|故意|当猴耍|讲不讲理|什么态度|糊弄|太差|乱收|乱扣|有意思吗|这么做生意"
)
_PUNCT = re.compile(r"[\s,.!?;:~\"'“”‘’()（）【】\[\]《》<>、·…—\-+*/=_|]+")
# What kind of answer is asked for: a time, an amount, a reason, a place. Said in many
# ways (多久 / 多长时间 / 几天 / 什么时候), one token each, so 转入多久到账 and 转账限额多少
# stay apart even when the topic words are the same.
_INTENTS = (
    ("?when", re.compile(r"多久|多长时间|几天|几个工作日|什么时候|啥时候|何时|哪天|几号|多快|几点")),
    ("?amount", re.compile(r"多少|最多|上限|几个|多大|比例|万分之")),
    ("?why", re.compile(r"为什么|为啥|怎么回事|什么原因|原因|怎么会")),
    ("?where", re.compile(r"哪里|哪儿|在哪|什么地方|何处")),
)
# Spoken variants of one thing, folded to one form before cutting (wordings and questions alike):
# a customer says 证券公司 / 礼拜天 / 股票户 where a wording says 券商 / 周末 / 证券账户.
_SYNONYMS = {
    "证券公司": "券商",
    "证券商": "券商",
    "股票账户": "证券账户",
    "股票账号": "证券账户",
    "证券账号": "证券账户",
    "炒股账户": "证券账户",
    "炒股的账户": "证券账户",
    "股票户": "证券账户",
    "证券户": "证券账户",
    "星期六": "周末",
    "星期天": "周末",
    "星期日": "周末",
    "礼拜六": "周末",
    "礼拜天": "周末",
    "礼拜日": "周末",
    "周六": "周末",
    "周日": "周末",
    "手机号码": "手机号",
    "电话号码": "手机号",
    "登陆": "登录",
    "交易软件": "app",
    "客户端": "app",
    "软件": "app",
    "想开": "想 开",  # jieba's 想开 (to get over something) swallows 想开个户's 开
}
_SYNONYM_RX = re.compile("|".join(sorted(map(re.escape, _SYNONYMS), key=len, reverse=True)))


def fold(text: str) -> str:
    """Normalised text with spoken variants folded (``_SYNONYMS``)."""
    t = norm(text)
    return _SYNONYM_RX.sub(lambda m: _SYNONYMS[m.group(0)], t)


# Function words and call fillers: they say nothing about which answer is meant.
STOPWORDS = frozenset(
    """
的 了 吗 呢 啊 吧 呀 哦 噢 嗯 哈 啦 嘛 么 着 过 得 地 也 都 就 还 又 再 才 和 跟 与 及 或 而 但 可是 但是 那 这 那个
这个 这样 那样 这边 那边 我 你 您 他 她 它 我们 你们 他们 咱们 自己 人家 是 有 在 给 让 被 把 对 从 到 向 为 一 个
一下 一点 一些 有点 请问 问 问问 问一下 想问 想 要 想要 需要 能 会 可以 能够 应该 好 好的 行 对 哦 喂 你好 您好 谢谢
麻烦 帮 帮我 帮忙 下 上 里 中 时候 现在 刚才 刚刚 已经 一直 还是 到底 究竟 就是 其实 然后 所以 因为 如果 这么 那么
怎么 怎么样 怎样 如何 什么 啥 为什么 为啥 吗 呢 么 多少 多久 几 哪 哪里 哪儿 是不是 有没有 能不能 可不可以 要不要
会不会 咨询 了解 一下子 老师 姑娘 小姑娘 小伙子 先生 女士 呃 额 唉 哎 诶 嘿 咋 啥子 那种 这种 大概 一般
具体 反正 听说
""".split()
)


@dataclass(frozen=True)
class Entry:
    """One knowledge entry (loaded and validated by ``knowledge_base``)."""

    id: str
    questions: tuple[str, ...]
    answer: str
    asked: tuple[str, ...] = ()  # what customers asked that this entry answered: matched, never shown
    keywords: tuple[str, ...] = ()
    owner: str = ""
    reviewed: date | None = None
    source: str = ""  # file:line, for messages


QUESTION, PROBLEM = "question", "problem"


def asks(text: str, cues: Iterable[str] = (), emotion: str = "neutral", emotion_score: float = 0.0) -> str | None:
    """What a customer final asks for: ``QUESTION``, ``PROBLEM`` (a trouble stated without asking), or None.

    A question or request (``_QUESTION`` or the analyzer's request cue) is
    looked up; so is a problem stated on the service line (挂单挂不上去 /
    验证码一直收不到), on a stronger match, unless it is said in anger (a
    complaint wants the emotion acknowledged first). An angry rhetorical
    turn is not looked up (凭什么… / 难道…? / 什么破系统: it wants the emotion
    acknowledged, not an FAQ), unless the customer is asking how or where to
    complain (``complaint_threat``, 在哪提): then the complaints answer is
    exactly what the agent needs. Anger alone does not close the gate (the
    emotion model hears anger in 负债要怎么还 too).
    """
    cues = tuple(cues)
    t = norm(text)
    angry = emotion == "anger" and emotion_score >= ANGER_SKIP
    if angry and C.COMPLAINT_THREAT not in cues and _RHETORIC.search(t) and not _ASKS_WHERE.search(t):
        return None
    if C.REQUEST in cues or _QUESTION.search(t):
        return QUESTION
    if not angry and _PROBLEM.search(t):
        return PROBLEM
    return None


def is_question(text: str, cues: Iterable[str] = (), emotion: str = "neutral", emotion_score: float = 0.0) -> bool:
    """A question or request, or a problem stated, that an answer may serve (``asks``)."""
    return asks(text, cues, emotion, emotion_score) is not None


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def bigrams(words: Sequence[str]) -> list[str]:
    """Character bigrams of the runs of consecutive content words (Chinese characters only).

    A paraphrase that jieba cuts differently (银行卡 / 银行 卡, 炒股账户 / 炒股 账户,
    开个户 / 开户) still shares most of its bigrams with the wording: 银行 行卡.
    Runs break at dropped words, so no bigram spans a filler.
    """
    out: list[str] = []
    for run in words:
        chars = [ch for ch in run if _is_cjk(ch)]
        out += [chars[i] + chars[i + 1] for i in range(len(chars) - 1)]
    return out


class _Index:
    """BM25 weights of one corpus (``bm25s``) as a dense term x document matrix, and each term's IDF."""

    def __init__(self, corpus: list[list[str]]):
        bm25 = bm25s.BM25(k1=BM25_K1, b=BM25_B)
        bm25.index(corpus, show_progress=False)
        # bm25s computes each term's BM25 weight in every document; keep them as one dense
        # term x document matrix so a query is a row sum (a few µs for a few hundred wordings).
        self.vocab = {t: i for i, t in enumerate(t for t in bm25.vocab_dict if t)}
        self.weights = np.vstack([bm25.get_scores([t]) for t in self.vocab]).astype(np.float32)
        n_docs = len(corpus)
        df: dict[str, int] = {}
        for doc in corpus:
            for t in set(doc):
                df[t] = df.get(t, 0) + 1
        self.idf = {t: math.log(1 + (n_docs - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self.idf_unknown = math.log(1 + (n_docs + 0.5) / 0.5)
        self.doc_sets = [set(doc) for doc in corpus]

    def scores(self, terms: Sequence[str], weights: Sequence[float] | None = None) -> np.ndarray | None:
        """Each document's score for ``terms`` (each weighted, 1 by default); None when no term is known."""
        rows = [i for i, t in enumerate(terms) if t in self.vocab]
        if not rows:
            return None
        w = np.array([1.0 if weights is None else weights[i] for i in rows], dtype=np.float32)
        return w @ self.weights[[self.vocab[terms[i]] for i in rows]]

    def coverage(self, terms: Sequence[str], doc: int) -> float:
        total = sum(self.idf.get(t, self.idf_unknown) for t in terms)
        covered = sum(self.idf[t] for t in terms if t in self.doc_sets[doc])
        return covered / total if total else 0.0


class Retriever:
    """A BM25 index over the wordings of a set of entries (built once per load; ``match`` is read-only)."""

    def __init__(self, entries: Sequence[Entry] = (), min_score: float = MIN_SCORE, min_coverage: float = MIN_COVERAGE):
        # BM25 scores grow with the size of the base: the defaults are set for the starter base.
        self.min_score, self.min_coverage = min_score, min_coverage
        self.entries: dict[str, Entry] = {e.id: e for e in entries}
        # Keyword scan: first character -> keywords starting with it (longest first).
        self._terms: dict[str, list[str]] = {}
        for term in sorted({fold(k) for e in entries for k in e.keywords if len(k) >= 2}, key=len, reverse=True):
            self._terms.setdefault(term[0], []).append(term)
        self._docs: list[tuple[str, str]] = []  # (entry id, wording) per BM25 document
        corpus: list[list[str]] = []
        gram_corpus: list[list[str]] = []
        for e in entries:
            keys = [fold(k) for k in e.keywords]
            for q in e.questions + e.asked:  # each entry's shown wordings first, then what was asked
                self._docs.append((e.id, q))
                words, _ = self.tokens(q)
                corpus.append(words + keys)
                gram_corpus.append(self.grams(q) + bigrams(keys))
        self._doc_entry = [entry_id for entry_id, _ in self._docs]
        # an entry's wordings are consecutive documents: where each entry's run starts
        ids = list(self.entries)
        self._starts = np.array([self._doc_entry.index(entry_id) for entry_id in ids], dtype=np.int64)
        self._shown = [len(e.questions) for e in self.entries.values()]
        self._ids, self._ends = ids, [*self._starts[1:].tolist(), len(self._docs)]
        self._model: EntryModel | None = None
        if len(ids) >= 2:
            texts = [q for _, q in self._docs] + [e.answer for e in entries]
            labels = self._doc_entry + [e.id for e in entries]
            self._model = EntryModel(texts, labels, lambda t: self.tokens(t)[0], cache=default_cache())
            pos = {c: i for i, c in enumerate(self._model.classes)}
            self._model_order = np.array([pos[entry_id] for entry_id in ids], dtype=np.int64)
        self._words: _Index | None = _Index(corpus) if corpus else None
        self._grams: _Index | None = _Index(gram_corpus) if corpus else None

    def __len__(self) -> int:
        return len(self.entries)

    def wordings(self) -> list[tuple[str, str]]:
        """(entry id, wording) of every indexed document, in index order (``rank(skip_doc=i)`` leaves the i-th out)."""
        return list(self._docs)

    def tokens(self, text: str) -> tuple[list[str], set[str]]:
        """Content words of ``text`` and the knowledge base's keywords found in it (also returned apart)."""
        t = fold(text)
        words = [w for w in cut(t) if w not in STOPWORDS and not _PUNCT.fullmatch(w)]
        found: set[str] = set()
        i = 0
        while i < len(t):  # leftmost-longest, no overlaps: 融资融券 is one term, not also 融券
            term = next((k for k in self._terms.get(t[i], ()) if t.startswith(k, i)), None)
            if term is None:
                i += 1
            else:
                found.add(term)
                i += len(term)
        seen = set(words)
        words += sorted(k for k in found if k not in seen)  # in one order in every process (the model's cache key)
        words += [name for name, rx in _INTENTS if rx.search(t)]
        return words, found

    def grams(self, text: str) -> list[str]:
        """Character bigrams of the runs of content words of ``text`` (fillers and function words break runs)."""
        runs: list[str] = []
        current = ""
        for w in cut(fold(text)):
            if w in STOPWORDS or _PUNCT.fullmatch(w):
                if current:
                    runs.append(current)
                current = ""
            else:
                current += w
        if current:
            runs.append(current)
        return bigrams(runs)

    def rank(self, text: str, k: int = 3, skip_doc: int | None = None) -> list[tuple[str, float, str, float, float]]:
        """The best ``k`` entries: (entry id, score, best wording, share of the query it explains, P(entry)).

        ``skip_doc`` leaves one wording out (the evaluation asks each wording with itself removed).
        """
        if self._words is None or self._grams is None:
            return []
        words, keys = self.tokens(text)
        query = list(dict.fromkeys(words))
        scores = self._words.scores(query, [KEYWORD_BOOST if w in keys else 1.0 for w in query])
        extra = self._grams.scores(list(dict.fromkeys(self.grams(text))))
        if extra is not None:
            scores = BIGRAM_WEIGHT * extra if scores is None else scores + BIGRAM_WEIGHT * extra
        if scores is None:
            return []
        if skip_doc is not None:
            scores[skip_doc] = 0.0
        # each entry's best wording; the order mixes that (relative to the best) with the model's P(entry)
        best = np.maximum.reduceat(scores, self._starts)
        order = best / best.max() if best.max() > 0 else best
        prob = np.zeros(len(best), dtype=np.float32)
        if self._model is not None and skip_doc is None:  # (the left-out wording trained the model)
            prob = self._model.probabilities(words)[self._model_order]
            order = order + MODEL_WEIGHT * prob
        ids, ends = self._ids, self._ends
        out = []
        for e in np.argsort(-order, kind="stable")[:k]:
            if best[e] <= 0:
                continue  # no word in common with any wording: the model alone never shows a card
            start = int(self._starts[e])
            doc = start + int(np.argmax(scores[start : ends[e]]))
            # the card's title is the entry's closest wording, never a customer's asked words
            title = start + int(np.argmax(scores[start : start + self._shown[e]]))
            out.append((ids[e], float(best[e]), self._docs[title][1], self._words.coverage(query, doc), float(prob[e])))
        return out

    def match(
        self, text: str, cues: Iterable[str] = (), emotion: str = "neutral", emotion_score: float = 0.0
    ) -> KnowledgeMatch | None:
        """The answer to show for one customer final, or None (not a question, or no confident match)."""
        kind = asks(text, cues, emotion, emotion_score) if self.entries else None
        if kind is None:
            return None
        ranked = self.rank(text, k=1)
        if not ranked:
            return None
        entry_id, score, wording, coverage, prob = ranked[0]
        if coverage < self.min_coverage:
            return None
        # a weaker best wording is enough when the model is sure of the entry or the wording explains most words
        sure = prob >= MODEL_SURE or coverage >= SURE_COVERAGE
        if score < self.min_score and not (sure and score >= SURE_MIN_SCORE):
            return None
        if kind == PROBLEM and (score < PROBLEM_MIN_SCORE or coverage < PROBLEM_MIN_COVERAGE):
            return None
        entry = self.entries[entry_id]
        return KnowledgeMatch(id=entry.id, question=wording, answer=entry.answer, score=round(score, 3))
