"""Evaluate Heartline's utterance analysis on the labeled call-center set.

    python -m services.analyzer.eval [--data tests/data/eval_utterances.jsonl] [--out bench/results/eval-latest.json]

Prints, for the dev split (items whose index % 5 != 4: used while tuning
weights), the held-out test split (every 5th item: not looked at while
tuning; ``test-orig`` = its part among the original 429 items) and all items: per-class precision / recall / F1 for emotion, the
confusion matrix, macro-F1, sentiment polarity accuracy and cue micro-F1 —
with snownlp alone as a baseline row (``SnowNLP(text).sentiments`` for
polarity; its polarity mapped to an emotion: neg → anger, pos → satisfaction,
else neutral, the best a polarity-only model can do on this set's classes).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections import Counter
from pathlib import Path

from snownlp import SnowNLP

from .analysis import analyze_text
from .lexicon import EMOTIONS

CLASSES = EMOTIONS + ("neutral",)
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
        tp = sum(1 for g, p in zip(gold, pred) if g == c and p == c)
        fp = sum(1 for g, p in zip(gold, pred) if g != c and p == c)
        fn = sum(1 for g, p in zip(gold, pred) if g == c and p != c)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        rows[c] = {"precision": round(prec, 3), "recall": round(rec, 3), "f1": round(f1, 3), "support": tp + fn}
    return rows


def confusion(gold: list[str], pred: list[str]) -> dict:
    return {g: {p: sum(1 for a, b in zip(gold, pred) if a == g and b == p) for p in CLASSES} for g in CLASSES}


def cue_scores(items: list[dict], preds: list[list[str]]) -> dict:
    tp = fp = fn = 0
    for item, pred in zip(items, preds):
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
        "emotion_accuracy": round(sum(g == p for g, p in zip(gold_e, emo)) / len(items), 3),
        "polarity_accuracy": round(sum(g == p for g, p in zip(gold_p, pol)) / len(items), 3),
        "per_class": classes,
        "confusion": confusion(gold_e, emo),
    }
    if cues is not None:
        out["cues_micro"] = cue_scores(items, cues)
    return out


def _table(name: str, heartline: dict, snow: dict) -> str:
    lines = [f"== {name} (n={heartline['n']}) ==",
             f"{'class':<14}{'P':>7}{'R':>7}{'F1':>7}{'n':>5}   |  snownlp-only  {'P':>6}{'R':>7}{'F1':>7}"]
    for c in CLASSES:
        h, s = heartline["per_class"][c], snow["per_class"][c]
        lines.append(f"{c:<14}{h['precision']:>7.3f}{h['recall']:>7.3f}{h['f1']:>7.3f}{h['support']:>5}   |"
                     f"{'':15}{s['precision']:>6.3f}{s['recall']:>7.3f}{s['f1']:>7.3f}")
    lines.append(f"{'system':<22}{'emotion macro-F1':>18}{'emotion acc':>13}{'polarity acc':>14}{'cue micro-F1':>14}")
    for label, r in (("heartline", heartline), ("snownlp alone", snow)):
        cue = f"{r['cues_micro']['f1']:.3f}" if "cues_micro" in r else "—"
        lines.append(f"{label:<22}{r['emotion_macro_f1']:>18.3f}{r['emotion_accuracy']:>13.3f}"
                     f"{r['polarity_accuracy']:>14.3f}{cue:>14}")
    lines.append("confusion (rows gold, columns predicted): " + " ".join(c[:5] for c in CLASSES))
    for g in CLASSES:
        lines.append(f"  {g:<13}" + "".join(f"{heartline['confusion'][g][p]:>6}" for p in CLASSES))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT / "tests/data/eval_utterances.jsonl"))
    parser.add_argument("--out", default=str(ROOT / "bench/results/eval-latest.json"))
    parser.add_argument("--errors", action="store_true", help="list dev-split mistakes (never the test split)")
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

    splits = {"dev": [k for k in range(len(items)) if k % 5 != 4],
              "test": [k for k in range(len(items)) if k % 5 == 4],
              "test-orig": [k for k in range(min(len(items), ORIGINAL_N)) if k % 5 == 4],
              "hard": [k for k in range(HARD_FROM, len(items))],
              "test-hard": [k for k in range(HARD_FROM, len(items)) if k % 5 == 4],
              "all": list(range(len(items)))}
    report: dict = {"data": str(Path(args.data).relative_to(ROOT)) if Path(args.data).is_absolute() and
                    ROOT in Path(args.data).parents else args.data,
                    "n_items": len(items), "polarity_thresholds": {"neg_below": NEG_BELOW, "pos_above": POS_ABOVE},
                    "python": platform.python_version(), "ts": time.strftime("%Y-%m-%dT%H:%M:%S"),
                    "heartline_seconds_first_pass": round(elapsed, 3), "splits": {}}
    for name, idx in splits.items():
        sub = [items[k] for k in idx]
        h = score(sub, [h_emo[k] for k in idx], [h_pol[k] for k in idx], [h_cues[k] for k in idx])
        s = score(sub, [s_emo[k] for k in idx], [s_pol[k] for k in idx], None)
        report["splits"][name] = {"heartline": h, "snownlp": s}
        print(_table(name, h, s))
        print()
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
