"""The warnings an editor sees before publishing: quotes without a speaker, quotes whose own
words give them to someone else (or that the story gives to two people), and statistics with no
source.

Warnings never block; they point at words in the text so the editor can decide.
"""

from __future__ import annotations

import re

from masthead.sourcing.figures import Figure
from masthead.sourcing.quotes import Quote
from masthead.sourcing.speakers import Register

REPORTS_OTHER = re.compile(
    r"^[“”\"‘']?\s*(?:(?:and|but|so|also)\s+)?(?P<name>[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){0,2})\s+"
    r"(?:also\s+)?(?:said|says|told|tells|added|stated|claimed|insisted|argued|warned)\b"
)


def _warning(code: str, start: int, end: int, message: str) -> dict:
    return {"code": code, "start": start, "end": end, "message": message}


def unattributed(quotes: list[Quote]) -> list[dict]:
    return [_warning("unattributed-quote", q.start, q.end,
                     "This quotation has no speaker: say who said it, or cut it.")
            for q in quotes if q.kind == "direct" and q.speaker is None]


def conflicting(text: str, quotes: list[Quote], register: Register) -> list[dict]:
    out = []
    seen: dict[str, Quote] = {}
    for q in quotes:
        if q.speaker is None:
            continue
        words = text[q.start:q.end]
        if q.kind == "direct":
            m = REPORTS_OTHER.match(words)
            if m:
                other = register.person_named(m.group("name"))
                if other is not None and other.name != q.speaker.name:
                    out.append(_warning(
                        "conflicting-attribution", q.start, q.end,
                        f"The quote is given to {q.speaker.name}, but its words report what {other.name} "
                        f"said: check who is speaking."))
                    continue
        key = _normal(words)
        if len(key.split()) >= 5:
            first = seen.get(key)
            if first is not None and first.speaker and first.speaker.name != q.speaker.name:
                out.append(_warning(
                    "conflicting-attribution", q.start, q.end,
                    f"The same words are given to {first.speaker.name} earlier and to {q.speaker.name} here."))
            seen.setdefault(key, q)
    return out


def unsourced(figures: list[Figure]) -> list[dict]:
    return [_warning("unsourced-figure", f.start, f.end, "This figure has no source: say where it comes from.")
            for f in figures if f.needs_source and f.source is None]


def _normal(words: str) -> str:
    return " ".join(re.findall(r"\w+", words.lower()))
