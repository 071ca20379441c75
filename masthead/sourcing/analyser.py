"""Entry point of the analysis: text in, the sourcing contract's JSON-ready dict out.

The steps run in a fixed order on offsets into the text as given: paragraphs and quotation marks,
the register of people the article names, figures, quotes and their speakers, the sources they add
up to, then the warnings. Same text, same result: there is no randomness and nothing is fetched.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from masthead.sourcing import checks, figures as figure_rules, lexicon, text as text_rules
from masthead.sourcing.quotes import SOURCE_PHRASE_MAX, Attributor, Quote
from masthead.sourcing.speakers import Register, classify

ANALYSER_VERSION = "1"


def analyse(text: str, language: str = "en") -> dict:
    """Analyse one article's text; offsets in the result index into ``text``."""
    if not isinstance(text, str):
        raise TypeError("analyse() needs the article as str")
    lex = lexicon.load(language)
    paras = text_rules.paragraphs(text)
    segments = text_rules.find_segments(text, paras)
    masked = text_rules.masked(text, segments)
    sentence_spans = [span for p in paras for span in text_rules.sentences(masked, p.start, p.end, text, lex.cue_verbs)]
    register = Register(text, lex)
    register.quoted_spans = [(g.start, g.end) for g in segments]
    figures = figure_rules.find_figures(masked, lex)
    attributor = Attributor(text, masked, segments, sentence_spans, register, lex)
    quotes = attributor.run([(f.start, f.end) for f in figures])
    _source_figures(text, masked, figures, quotes, sentence_spans, register, lex)
    warnings = (checks.unattributed(quotes) + checks.conflicting(text, quotes, register)
                + checks.unsourced(figures))
    warnings.sort(key=lambda w: (w["start"], w["code"]))
    return {
        "quotes": [_quote_json(text, q) for q in quotes],
        "sources": _sources(quotes),
        "figures": [{"text": text[f.start:f.end], "start": f.start, "end": f.end, "value": f.value,
                     "source": f.source} for f in figures],
        "warnings": warnings,
        "language": language,
        "analyser_version": ANALYSER_VERSION,
    }


def _quote_json(text: str, q: Quote) -> dict:
    return {"text": text[q.start:q.end], "start": q.start, "end": q.end, "kind": q.kind,
            "speaker": q.speaker.name if q.speaker else None,
            "speaker_type": q.speaker.type if q.speaker else None, "cue": q.cue}


def _sources(quotes: list[Quote]) -> list[dict]:
    merged: dict[tuple[str, str], dict] = {}
    for q in quotes:
        if q.speaker is None:
            continue
        key = (q.speaker.name.lower().removeprefix("the ").removeprefix("a ").removeprefix("an "), q.speaker.type)
        entry = merged.setdefault(key, {"name": q.speaker.name, "type": q.speaker.type, "role": q.speaker.role,
                                        "mentions": [], "quotes": 0})
        entry["quotes"] += 1
        entry["role"] = entry["role"] or q.speaker.role
        if q.speaker_span and list(q.speaker_span) not in entry["mentions"]:
            entry["mentions"].append(list(q.speaker_span))
    return list(merged.values())


def _source_figures(text, masked, figures, quotes, sentence_spans, register, lex) -> None:
    """Give each figure the source its sentence names: the quote it sits in, "according to", a
    named data source.

    A sentence's source is read once, however many figures it holds: a long list of numbers in
    one sentence would otherwise be read once per number."""
    starts = [s for s, _ in sentence_spans]
    by_sentence: dict[tuple[int, int], str | None] = {}
    for f in figures:
        holder = next((q for q in quotes if q.start <= f.start < q.end and q.speaker), None)
        if holder is not None:
            f.source = holder.speaker.name
            continue
        span = _sentence_of(f, sentence_spans, starts)
        if span not in by_sentence:
            by_sentence[span] = _sentence_source(text, span, register, lex)
        if by_sentence[span] is not None:
            f.source = by_sentence[span]


def _sentence_of(f, sentence_spans: list[tuple[int, int]], starts: list[int]) -> tuple[int, int]:
    i = bisect_right(starts, f.start) - 1
    if i >= 0 and f.start < sentence_spans[i][1]:
        return sentence_spans[i]
    return f.start, f.end


def _sentence_source(text: str, span: tuple[int, int], register, lex) -> str | None:
    s, e = span
    sentence = text[s:e]
    acc = text_rules_according(sentence)
    if acc is not None:
        phrase, offset = acc
        speaker = classify(phrase, s + offset, register, lex)
        return speaker.name if speaker else phrase
    named = figure_rules.sourced_by_phrase(sentence)
    return named[0] if named is not None else None


def text_rules_according(sentence: str) -> tuple[str, int] | None:
    """The source a sentence names with "according to", held to the same length as a quote's
    (`quotes.SOURCE_PHRASE_MAX`), so a figure is never given a source its sentence's quotes
    are not."""
    m = ACCORDING.search(sentence)
    if not m:
        return None
    phrase = m.group(1).strip()
    return (phrase, m.start(1)) if len(phrase) <= SOURCE_PHRASE_MAX else None


ACCORDING = re.compile(r"\baccording to\s+([^,.;:“”\"]+)", re.I)
