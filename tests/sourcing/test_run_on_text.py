"""Run-on text: a sentence of thousands of words (a pasted table, a list with no full stop) must
get the same reading as its parts would, without the analysis reading the rest of the sentence
once per clause. How long it takes is measured by `bench/sourcing_bench.py --growth`; these tests
pin that the shortcuts taken for it find exactly what the plain searches found."""
from __future__ import annotations

import random

import pytest

from masthead.sourcing import analyse, lexicon
from masthead.sourcing.figures import _Taken
from masthead.sourcing.quotes import APPOSITIVE_CUT, COORDINATOR, LONG_SPAN, STOP, Attributor
from masthead.sourcing.speakers import Register
from masthead.sourcing.text import MASK

WORDS = ["said", "and", "but", "while", ",", ".", ":", ";", MASK, "the", "an", "official", "who",
         "whose", "that", "thatch", "which", "andrew", "minister", "told", "reporters", "\n", "  "]


def attributor_for(masked: str) -> Attributor:
    lex = lexicon.load("en")
    return Attributor(masked, masked, [], [(0, len(masked))], Register(masked, lex), lex)


@pytest.mark.parametrize("pattern", [COORDINATOR, APPOSITIVE_CUT, STOP], ids=["coordinator", "appositive", "stop"])
def test_matches_from_the_texts_starts_are_what_finditer_finds(pattern):
    rng = random.Random(20261127)
    masked = " ".join(rng.choice(WORDS) for _ in range(4000))
    attributor = attributor_for(masked)
    for _ in range(300):
        s = rng.randrange(len(masked))
        e = rng.randrange(s, min(len(masked), s + 4 * LONG_SPAN) + 1)
        got = [m.span() for m in attributor._matches(pattern, s, e)]
        assert got == [m.span() for m in pattern.finditer(masked, s, e)], (s, e)


def test_a_long_span_ending_inside_a_word_matches_as_finditer_does():
    """`\\b` holds at a span's end even inside a word ("who|se")."""
    masked = "x " * 600 + ", the man whose dog barked"
    end = masked.index("whose") + 3
    found = [m.span() for m in attributor_for(masked)._matches(APPOSITIVE_CUT, 0, end)]
    assert found == [m.span() for m in APPOSITIVE_CUT.finditer(masked, 0, end)] != []


def test_taken_spans_overlap_as_a_scan_of_them_says():
    rng = random.Random(7)
    taken, spans = _Taken(), []
    for _ in range(2000):
        s = rng.randrange(10_000)
        e = s + rng.randrange(1, 30)
        overlaps = any(s < te and ts < e for ts, te in spans)
        assert taken.overlaps(s, e) == overlaps
        if not overlaps:
            taken.add(s, e)
            spans.append((s, e))


def test_every_figure_of_a_long_run_on_sentence_gets_its_source():
    text = "According to the Office for National Statistics, " + "5 million people, " * 1500 + "and 3 percent."
    figures = analyse(text)["figures"]
    assert len(figures) == 1501
    assert {f["source"] for f in figures} == {"Office for National Statistics"}


def test_a_run_of_words_after_according_to_is_no_ones_name():
    run_on = " ".join(["the", "plan", "would", "cost", "more", "than", "it", "saves"] * 30)
    result = analyse(f"Prices rose sharply this year, according to {run_on}.")
    assert result["quotes"] == [] and result["sources"] == []  # not a source named by 240 characters
    named = analyse("Prices rose sharply this year, according to the deputy director of the regional office.")
    assert [(q["speaker"], q["cue"]) for q in named["quotes"]] == [
        ("the deputy director of the regional office", "according to")
    ]
    # A figure's sentence is held to the same rule: no source the quotes do not name either.
    figure = analyse(f"Some 5,000 homes flooded this year, according to {run_on} Acme.")
    assert figure["quotes"] == [] and [f["source"] for f in figure["figures"]] == [None]


@pytest.mark.parametrize("length, named", [(160, True), (161, False)])
def test_a_source_name_may_run_to_160_characters(length, named):
    name = "Dr " + "x" * (length - 3)
    result = analyse(f"Prices rose sharply this year, according to  {name}, officials said.")
    speakers = [q["speaker"] for q in result["quotes"] if q["cue"] == "according to"]
    assert speakers == ([name] if named else [])
