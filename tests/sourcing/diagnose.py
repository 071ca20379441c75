"""Show where the analyser and a gold annotation disagree, article by article.

The scorer gives totals; this prints the quotes missed, the extra ones, wrong speakers, false and
missed warnings and figure sources, which is what one needs to improve a rule. Usage:
``python tests/sourcing/diagnose.py [NAME-prefix ...]`` (default: every article in dev/).
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parents[1])]

from scoring import gold_pairs, overlap, same_speaker, score_document, touches  # noqa: E402

from masthead.sourcing import analyse  # noqa: E402


def diagnose(name: str, text: str, gold: dict) -> None:
    pred = analyse(text)
    print(f"== {name}")
    for q, g in score_document(gold, pred).matches:
        if g is None:
            print(f"  EXTRA   {q['kind']:8} {q['speaker']!s:30} | {text[q['start']:q['end']][:90]!r}")
        elif q is None:
            ctx = text[max(0, g["span"][0] - 60):g["span"][1] + 60].replace("\n", " ")
            print(f"  MISSED  {g['kind']:8} {g['speaker']!s:30} | {ctx[:220]!r}")
            near = max(pred["quotes"], key=lambda p: overlap((p["start"], p["end"]), g["span"]), default=None)
            if near is not None and overlap((near["start"], near["end"]), g["span"]) > 0:
                print(f"          gold {g['span']} {g['text'][:100]!r}\n          near [{near['start']}, "
                      f"{near['end']}] {text[near['start']:near['end']][:100]!r}")
        elif not same_speaker(q["speaker"], g["speaker"])[0]:
            print(f"  SPEAKER got {q['speaker']!r} ({q['speaker_type']}) want {g['speaker']!r} "
                  f"({g['speaker_type']}) | {g['text'][:70]!r}")
    for w in pred["warnings"]:
        if not any(w["code"] == g["code"] and touches((w["start"], w["end"]), g["span"]) for g in gold["warnings"]):
            print(f"  FALSE-W {w['code']} | {text[w['start']:w['end']][:90]!r}")
    for g in gold["warnings"]:
        if not any(w["code"] == g["code"] and touches((w["start"], w["end"]), g["span"]) for w in pred["warnings"]):
            print(f"  MISS-W  {g['code']} | {g['near'][:90]!r}")
    for g in gold["figures"]:
        found = [p for p in pred["figures"] if touches((p["start"], p["end"]), g["span"])]
        if not found:
            print(f"  MISS-F  {g['text']!r} source {g['source']!r}")
        elif not any(same_speaker(p["source"], g["source"])[1] for p in found):
            print(f"  SRC-F   {g['text']!r} got {[p['source'] for p in found]} want {g['source']!r}")


def main(argv: list[str]) -> None:
    for name, text, gold in gold_pairs(HERE / "dev"):
        if not argv or any(name.startswith(p) for p in argv):
            diagnose(name, text, gold)


if __name__ == "__main__":
    main(sys.argv[1:])
