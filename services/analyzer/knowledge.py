"""Knowledge retrieval: the best answer for a customer's question, or nothing.

``Retriever(entries).match(text, cues, emotion, emotion_score)`` runs on every
customer final in the analyzer, on the redacted text (a card never depends
on, or repeats, a card number or a password):

1. **Gate.** Only a question or request (``is_question``: 怎么/多久/吗/? …
   or the analyzer's ``request`` cue) is looked up; a thanks, a feeling or a
   digit string never is, nor an angry rhetorical question (凭什么…? is not
   asking for an FAQ) unless it asks how to complain.
2. **Tokens.** The text is normalised (full-width, traditional → simplified)
   and cut by the analyzer's jieba tokenizer (``segment.cut``); function
   words are dropped; the knowledge base's own keywords found in the text
   are added as whole terms (jieba cuts 科创板 into 科/创/板; the keyword
   scan keeps it one term and also carries synonyms: 两融, 打新, 换绑).
3. **BM25** (``bm25s``) over one document per question wording, each
   carrying its entry's keywords; an entry scores its best wording.
   Keywords found in the text weigh double (``KEYWORD_BOOST``), and the kind
   of answer asked for (a time, an amount, a reason, a place: ``_INTENTS``)
   is one more term, so 转入多久到账 and 转账限额是多少 stay apart.
4. **Confidence.** The best entry is shown only if its BM25 score and the
   share of the customer's (IDF-weighted) words its wording explains both
   pass the thresholds below, chosen on the validation data (the labelled
   brokerage questions of the scenario library and the analysis eval set,
   and the dev split of the off-topic utterances), never on the held-out
   paraphrases: a weak match shows nothing — no card is better than a
   wrong card (docs/knowledge.md has the trade-off table).
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

from .normalize import norm
from .segment import cut

# Thresholds (see the module docstring; docs/knowledge.md explains them).
MIN_SCORE = 5.0  # BM25 score of the best wording (for a base the size of the starter one)
MIN_COVERAGE = 0.10  # IDF share of the customer's words found in that wording
ANGER_SKIP = 0.6  # an angry turn at or above this emotion score is not looked up
BM25_K1, BM25_B = 1.2, 0.75
KEYWORD_BOOST = 2.0  # weight of a query term that is one of the base's keywords

_QUESTION = re.compile(
    r"[?？]|吗|么(?:$|[,.!])|呢(?:$|[,.!])|怎么|怎样|如何|多久|多长|多少|几(?:点|天|个|次|号|时|年)|什么|啥|哪|"
    r"能不能|能否|可不可以|可以吗|是不是|有没有|要不要|会不会|需不需要|用不用|请问|问一下|问问|想问|咨询|了解一下|为什么|为啥"
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
# Function words and call fillers: they say nothing about which answer is meant.
STOPWORDS = frozenset(
    """
