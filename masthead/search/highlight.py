"""Result snippets: a short window of an article's text with the query's words marked.

Built in Python from `ArticlePage.plain_text()` for the (at most 20) results on the page shown,
so the index never has to store positions. Everything is escaped; only our own <mark> tags
are markup.
"""

from __future__ import annotations

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 200
MAX_MATCHES = 200  # match positions considered when choosing the window
# Endings dropped so "elections" also marks "election" and "reporting" marks "reported",
# roughly as the full-text engines' stemming finds them.
SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ied", "es", "ed", "ly", "s", "y", "e")
MIN_STEM = 3


def stem(term: str) -> str:
    word = term.casefold()
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_STEM:
            return word[: -len(suffix)]
    return word


def terms_pattern(terms: list[str]) -> re.Pattern | None:
    """Whole words that are a term's stem plus a short ending, case-insensitively."""
    stems = sorted({stem(t) for t in terms if t.strip()}, key=len, reverse=True)
    if not stems:
        return None
    # Long stems take any ending of up to four letters; short words only a plural "s"/"es",
    # so "a" or "war" do not mark every word that starts like them.
    alternatives = [re.escape(s) + (r"\w{0,4}" if len(s) >= 4 else r"(?:e?s)?") for s in stems]
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


def _window(text: str, matches: list[re.Match], which, width: int) -> tuple[int, int]:
    """The start and end of the `width` characters holding the most distinct terms."""
    best, best_score = 0, -1
    for i, match in enumerate(matches):
        start = max(0, match.start() - width // 4)
        end = start + width
        seen = {which(m.group(0)) for m in matches[i:] if m.end() <= end}
        if len(seen) > best_score:
            best, best_score = start, len(seen)
    return best, min(len(text), best + width)


def _to_word_boundaries(text: str, start: int, end: int) -> tuple[int, int]:
    if start > 0:
        space = text.find(" ", start, start + 30)
        start = space + 1 if space != -1 else start
    if end < len(text):
        space = text.rfind(" ", end - 30, end)
        end = space if space > start else end
    return start, end


def snippet(text: str, terms: list[str], width: int = WIDTH) -> SafeString:
    """About `width` characters of `text` around the best match, terms wrapped in <mark>."""
    text = " ".join((text or "").split())  # paragraphs become one line
    pattern = terms_pattern(terms)
    matches = list(pattern.finditer(text))[:MAX_MATCHES] if pattern else []
    if not matches:
        start, end = _to_word_boundaries(text, 0, min(len(text), width))
        return mark_safe(escape(text[:end]) + ("…" if end < len(text) else ""))

    stems = sorted({stem(t) for t in terms}, key=len, reverse=True)

    def which(word: str) -> str:
        folded = word.casefold()
        return next((s for s in stems if folded.startswith(s)), folded)

    start, end = _window(text, matches, which, width)
    start, end = _to_word_boundaries(text, start, end)
    parts = ["…"] if start > 0 else []
    position = start
    for match in matches:
        if match.start() < start or match.end() > end:
            continue
        parts.append(escape(text[position : match.start()]))
        parts.append(f"<mark>{escape(match.group(0))}</mark>")
        position = match.end()
    parts.append(escape(text[position:end]))
    if end < len(text):
        parts.append("…")
    return mark_safe("".join(parts))
