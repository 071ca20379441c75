"""Show where the analyser and a gold annotation disagree, article by article.

The scorer gives totals; this prints the quotes missed, the extra ones, wrong speakers, false and
missed warnings and figure sources, which is what one needs to improve a rule. Usage:
``python tests/sourcing/diagnose.py [NAME-prefix ...]`` (default: every article in dev/).
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from masthead.sourcing import analyse  # noqa: E402

TITLES = {"the", "a", "an", "mr", "mrs", "ms", "dr", "prof", "president", "mayor", "us", "u.s.", "chief",
          "executive", "councillor", "spokesman", "spokeswoman", "chemist", "colleague"}


def _norm(name):
    return [t for t in re.findall(r"[\w'’-]+", (name or "").lower()) if t not in TITLES]


def _overlap(a, b):
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union else 0.0


def _touch(a, b):
    return min(a[1], b[1]) > max(a[0], b[0])


def diagnose(gold_path: Path, folder: Path) -> None:
    gold = json.loads(gold_path.read_text(encoding="utf-8"))
    text = (folder / gold_path.name.replace(".gold.json", ".txt")).read_text(encoding="utf-8")
    pred = analyse(text)
    print(f"== {gold_path.name}")
    free = list(range(len(gold["quotes"])))
    for q in pred["quotes"]:
        span = (q["start"], q["end"])
        best = max(free, key=lambda i: _overlap(span, gold["quotes"][i]["span"]), default=None)
        if best is None or _overlap(span, gold["quotes"][best]["span"]) < 0.5:
            print(f"  EXTRA   {q['kind']:8} {q['speaker']!s:30} | {text[q['start']:q['end']][:90]!r}")
            continue
        free.remove(best)
        g = gold["quotes"][best]
        if (q["speaker"] is None) != (g["speaker"] is None) or _norm(q["speaker"]) != _norm(g["speaker"]):
            print(f"  SPEAKER got {q['speaker']!r} ({q['speaker_type']}) want {g['speaker']!r} ({g['speaker_type']})"
                  f" | {g['text'][:70]!r}")
    for i in free:
        g = gold["quotes"][i]
        ctx = text[max(0, g["span"][0] - 60):g["span"][1] + 60].replace("\n", " ")
        print(f"  MISSED  {g['kind']:8} {g['speaker']!s:30} | {ctx[:220]!r}")
        near = max(pred["quotes"], key=lambda q: _overlap((q["start"], q["end"]), g["span"]), default=None)
        if near is not None and _overlap((near["start"], near["end"]), g["span"]) > 0:
            print(f"          gold {g['span']} {g['text'][:100]!r}\n          near [{near['start']}, {near['end']}]"
                  f" {text[near['start']:near['end']][:100]!r}")
    for w in pred["warnings"]:
        if not any(w["code"] == g["code"] and _touch((w["start"], w["end"]), g["span"]) for g in gold["warnings"]):
            print(f"  FALSE-W {w['code']} | {text[w['start']:w['end']][:90]!r}")
    for g in gold["warnings"]:
        if not any(w["code"] == g["code"] and _touch((w["start"], w["end"]), g["span"]) for w in pred["warnings"]):
            print(f"  MISS-W  {g['code']} | {g['near'][:90]!r}")
    for g in gold["figures"]:
        match = [p for p in pred["figures"] if _touch((p["start"], p["end"]), g["span"])]
        if not match:
            print(f"  MISS-F  {g['text']!r} source {g['source']!r}")
        elif not any(_norm(p["source"]) == _norm(g["source"]) or (p["source"] is None and g["source"] is None)
                     or (p["source"] and g["source"] and _norm(p["source"])[-1:] == _norm(g["source"])[-1:])
                     for p in match):
            print(f"  SRC-F   {g['text']!r} got {[p['source'] for p in match]} want {g['source']!r}")


def main(argv: list[str]) -> None:
    folder = HERE / "dev"
    for path in sorted(folder.glob("*.gold.json")):
        if not argv or any(path.name.startswith(p) for p in argv):
            diagnose(path, folder)


if __name__ == "__main__":
    main(sys.argv[1:])
