"""Which entry a question is about: a linear classifier over the base's wordings.

BM25 (``knowledge.Retriever``) finds the wording closest to the customer's
words; a paraphrase that shares few words with any one wording can still
share many with the entry's wordings taken together. This model learns, per
entry, which character n-grams and words speak for it and which speak for
its neighbours (到账 for the arrival entries, 中签 for the IPO result, 过世 /
走了 for inheritance), from every wording and the answer itself.

- Features: TF-IDF of the character 1–3-grams of the content words (each
  word padded, scikit-learn's ``char_wb``) and TF-IDF of the content words
  and keywords themselves (``Retriever.tokens``), each L2-normalised,
  sublinear term frequency.
- Model: multinomial logistic regression (scikit-learn, BSD-3-Clause),
  ``C`` = ``MODEL_C``, trained when the base is loaded (≈ 0.6 s for the
  starter base's 75 entries and ~1,000 wordings and answers).
- Scoring does not call scikit-learn: its per-call checks cost ~2 ms, more
  than the whole match budget. The fitted vocabularies, IDF weights and
  coefficients are copied into dicts and one feature × entry matrix, and a
  query is a sparse row times that matrix (``probabilities``), equal to
  ``predict_proba`` to float32 precision (tests/test_knowledge.py checks it).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

MODEL_C = 10.0  # inverse regularisation strength, chosen on the tuning sets (docs/knowledge.md)
NGRAMS = (1, 3)


def char_ngrams(words: Sequence[str]) -> list[str]:
    """Character n-grams of each word padded with a space on each side (scikit-learn's ``char_wb``)."""
    out: list[str] = []
    lo, hi = NGRAMS
    for word in words:
        w = f" {word} "
        for n in range(lo, hi + 1):
            if len(w) < n:
                break
            out += [w[i : i + n] for i in range(len(w) - n + 1)]
    return out


def _identity(tokens: list[str]) -> list[str]:
    return tokens


class _Features:
    """One fitted TF-IDF vectorizer's vocabulary and IDF, for scoring without scikit-learn."""

    def __init__(self, vectorizer: TfidfVectorizer, offset: int):
        self.index = {term: offset + int(i) for term, i in vectorizer.vocabulary_.items()}
        self.idf = {term: float(vectorizer.idf_[i - offset]) for term, i in self.index.items()}

    def row(self, terms: Sequence[str]) -> tuple[list[int], list[float]]:
        counts = Counter(t for t in terms if t in self.index)
        cols = [self.index[t] for t in counts]
        vals = [(1.0 + math.log(c)) * self.idf[t] for t, c in counts.items()]
        norm = math.sqrt(sum(v * v for v in vals))
        return cols, [v / norm for v in vals] if norm else vals


class EntryModel:
    """P(entry | question) for the entries of one base; built from (text, entry id) pairs."""

    def __init__(self, texts: Sequence[str], labels: Sequence[str], tokens: Callable[[str], list[str]]):
        self.tokens = tokens
        words = [tokens(t) for t in texts]
        chars_v = TfidfVectorizer(analyzer=_identity, sublinear_tf=True)
        words_v = TfidfVectorizer(analyzer=_identity, sublinear_tf=True)
        from scipy.sparse import hstack  # scikit-learn's own dependency

        x = hstack([chars_v.fit_transform([char_ngrams(w) for w in words]), words_v.fit_transform(words)]).tocsr()
        clf = LogisticRegression(C=MODEL_C, solver="newton-cg", max_iter=300)
        clf.fit(x, list(labels))
        self.classes: list[str] = [str(c) for c in clf.classes_]
        self._chars = _Features(chars_v, 0)
        self._words = _Features(words_v, len(chars_v.vocabulary_))
        coef, intercept = clf.coef_, clf.intercept_
        if len(self.classes) == 2:  # a binary model keeps one row: P(second) = sigmoid, i.e. softmax of (0, z)
            coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.concatenate([[0.0], intercept])
        # feature-major, so a query gathers the rows of its few features
        self._coef = np.ascontiguousarray(coef.T, dtype=np.float32)
        self._intercept = np.asarray(intercept, dtype=np.float32)
        self._sklearn = (chars_v, words_v, clf)  # kept for the equality test only

    def probabilities(self, words: Sequence[str]) -> np.ndarray:
        """P(entry) over ``classes`` for a question already cut into content words (``Retriever.tokens``)."""
        c_cols, c_vals = self._chars.row(char_ngrams(words))
        w_cols, w_vals = self._words.row(words)
        cols = c_cols + w_cols
        z = self._intercept.copy()
        if cols:
            z += np.asarray(c_vals + w_vals, dtype=np.float32) @ self._coef[cols]
        e: np.ndarray = np.exp(z - z.max())
        out: np.ndarray = e / e.sum()
        return out

    def sklearn_probabilities(self, text: str) -> np.ndarray:
        """The same probabilities through scikit-learn (slow; for tests)."""
        from scipy.sparse import hstack

        chars_v, words_v, clf = self._sklearn
        w = self.tokens(text)
        x = hstack([chars_v.transform([char_ngrams(w)]), words_v.transform([w])]).tocsr()
        return np.asarray(clf.predict_proba(x)[0])
