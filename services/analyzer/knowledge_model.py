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
- Training is cached: the fitted numbers are written to
  ``$XDG_CACHE_HOME/heartline/knowledge-<hash>.npz`` (``HEARTLINE_MODEL_CACHE``
  overrides the folder; empty turns the cache off), keyed by a hash of the
  training texts as cut, their entries and the model settings, so an
  analyzer that starts on a base already trained loads it in milliseconds
  and never imports scikit-learn (which alone takes ~3 s to import on a
  small box). A cache that cannot be read or written is ignored.
- Scoring does not call scikit-learn: its per-call checks cost ~2 ms, more
  than the whole match budget. The fitted vocabularies, IDF weights and
  coefficients are copied into dicts and one feature × entry matrix, and a
  query is a sparse row times that matrix (``probabilities``), equal to
  ``predict_proba`` to float32 precision (tests/test_knowledge.py checks it).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

MODEL_C = 10.0  # inverse regularisation strength, chosen on the tuning sets (docs/knowledge.md)
NGRAMS = (1, 3)
FORMAT = 1  # of the cached numbers: part of the cache key
KEEP = 20  # cached models kept (the newest)


def default_cache() -> Path | None:
    """Where fitted models are kept (``HEARTLINE_MODEL_CACHE``, else ``$XDG_CACHE_HOME/heartline``)."""
    configured = os.environ.get("HEARTLINE_MODEL_CACHE")
    if configured is not None:
        return Path(configured) if configured else None
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "heartline"


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

    def __init__(self, terms: Sequence[str], idf: np.ndarray, offset: int):
        self.index = {term: offset + i for i, term in enumerate(terms)}
        self.idf = {term: float(idf[i]) for i, term in enumerate(terms)}

    def row(self, terms: Sequence[str]) -> tuple[list[int], list[float]]:
        counts = Counter(t for t in terms if t in self.index)
        cols = [self.index[t] for t in counts]
        vals = [(1.0 + math.log(c)) * self.idf[t] for t, c in counts.items()]
        norm = math.sqrt(sum(v * v for v in vals))
        return cols, [v / norm for v in vals] if norm else vals


def _fit(words: list[list[str]], labels: Sequence[str]) -> tuple[dict[str, np.ndarray], Any]:
    """Train with scikit-learn; the numbers scoring needs, and the fitted objects (for the equality test)."""
    from scipy.sparse import hstack  # scikit-learn's own dependency
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    chars_v = TfidfVectorizer(analyzer=_identity, sublinear_tf=True)
    words_v = TfidfVectorizer(analyzer=_identity, sublinear_tf=True)
    x = hstack([chars_v.fit_transform([char_ngrams(w) for w in words]), words_v.fit_transform(words)]).tocsr()
    clf = LogisticRegression(C=MODEL_C, solver="newton-cg", max_iter=300)
    clf.fit(x, list(labels))
    coef, intercept = clf.coef_, clf.intercept_
    if len(clf.classes_) == 2:  # a binary model keeps one row: P(second) = sigmoid, i.e. softmax of (0, z)
        coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.concatenate([[0.0], intercept])
    char_terms = sorted(chars_v.vocabulary_, key=chars_v.vocabulary_.__getitem__)
    word_terms = sorted(words_v.vocabulary_, key=words_v.vocabulary_.__getitem__)
    arrays = {
        "classes": np.array([str(c) for c in clf.classes_]),
        "char_terms": np.array(char_terms),
        "char_idf": chars_v.idf_.astype(np.float64),
        "word_terms": np.array(word_terms),
        "word_idf": words_v.idf_.astype(np.float64),
        # feature-major, so a query gathers the rows of its few features
        "coef": np.ascontiguousarray(coef.T, dtype=np.float32),
        "intercept": np.asarray(intercept, dtype=np.float32),
    }
    return arrays, (chars_v, words_v, clf)


class EntryModel:
    """P(entry | question) for the entries of one base; built from (text, entry id) pairs."""

    def __init__(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        tokens: Callable[[str], list[str]],
        cache: Path | None = None,
    ):
        self.tokens = tokens
        words = [tokens(t) for t in texts]
        key = hashlib.sha256(
            json.dumps([FORMAT, MODEL_C, NGRAMS, words, list(labels)], ensure_ascii=False).encode()
        ).hexdigest()[:32]
        path = cache / f"knowledge-{key}.npz" if cache is not None else None
        arrays = self._read(path)
        self._sklearn: Any = None
        if arrays is None:
            arrays, self._sklearn = _fit(words, labels)
            self._write(path, arrays)
        self.classes: list[str] = [str(c) for c in arrays["classes"]]
        self._chars = _Features([str(t) for t in arrays["char_terms"]], arrays["char_idf"], 0)
        self._words = _Features([str(t) for t in arrays["word_terms"]], arrays["word_idf"], len(arrays["char_terms"]))
        self._coef = arrays["coef"]
        self._intercept = arrays["intercept"]

    @staticmethod
    def _read(path: Path | None) -> dict[str, np.ndarray] | None:
        if path is None or not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                return {name: data[name] for name in data.files}
        except (OSError, ValueError, KeyError) as exc:
            log.warning("knowledge model cache unreadable, training again: %s", exc)
            return None

    @staticmethod
    def _write(path: Path | None, arrays: dict[str, np.ndarray]) -> None:
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.tmp.npz")
            np.savez(partial, **arrays)  # type: ignore[arg-type]
            partial.replace(path)  # whole or absent, whichever analyzer writes first
            for old in sorted(path.parent.glob("knowledge-*.npz"), key=lambda p: p.stat().st_mtime)[:-KEEP]:
                old.unlink(missing_ok=True)  # bases edited long ago
        except OSError as exc:
            log.info("knowledge model not cached (%s): it is trained again at the next start", exc)

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
        """The same probabilities through scikit-learn (slow; for tests of a model trained here, not cached)."""
        from scipy.sparse import hstack

        if self._sklearn is None:
            raise RuntimeError("this model was read from the cache: no scikit-learn objects to compare with")
        chars_v, words_v, clf = self._sklearn
        w = self.tokens(text)
        x = hstack([chars_v.transform([char_ngrams(w)]), words_v.transform([w])]).tocsr()
        return np.asarray(clf.predict_proba(x)[0])
