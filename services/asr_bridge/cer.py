"""Character error rate for Chinese transcripts (tests and the benchmark)."""

from __future__ import annotations

import unicodedata


def normalize(text: str) -> str:
    """Drop punctuation, symbols and spaces; fold full-width forms (NFKC)."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def cer(refs: list[str], hyps: list[str]) -> float:
    """Total edits over total reference characters, pairwise (refs[i] vs hyps[i])."""
    edits = sum(
        edit_distance(normalize(r), normalize(h)) for r, h in zip(refs, hyps, strict=False)
    )  # refs may be longer
    edits += sum(len(normalize(r)) for r in refs[len(hyps) :])  # missing hypotheses
    total = sum(len(normalize(r)) for r in refs)
    return edits / total if total else 0.0
