"""Scoring rules of the sourcing contract (../shared/sourcing/score.py's docstring), for the suite.

The shared scorer is a command-line tool that runs one process per article; the suite needs the
same numbers in-process, on any clean checkout, so the documented matching rules are implemented
here and cross-checked against the shared scorer when it is present (test_gold_sets.py).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

TITLES = {"the", "a", "an", "mr", "mrs", "ms", "dr", "prof", "president", "mayor", "us", "u.s.", "chief",
          "executive", "councillor", "spokesman", "spokeswoman", "chemist", "colleague"}


def name_words(name: str | None) -> list[str]:
    return [t for t in re.findall(r"[\w'’-]+", (name or "").lower()) if t not in TITLES]


def same_speaker(pred: str | None, gold: str | None) -> tuple[bool, bool]:
    """(strict, lenient) agreement; None == None agrees."""
    if gold is None or pred is None:
        return (gold is None and pred is None,) * 2
    p, g = name_words(pred), name_words(gold)
    if not p or not g:
        return False, False
    strict = p == g
    return strict, strict or p[-1] == g[-1] or len(set(p) & set(g)) / len(set(p) | set(g)) >= 0.5


def overlap(a, b) -> float:
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union else 0.0


def touches(a, b) -> bool:
    return min(a[1], b[1]) > max(a[0], b[0])


@dataclass
class Score:
    gold_q: int = 0
    pred_q: int = 0
    hit_q: int = 0
    spk_strict: int = 0
    spk_lenient: int = 0
    gold_w: int = 0
    hit_w: int = 0
    false_w: int = 0
    gold_f: int = 0
    hit_f: int = 0
    src_f: int = 0
    documents: int = 0
    matches: list = field(default_factory=list, repr=False)

    def add(self, other: "Score") -> None:
        for name in self.__dataclass_fields__:
            if name != "matches":
                setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def f1(self) -> float:
        p = self.hit_q / self.pred_q if self.pred_q else 0.0
        r = self.hit_q / self.gold_q if self.gold_q else 0.0
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def speaker_accuracy(self) -> float:
        return self.spk_strict / self.hit_q if self.hit_q else 0.0

    @property
    def warnings_found(self) -> float:
        return self.hit_w / self.gold_w if self.gold_w else 1.0

    def summary(self) -> str:
        return (f"{self.documents} articles: quote F1 {self.f1:.3f} ({self.hit_q}/{self.gold_q} found, "
                f"{self.pred_q} predicted); strict speaker accuracy {self.speaker_accuracy:.3f}; warnings "
                f"{self.hit_w}/{self.gold_w}, {self.false_w} false; figures {self.hit_f}/{self.gold_f}, "
                f"source right {self.src_f}")


def score_document(gold: dict, pred: dict) -> Score:
    s = Score(gold_q=len(gold["quotes"]), pred_q=len(pred.get("quotes", [])), gold_w=len(gold["warnings"]),
              gold_f=len(gold["figures"]), documents=1)
    free = list(range(len(gold["quotes"])))
    for q in pred.get("quotes", []):
        span = (q["start"], q["end"])
        best = max(free, key=lambda i: overlap(span, gold["quotes"][i]["span"]), default=None)
        if best is None or overlap(span, gold["quotes"][best]["span"]) < 0.5:
            s.matches.append((q, None))
            continue
        free.remove(best)
        s.hit_q += 1
        strict, lenient = same_speaker(q.get("speaker"), gold["quotes"][best]["speaker"])
        s.spk_strict += strict
        s.spk_lenient += lenient
        s.matches.append((q, gold["quotes"][best]))
    s.matches.extend((None, gold["quotes"][i]) for i in free)
    for w in gold["warnings"]:
        s.hit_w += any(p.get("code") == w["code"] and touches((p["start"], p["end"]), w["span"])
                       for p in pred.get("warnings", []))
    for p in pred.get("warnings", []):
        s.false_w += not any(p.get("code") == w["code"] and touches((p["start"], p["end"]), w["span"])
                             for w in gold["warnings"])
    for f in gold["figures"]:
        found = [p for p in pred.get("figures", []) if touches((p["start"], p["end"]), f["span"])]
        if found:
            s.hit_f += 1
            s.src_f += any(same_speaker(p.get("source"), f["source"])[1] for p in found)
    return s


def gold_pairs(folder: Path):
    """(name, text, gold) for every NAME.gold.json in ``folder`` with its text beside it."""
    for path in sorted(folder.glob("*.gold.json")):
        gold = json.loads(path.read_text(encoding="utf-8"))
        text_path = path.with_name(path.name.replace(".gold.json", ".txt"))
        yield path.name.replace(".gold.json", ""), text_path.read_text(encoding="utf-8"), gold
