"""The analyser against hand annotations: the seed article and the development set.

Thresholds are the issue's: quote F1 >= 0.90, strict speaker accuracy >= 0.85, warnings found >= 0.9
with at most one false warning per ten articles; on the seed every quote, speaker and figure, and
the Biden/Kirby slip.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from masthead.sourcing import analyse
from tests.sourcing.build_gold import build
from tests.sourcing.scoring import Score, gold_pairs, same_speaker, score_document

HERE = Path(__file__).resolve().parent
SHARED_SCORER = HERE.parents[2] / "shared" / "sourcing" / "score.py"


def _score(folder: Path) -> Score:
    total = Score()
    for _, text, gold in gold_pairs(folder):
        total.add(score_document(gold, analyse(text)))
    return total


def test_seed_article_every_quote_speaker_figure_and_the_slip():
    (_, text, gold), = gold_pairs(HERE / "seed")
    result = analyse(text)
    score = score_document(gold, result)
    assert score.hit_q == score.gold_q == 11
    assert score.spk_strict == 11
    assert score.pred_q == 11
    assert (score.hit_w, score.false_w) == (1, 0)
    assert (score.hit_f, score.src_f) == (3, 3)
    slip = result["warnings"][0]
    assert slip["code"] == "conflicting-attribution"
    assert text[slip["start"]:slip["end"]].startswith("“Kirby said that Sullivan")
    assert "Joe Biden" in slip["message"] and "John Kirby" in slip["message"]


def test_development_set_meets_the_bar():
    score = _score(HERE / "dev")
    print(score.summary())
    assert score.documents >= 30 and score.gold_q >= 300, score.summary()
    assert score.f1 >= 0.90, score.summary()
    assert score.speaker_accuracy >= 0.85, score.summary()
    assert score.warnings_found >= 0.9, score.summary()
    assert score.false_w <= score.documents / 10, score.summary()


def test_generated_gold_files_match_their_annotations(capsys):
    assert build(check=True) == 0, capsys.readouterr().err


def test_scoring_rules_count_misses_and_false_alarms():
    gold = {"quotes": [{"span": [0, 10], "speaker": "Jane Doe"}, {"span": [20, 30], "speaker": None}],
            "warnings": [{"code": "unattributed-quote", "span": [20, 25]}],
            "figures": [{"span": [40, 45], "source": "the ministry"}]}
    pred = {"quotes": [{"start": 1, "end": 10, "speaker": "Doe"}, {"start": 50, "end": 60, "speaker": None}],
            "warnings": [{"code": "unsourced-figure", "start": 40, "end": 45}],
            "figures": [{"start": 41, "end": 44, "source": "Ministry"}]}
    s = score_document(gold, pred)
    assert (s.hit_q, s.pred_q, s.gold_q, s.spk_strict, s.spk_lenient) == (1, 2, 2, 0, 1)
    assert (s.hit_w, s.false_w, s.hit_f, s.src_f) == (0, 1, 1, 1)
    assert same_speaker(None, None) == (True, True)


@pytest.mark.skipif(not SHARED_SCORER.is_file(), reason="the shared scorer is not beside this checkout")
def test_shared_scorer_agrees_on_the_seed():
    cmd = f"{sys.executable} -m masthead.sourcing {{file}} --json"
    out = subprocess.run([sys.executable, str(SHARED_SCORER), "--gold", str(HERE / "seed"), "--cmd", cmd],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert re.search(r"quote precision 1\.00 recall 1\.00 F1 1\.00; speaker accuracy strict 1\.00", out), out
    assert "warnings found 1/1 false 0; figures found 3/3 source right 3" in out, out
