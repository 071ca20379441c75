"""Figures (counts, money, percentages, fractions, ranges) and the source each sentence gives.

A figure needs a source when it is a statistic: a share, a sum of money, or a count of people or
things affected. Dates, ages, times, years, ordinals and numbers inside a direct quotation (whose
speaker is their source) are not figures that need one.
"""

from __future__ import annotations

import re
from bisect import bisect_left, insort
from dataclasses import dataclass

from masthead.sourcing.lexicon import Lexicon

SCALE = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12, "bn": 1e9, "m": 1e6, "k": 1e3}
FRACTIONS = {"half": 0.5, "a half": 0.5, "one half": 0.5, "a third": 1 / 3, "one third": 1 / 3,
             "one-third": 1 / 3, "two-thirds": 2 / 3, "two thirds": 2 / 3, "a quarter": 0.25,
             "one quarter": 0.25, "one-quarter": 0.25, "three-quarters": 0.75, "three quarters": 0.75,
             "a fifth": 0.2, "one-fifth": 0.2, "one fifth": 0.2, "two-fifths": 0.4, "three-fifths": 0.6,
             "a tenth": 0.1, "one-tenth": 0.1, "nine in ten": 0.9}
WORD_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                "nine": 9, "ten": 10, "twelve": 12, "twenty": 20, "fifty": 50, "hundred": 100,
                "several": None, "dozens": None, "hundreds": None, "thousands": None, "millions": None}
NUM = r"\d[\d,]*(?:\.\d+)?"
QUALIFIER = r"(?:(?:about|around|nearly|almost|more than|over|at least|up to|some|roughly|approximately|an estimated|estimated|fewer than|less than|close to|just over|just under|as many as|approaches|approaching|reached|topped|exceeded)\s+)?"
SCALE_WORD = r"(?:\s?(?:thousand|million|billion|trillion|bn|m|k)\b)?"
UNITS = (r"(?:feet|foot|ft|inches|inch|metres|meters|miles|km|kilometres|kilometers|gigawatts|megawatts|GW|MW|"
         r"percentage points|points|degrees|litres|liters|gallons|tonnes|tons|acres|hectares|mph|kg|kilograms)")