的 了 吗 呢 啊 吧 呀 哦 噢 嗯 哈 啦 嘛 么 着 过 得 地 也 都 就 还 又 再 才 和 跟 与 及 或 而 但 可是 但是 那 这 那个
这个 这样 那样 这边 那边 我 你 您 他 她 它 我们 你们 他们 咱们 自己 人家 是 有 在 给 让 被 把 对 从 到 向 为 一 个
一下 一点 一些 有点 请问 问 问问 问一下 想问 想 要 想要 需要 能 会 可以 能够 应该 好 好的 行 对 哦 喂 你好 您好 谢谢
麻烦 帮 帮我 帮忙 下 上 里 中 时候 现在 刚才 刚刚 已经 一直 还是 到底 究竟 就是 其实 然后 所以 因为 如果 这么 那么
怎么 怎么样 怎样 如何 什么 啥 为什么 为啥 吗 呢 么 多少 多久 几 哪 哪里 哪儿 是不是 有没有 能不能 可不可以 要不要
会不会 咨询 了解 一下子 老师 姑娘 小姑娘 小伙子 先生 女士
""".split()
)


@dataclass(frozen=True)
class Entry:
    """One knowledge entry (loaded and validated by ``knowledge_base``)."""

    id: str
    questions: tuple[str, ...]
    answer: str
    keywords: tuple[str, ...] = ()
    owner: str = ""
    reviewed: date | None = None
    source: str = ""  # file:line, for messages


def is_question(text: str, cues: Iterable[str] = (), emotion: str = "neutral", emotion_score: float = 0.0) -> bool:
    """A question or a request that an answer can serve.

    An angry turn is not looked up (凭什么… / 你们到底…? / 难道…: a rhetorical
    question wants the emotion acknowledged, not an FAQ), unless the customer
    is asking how to complain (``complaint_threat``): then the complaints
    answer is exactly what the agent needs.
    """
    cues = tuple(cues)
    if emotion == "anger" and emotion_score >= ANGER_SKIP and C.COMPLAINT_THREAT not in cues:
        return False
    return C.REQUEST in cues or bool(_QUESTION.search(norm(text)))


class Retriever:
    """A BM25 index over the wordings of a set of entries (built once per load; ``match`` is read-only)."""

    def __init__(self, entries: Sequence[Entry] = (), min_score: float = MIN_SCORE, min_coverage: float = MIN_COVERAGE):
        # BM25 scores grow with the size of the base: the defaults are set for the starter base.
        self.min_score, self.min_coverage = min_score, min_coverage
        self.entries: dict[str, Entry] = {e.id: e for e in entries}
        # Keyword scan: first character -> keywords starting with it (longest first).
        self._terms: dict[str, list[str]] = {}
        for term in sorted({norm(k) for e in entries for k in e.keywords if len(k) >= 2}, key=len, reverse=True):
            self._terms.setdefault(term[0], []).append(term)
        self._docs: list[tuple[str, str]] = []  # (entry id, wording) per BM25 document
        corpus: list[list[str]] = []
        for e in entries:
            keys = [norm(k) for k in e.keywords]
            for q in e.questions:
                self._docs.append((e.id, q))
                corpus.append(self.tokens(q)[0] + keys)
        self._doc_entry = [entry_id for entry_id, _ in self._docs]
        self._vocab: dict[str, int] = {}
        if not corpus:
            return
        bm25 = bm25s.BM25(k1=BM25_K1, b=BM25_B)
        bm25.index(corpus, show_progress=False)
        # bm25s computes each term's BM25 weight in every document; keep them as one dense
        # term x document matrix so a query is a row sum (a few µs for a few hundred wordings).
        vocab = {t: i for i, t in enumerate(t for t in bm25.vocab_dict if t)}
        self._weights = np.vstack([bm25.get_scores([t]) for t in vocab]).astype(np.float32)
        self._vocab = vocab
        n_docs = len(corpus)
        df: dict[str, int] = {}
        for doc in corpus:
            for t in set(doc):
                df[t] = df.get(t, 0) + 1
        self._idf = {t: math.log(1 + (n_docs - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self._idf_unknown = math.log(1 + (n_docs + 0.5) / 0.5)
        self._doc_sets = [set(doc) for doc in corpus]

    def __len__(self) -> int:
        return len(self.entries)

    def tokens(self, text: str) -> tuple[list[str], set[str]]:
        """Content words of ``text`` and the knowledge base's keywords found in it (also returned apart)."""
        t = norm(text)
        words = [w for w in cut(t) if w not in STOPWORDS and not _PUNCT.fullmatch(w)]
        found: set[str] = set()
        for i, ch in enumerate(t):
            for term in self._terms.get(ch, ()):
                if t.startswith(term, i):
                    found.add(term)
        seen = set(words)
        words += [k for k in found if k not in seen]
        words += [name for name, rx in _INTENTS if rx.search(t)]
        return words, found

    def rank(self, text: str, k: int = 3, skip_doc: int | None = None) -> list[tuple[str, float, str, float]]:
        """The best ``k`` entries: (entry id, score, best wording, share of the query it explains).

        ``skip_doc`` leaves one wording out (the evaluation asks each wording with itself removed).
        """
        if not self._vocab:
            return []
        words, keys = self.tokens(text)
        query = list(dict.fromkeys(words))
        rows = [self._vocab[w] for w in query if w in self._vocab]
        if not rows:
            return []
        boost = np.array([KEYWORD_BOOST if w in keys else 1.0 for w in query if w in self._vocab], dtype=np.float32)
        scores = boost @ self._weights[rows]
        if skip_doc is not None:
            scores[skip_doc] = 0.0
        best: dict[str, int] = {}
        for doc in np.argsort(-scores, kind="stable"):
            if scores[doc] <= 0:
                break
            ent = self._doc_entry[doc]
            if ent not in best:
                best[ent] = int(doc)
                if len(best) >= k:
                    break
        total = sum(self._idf.get(w, self._idf_unknown) for w in query)
        out = []
        for ent, doc in best.items():
            covered = sum(self._idf[w] for w in query if w in self._doc_sets[doc])
            out.append((ent, float(scores[doc]), self._docs[doc][1], covered / total if total else 0.0))
        return out

    def match(
        self, text: str, cues: Iterable[str] = (), emotion: str = "neutral", emotion_score: float = 0.0
    ) -> KnowledgeMatch | None:
        """The answer to show for one customer final, or None (not a question, or no confident match)."""
        if not self.entries or not is_question(text, cues, emotion, emotion_score):
            return None
        ranked = self.rank(text, k=1)
        if not ranked:
            return None
        entry_id, score, wording, coverage = ranked[0]
        if score < self.min_score or coverage < self.min_coverage:
            return None
        entry = self.entries[entry_id]
        return KnowledgeMatch(id=entry.id, question=wording, answer=entry.answer, score=round(score, 3))
