"""Paragraphs, quotation marks and sentences, all as offsets into the original text.

Every later step works on offsets into the text it was given, so a warning can point at the exact
words in the editor and the scorer can compare spans. Quoted passages are masked out before
sentences are split, so a full stop inside a quotation never ends the sentence that frames it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

OPENERS = "“‘«„"
CLOSERS = "”’»“"
PAIR = {"“": "”", "„": "“", "«": "»", "‘": "’"}
MASK = "\u2063"
_MARKS = re.compile("[“”‘’«»„\"]")  # invisible separator: never in copy, never matched by \w or punctuation rules
_PARA = re.compile(r"[^\n]+(?:\n(?!\s*\n)[^\n]+)*")
_QUOTE_SENTENCE = re.compile(r"[.!?…][”\"’](?=\s+[A-Z])")
_SENTENCE_END = re.compile(r"[.!?…]+(?=\s+[^a-z\s]|\s*$)")


@dataclass
class Segment:
    """A quoted passage: ``start`` is its opening mark, ``end`` is just past its closing mark."""

    start: int
    end: int
    closed: bool = True

    def inner(self, text: str) -> str:
        return text[self.start:self.end]


@dataclass
class Paragraph:
    start: int
    end: int
    segments: list[Segment] = field(default_factory=list)


def paragraphs(text: str) -> list[Paragraph]:
    return [Paragraph(m.start(), m.end()) for m in _PARA.finditer(text)]


def _is_opening_straight(text: str, i: int) -> bool:
    before = text[i - 1] if i > 0 else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    return (before.isspace() or before in "([—–-/") and not after.isspace()


def find_segments(text: str, paras: list[Paragraph]) -> list[Segment]:
    """Every quoted segment in order, joining quotations that run over paragraphs.

    A paragraph that opens a quotation and never closes it continues into the next paragraph if
    that one starts with an opening mark, as newspapers print long quotations; otherwise the
    quotation ends with its paragraph.
    """
    found: list[Segment] = []
    pending: Segment | None = None
    for para in paras:
        i, open_at, closer, straight = para.start, None, "", False
        first = text[para.start]
        if pending is not None:
            if first in OPENERS or first == '"':
                open_at, closer, straight = pending.start, pending_closer, first == '"'
                i += 1
            else:
                found.append(pending)
            pending = None
        for mark in _MARKS.finditer(text, i, para.end):
            i = mark.start()
            ch = text[i]
            if open_at is None:
                if ch in PAIR and not _apostrophe(text, i):
                    open_at, closer, straight = i, PAIR[ch], False
                elif ch == '"' and _is_opening_straight(text, i):
                    open_at, closer, straight = i, '"', True
            elif (ch == closer or (not straight and ch == "”")) and not _apostrophe(text, i):
                found.append(Segment(open_at, i + 1))
                open_at = None
        if open_at is not None:
            pending, pending_closer = Segment(open_at, para.end, closed=False), closer
    if pending is not None:
        found.append(pending)
    for seg in found:
        for para in paras:
            if para.start <= seg.start < para.end:
                para.segments.append(seg)
                break
    return found


def _apostrophe(text: str, i: int) -> bool:
    """A ’ or ‘ between letters (don’t, ’90s) is an apostrophe, not a quotation mark."""
    if text[i] not in "‘’":
        return False
    before = text[i - 1] if i > 0 else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    return (before.isalnum() and after.isalnum()) or (text[i] == "’" and before == "s" and after == " ") \
        or (text[i] == "‘" and after.isdigit())


def masked(text: str, segments: list[Segment]) -> str:
    """The text with every quoted segment replaced by MASK characters (same length)."""
    if not segments:
        return text
    parts, pos = [], 0
    for seg in sorted(segments, key=lambda s: s.start):
        parts.append(text[pos:seg.start])
        parts.append(MASK * (seg.end - seg.start))
        pos = seg.end
    parts.append(text[pos:])
    return "".join(parts)


def sentences(masked_text: str, start: int, end: int, text: str | None = None,
              cues: frozenset[str] = frozenset()) -> list[tuple[int, int]]:
    """Sentence spans in [start, end) of the masked text.

    Full stops inside a masked quotation never split a sentence, but a quotation that is itself a
    finished sentence ("… doing so." He added …) ends the sentence it stands in.
    """
    spans, pos = [], start
    ends = [(m.start(), m.end()) for m in _SENTENCE_END.finditer(masked_text, start, end)
            if not _abbreviation(masked_text, m.start())]
    if text is not None:
        ends += [(m.end() - 1, m.end()) for m in _QUOTE_SENTENCE.finditer(text, start, end)
                 if masked_text[m.end() - 1] == MASK and not _attribution_follows(text, m.end(), cues)]
        ends.sort()
    for _, stop in ends:
        if stop <= pos:
            continue
        spans.append((pos, stop))
        pos = stop
        while pos < end and masked_text[pos].isspace():
            pos += 1
    if pos < end:
        spans.append((pos, end))
    return spans


_ABBREV = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|St|Sen|Rep|Gen|Col|Capt|Lt|Sgt|Gov|Jr|Sr|No|Inc|Corp|Ltd|Co|U\.S|U\.K|vs|etc|approx|[A-Z]))$")


def _attribution_follows(text: str, pos: int, cues: frozenset[str]) -> bool:
    """“…?” Voss asked: the words after a quotation attribute it, so the sentence goes on."""
    words = re.findall(r"[\w'’-]+", re.split(r"[.;:!?“”\"]", text[pos:pos + 80])[0].replace(",", " "))[:7]
    for i, w in enumerate(words[:5]):
        if w.lower() in cues:
            return i + 1 >= len(words) or words[i + 1].lower() != "that"
    return False


def _abbreviation(text: str, dot: int) -> bool:
    return bool(_ABBREV.search(text, max(0, dot - 6), dot))