SMALL_WORDS = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a dozen|dozens|hundreds|thousands)"
PATTERNS = [
    ("range", re.compile(r"\bbetween\s+[$£€]?" + NUM + SCALE_WORD + r"p?\s+and\s+[$£€]?" + NUM + SCALE_WORD + r"p?(?:\s?%|\s+per ?cent|\s+" + UNITS + r")?", re.I)),
    ("measure", re.compile(QUALIFIER + r"\b" + NUM + r"(?:\s?(?:-|–|to)\s?" + NUM + r")?\s?" + UNITS + r"\b(?:\s+of\s+[a-z]+)?", re.I)),
    ("money", re.compile(QUALIFIER + r"\b\d+(?:\.\d+)?p\b(?:\s+(?:a|per)\s+(?:litre|liter|kilo|unit|gallon))?")),
    ("count", re.compile(r"\b(?:" + SMALL_WORDS + r"|\d[\d,]*)\s+of\s+(?:its|the|them|their|those|these|our|his|her)\b(?:\s+[\w’'-]+){0,3}", re.I)),
    ("money", re.compile(QUALIFIER + r"(?:US)?[$£€]\s?" + NUM + SCALE_WORD + r"(?:\s?(?:-|–|to)\s?[$£€]?" + NUM + SCALE_WORD + r")?", re.I)),
    ("money", re.compile(QUALIFIER + r"\b" + NUM + r"\s(?:million|billion|thousand)?\s?(?:dollars|pounds|euros|yen|rupees|francs)\b", re.I)),
    ("percent", re.compile(QUALIFIER + r"\b" + NUM + r"(?:\s?(?:-|–|to)\s?" + NUM + r")?\s?(?:%|per ?cent\b)", re.I)),
    ("fraction", re.compile(r"\b(?:" + "|".join(sorted((re.escape(k) for k in FRACTIONS), key=len, reverse=True)) + r")\b(?:\s+of\s+(?:them|the|all|those|its|their)?\s*\w+(?:\s+(?:and|or)\s+\w+)?)?", re.I)),
    ("count", re.compile(QUALIFIER + r"\b" + NUM + SCALE_WORD + r"(?:\s?(?:-|–|to)\s?" + NUM + SCALE_WORD + r")?(?:\s+[a-z][\w-]*){0,2}", re.I)),
    ("count", re.compile(QUALIFIER + r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|several|hundreds of|thousands of|tens of thousands of|millions of)\s+(?:million|billion|thousand)?\s*[a-z][\w-]*", re.I)),
]
MONTHS = r"(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)"
NOT_A_FIGURE_AFTER = re.compile(r"^(?:\s?-?\s?year-old|\s?-?\s?years?\s+old|\s?(?:am|pm|a\.m\.|p\.m\.)\b|:\d|st\b|nd\b|rd\b|th\b|\s+(?:years?|months?|weeks?|days?|hours?|minutes?|seconds?|decades?|centuries|votes?|seats?|goals?|points?|runs?|laps?|innings|overs|sets?|games?|matches|rounds?|-year|-day|-month|-week|-hour|-minute|o'clock|BST|GMT|ET|CET|UTC|"
                                 + MONTHS + r")\b)", re.I)
NOT_A_FIGURE_BEFORE = re.compile(r"(?:\b" + MONTHS + r"\.?\s*|\b(?:aged|age|ages|No\.|number|route|page|section|article|chapter|room|flight|platform|gate|level|grade|year|in|since|by|until|from|of|round|week|day|season|voted|vote|squad)\s*|\b(?!About|Around|Nearly|Almost|Some|Over|Roughly|Approximately|More|Fewer|Less|Up|At)[A-Z][a-z]+\s)$")
YEAR = re.compile(r"^(?:1[89]\d\d|20\d\d)s?$")
SOURCE_PHRASE = re.compile(
    r"\b(?:figures|data|statistics|estimates|numbers|a report|the report|a survey|a study|research|a poll|analysis|an analysis|records|a count|a tally|a census|modelling|forecasts?)\s+"
    r"(?:from|by|published by|released by|compiled by|produced by|of)\s+(?P<src>(?:the\s+)?[A-Z][\w'’&.-]*(?:\s+(?:of|for|and|the|[A-Z][\w'’&.-]*))*)"
    r"|(?P<src2>(?:the\s+)?[A-Z][\w'’&.-]*(?:\s+(?:of|for|the|[A-Z][\w'’&.-]*))*)(?:’s|'s)?\s+(?:figures|data|statistics|estimates|records|survey|report|count|tally)\s+(?:show|showed|shows|suggest|suggests|suggested|put|puts|found|find)\b"
    r"|\b(?:survey|poll|study|report|analysis|census|audit|review)\b[^.;]{0,60}?\b(?:by|from|for)\s+(?P<src4>(?:the\s+)?[A-Z][\w'’&.-]*(?:\s+(?:of|for|the|[A-Z][\w'’&.-]*))*)"
    r"|(?P<src3>(?:the\s+)?[A-Z][\w'’&.-]*(?:\s+(?:of|for|the|[A-Z][\w'’&.-]*))*)\s+(?:estimates?|estimated|reported|reports|recorded|records|counted|counts|puts|put|calculated|calculates|found|finds|says|said)\b"
)


NOT_COUNTED = {"years", "months", "weeks", "days", "hours", "minutes", "seconds", "decades", "centuries", "times",
               "votes", "seats", "goals", "points", "runs", "laps", "innings", "overs", "sets", "games",
               "matches", "rounds", "is", "was", "has", "as", "its", "this", "his", "us"}


# A cheap test per pattern: a window without these words cannot hold that kind of figure.
PREREQUISITES = [re.compile(r, re.I) if r else None for r in (
    r"\bbetween\b", r"\d\s?" + UNITS, r"\dp\b", r"\bof\s+(?:its|the|them|their|those|these|our|his|her)\b",
    r"[$£€]", r"dollars|pounds|euros|yen|rupees|francs", r"%|per ?cent", r"half|third|quarter|fifth|tenth|nine in ten",
    r"\d", r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|several|hundreds|thousands|tens|millions)\s")]
assert len(PREREQUISITES) == len(PATTERNS)
VAGUE = re.compile(r"(?:tens of )?(?:millions|thousands|hundreds|dozens) of\b", re.I)
ORDINAL_USE = re.compile(r"\s+(?!of\b|more\b|less\b|fewer\b|since\b|in\b|on\b|to\b|from\b|and\b|or\b|over\b|last\b|this\b)[a-z]+")
ANCHOR = re.compile(r"\d|(?<![a-z])(?:[Hh]alf|[Tt]hirds?|[Qq]uarters?|[Ff]ifths?|[Tt]enth|[Oo]ne|[Tt]wo|[Tt]hree|[Ff]our|"
                    r"[Ff]ive|[Ss]ix|[Ss]even|[Ee]ight|[Nn]ine|[Tt]en|[Ee]leven|[Tt]welve|[Ss]everal|[Dd]ozens?|"
                    r"[Hh]undreds|[Tt]housands|[Mm]illions)(?![a-z])")


@dataclass
class Figure:
    start: int
    end: int
    kind: str
    value: float | None
    source: str | None = None
    needs_source: bool = True


def find_figures(masked: str, lex: Lexicon) -> list[Figure]:
    """Figures in the masked text (quotations hidden), longest match first, no overlaps."""
    found: list[Figure] = []
    taken = _Taken()
    windows = _windows(masked)
    for (kind, pattern), needs in zip(PATTERNS, PREREQUISITES):
        spans = [(ws, we) for ws, we in windows if needs is None or needs.search(masked, ws, we)]
        for m in (m for ws, we in spans for m in pattern.finditer(masked, ws, we)):
            s, e = m.start(), m.end()
            text = m.group(0)
            if taken.overlaps(s, e):
                continue
            if _is_age(masked, s, e):
                continue
            if kind == "count":
                figure = _count(masked, s, e, text, lex)
                if figure is None:
                    continue
                if not re.search(r"\d|million|billion|thousand", text, re.I) or VAGUE.match(text):
                    figure.needs_source = False  # "four people", "millions of customers": context, not statistics
            elif kind == "fraction" and re.fullmatch(r"(?:a|one) (?:third|quarter|fifth|tenth)", text.lower()) \
                    and ORDINAL_USE.match(masked, e):
                continue  # "a third term", "a quarter final": ordinals, not shares
            else:
                e = s + len(text.rstrip(" ,.;"))
                figure = Figure(s, e, kind, _value(masked[s:e], kind))
            taken.add(figure.start, figure.end)
            found.append(figure)
    found.sort(key=lambda f: f.start)
    return found


class _Taken:
    """Disjoint spans kept in order, so testing a candidate against every figure already found
    costs a binary search: a text made of thousands of numbers must not cost their square."""

    def __init__(self) -> None:
        self.spans: list[tuple[int, int]] = []

    def overlaps(self, s: int, e: int) -> bool:
        i = bisect_left(self.spans, (e,))  # spans before i start before e; disjoint, so the
        return i > 0 and self.spans[i - 1][1] > s  # last of them ends latest

    def add(self, s: int, e: int) -> None:
        insort(self.spans, (s, e))


def _windows(masked: str) -> list[tuple[int, int]]:
    """Stretches of text around a digit or a number word: the only places a figure can be.

    The figure patterns are long alternations; running them only near an anchor makes the
    analysis several times faster on ordinary copy, where numbers are sparse.
    """
    spans: list[tuple[int, int]] = []
    for m in ANCHOR.finditer(masked):
        start = masked.rfind(" ", 0, max(0, m.start() - 28)) + 1
        end = min(len(masked), m.end() + 70)
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def _is_age(masked: str, s: int, e: int) -> bool:
    """ "aged between 19 and 34", "Dale Pruitt, 27, said": ages are not statistics."""
    before = masked[max(0, s - 12):s]
    if re.search(r"\b(?:aged|ages|age)\s*$", before):
        return True
    number = re.match(r"\d{1,3}(?=,)", masked[s:e + 1])
    return bool(number) and int(number.group(0)) < 120 and bool(re.search(r"[A-Za-z]+,\s*$", before)) \
        and masked[s + len(number.group(0)):s + len(number.group(0)) + 1] == ","


def _count(masked: str, s: int, e: int, text: str, lex: Lexicon) -> Figure | None:
    digits = re.search(NUM, text)
    words = text.split()
    nouns = [w.lower().strip(",.;") for w in words]
    noun_hit = next((i for i, w in enumerate(nouns) if w in lex.figure_nouns), None)
    if digits is None:
        if noun_hit is None and "of" not in nouns:
            return None  # "two officials": small word counts of speakers are not statistics
        small = nouns[0] in {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "several"}
        if small and not {"million", "thousand", "billion", "of"} & set(nouns) and noun_hit is None:
            return None
        end = s + len(" ".join(words[: (noun_hit if noun_hit is not None else len(words) - 1) + 1]))
        return Figure(s, end, "count", _value(text, "count"))
    ds, de = s + digits.start(), s + digits.end()
    number = digits.group(0)
    after = masked[de:de + 24]
    before = masked[max(0, ds - 16):ds]
    if YEAR.match(number.replace(",", "")) and not re.match(r"\s+(?:" + "|".join(lex.figure_nouns) + r")\b", after):
        return None
    if NOT_A_FIGURE_AFTER.match(after) or NOT_A_FIGURE_BEFORE.search(before):
        if noun_hit is None:
            return None
    if re.match(r"\d+\s?(?:-|–)\s?\d+\b", masked[ds:de + 6]) and noun_hit is None:
        return None  # scores and vote tallies ("won 3-1", "a 5-4 vote")
    plural = next((i for i, w in enumerate(nouns[1:4], 1) if re.fullmatch(r"[a-z-]+(?:s|men|people|children)", w)
                   and w not in NOT_COUNTED), None)
    if noun_hit is None and plural is not None:
        value = _value(text, "count")
        end = s + len(" ".join(words[: plural + 1]))
        hedged = bool(re.match(QUALIFIER, text, re.I) and re.match(QUALIFIER, text, re.I).group(0))
        return Figure(s, end, "count", value, needs_source=(value or 0) >= 100 or hedged)
    if noun_hit is None:
        value = _value(text, "count")
        if value is None or value < 100:
            return None
        end = s + len(text.split()[0]) if not text[0].isdigit() else de
        end = s + text.find(number) + len(number)
        scale = re.match(r"\s?(?:thousand|million|billion|trillion|bn)\b", masked[end:end + 12])
        if scale:
            end += scale.end()
        return Figure(s, end, "count", value, needs_source=value >= 1000)
    end = s + len(" ".join(words[: noun_hit + 1])) if words[0] == text.split()[0] else e
    return Figure(s, min(e, end), "count", _value(text, "count"))


def _value(text: str, kind: str) -> float | None:
    low = text.lower()
    if kind == "fraction":
        for key in sorted(FRACTIONS, key=len, reverse=True):
            if key in low:
                return round(FRACTIONS[key], 4)
    m = re.search(NUM, text)
    if m is None:
        for word, value in WORD_NUMBERS.items():
            if re.search(rf"\b{word}\b", low):
                if value is None:
                    return None
                scale = re.search(r"\b(thousand|million|billion|trillion)\b", low)
                return float(value * (SCALE[scale.group(1)] if scale else 1))
        return None
    value = float(m.group(0).replace(",", ""))
    if kind == "money" and re.match(r"\d+(?:\.\d+)?p\b", text[m.start():]):
        return value / 100
    scale = re.match(r"\s?(thousand|million|billion|trillion|bn|m|k)\b", text[m.end():], re.I)
    if scale:
        value *= SCALE[scale.group(1).lower()]
    return value


def sourced_by_phrase(sentence: str) -> tuple[str, int] | None:
    """A data source the sentence names ("figures from the ONS", "the agency estimates")."""
    m = SOURCE_PHRASE.search(sentence)
    if not m:
        return None
    key = next(k for k in ("src", "src2", "src4", "src3") if m.group(k))
    name = m.group(key)
    return name.strip(), m.start(key)
