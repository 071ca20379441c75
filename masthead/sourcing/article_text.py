"""An article as the plain text the analyser reads, with a map back to where each part came from.

The text is the headline, the standfirst, then the body's paragraphs, subheads and quote blocks
in order, separated by blank lines (images and embeds carry no reported speech). Every part is a
`Segment` that knows its span in the text, what it is ("paragraph 3") and its *content path* in
the Wagtail editor ("title", "standfirst", "body.<block id>"), so a quote or warning found at an
offset can be shown in context and linked to the field or block an editor has to change.

Rich-text paragraphs become their visible text (tags dropped, entities decoded, typographic
characters kept byte for byte); a paragraph block holding a list or several paragraphs keeps them
on separate lines.

A quote block (a pull quote with an optional attribution) is written as a sentence in the form the
analyser knows, so the block's speaker is attributed like any quote in the text:
``“We will rebuild,” The mayor said.`` (or just ``“We will rebuild.”`` without an attribution,
which the analyser may rightly report as unattributed).
"""

from __future__ import annotations

import bisect
from dataclasses import asdict, dataclass
from html.parser import HTMLParser

SEPARATOR = "\n\n"
# Block-level tags whose end starts a new line of the paragraph's text.
BREAKING_TAGS = frozenset({"p", "br", "li", "ul", "ol", "h2", "h3", "h4", "h5", "h6", "blockquote", "div"})
QUOTE_MARKS = "\"“”„«»'‘’"


@dataclass(frozen=True)
class Segment:
    start: int
    end: int
    kind: str  # headline | standfirst | paragraph | subhead | quote
    path: str  # the editor's content path: "title", "standfirst", "body.<block id>"
    label: str  # for people: "headline", "paragraph 3", "quote block 1"


@dataclass
class ArticleText:
    text: str
    segments: list[Segment]

    def segment_at(self, offset: int) -> Segment | None:
        """The segment holding `offset`; an offset in a separator belongs to the next segment."""
        if not self.segments:
            return None
        starts = [segment.start for segment in self.segments]
        index = max(0, bisect.bisect_right(starts, offset) - 1)
        segment = self.segments[index]
        if offset >= segment.end and index + 1 < len(self.segments):
            return self.segments[index + 1]
        return segment

    def segments_json(self) -> list[dict]:
        return [asdict(segment) for segment in self.segments]

    @classmethod
    def from_stored(cls, text: str, segments: list[dict]) -> ArticleText:
        return cls(text, [Segment(**segment) for segment in segments])


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in BREAKING_TAGS:
            self.parts.append("\n")

    def handle_data(self, data):
        self.parts.append(data)


def rich_text_to_plain(source: str) -> str:
    """The visible text of a rich-text value: one line per paragraph or list item."""
    parser = _TextExtractor()
    parser.feed(source or "")
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    return "\n".join(line for line in lines if line)


def quote_block_text(quote: str, attribution: str) -> str:
    words = " ".join((quote or "").split()).strip(QUOTE_MARKS + " ")
    if not words:
        return ""
    attribution = " ".join((attribution or "").split()).lstrip("—–-― ").strip()
    if not attribution:
        return f"“{words}”"
    if words.endswith("."):
        words = words[:-1] + ","
    elif not words.endswith(("!", "?", "…", ",")):
        words += ","
    return f"“{words}” {attribution} said."


def _body_parts(body) -> list[tuple[str, str, str]]:
    """(kind, block id, text) for each body block that carries text."""
    parts = []
    for block in body:
        kind = block.block_type
        if kind == "paragraph":
            value = block.value
            text = rich_text_to_plain(getattr(value, "source", None) or str(value))
        elif kind == "subhead":
            text = " ".join(str(block.value).split())
        elif kind == "quote":
            text = quote_block_text(block.value.get("quote", ""), block.value.get("attribution", ""))
        else:
            continue
        if text:
            parts.append((kind, block.id or "", text))
    return parts


def article_text(page) -> ArticleText:
    """The analyser's input for an ArticlePage (saved, from a revision, or an unsaved preview)."""
    labels = {"paragraph": "paragraph", "subhead": "subhead", "quote": "quote block"}
    numbers: dict[str, int] = {}
    pieces: list[tuple[str, str, str, str]] = []  # kind, path, label, text
    headline = " ".join((page.title or "").split())
    if headline:
        pieces.append(("headline", "title", "headline", headline))
    standfirst = "\n".join(line.strip() for line in (page.standfirst or "").splitlines() if line.strip())
    if standfirst:
        pieces.append(("standfirst", "standfirst", "standfirst", standfirst))
    for kind, block_id, text in _body_parts(page.body):
        numbers[kind] = numbers.get(kind, 0) + 1
        path = f"body.{block_id}" if block_id else "body"
        pieces.append((kind, path, f"{labels[kind]} {numbers[kind]}", text))

    chunks: list[str] = []
    segments: list[Segment] = []
    offset = 0
    for kind, path, label, text in pieces:
        if chunks:
            chunks.append(SEPARATOR)
            offset += len(SEPARATOR)
        segments.append(Segment(offset, offset + len(text), kind, path, label))
        chunks.append(text)
        offset += len(text)
    return ArticleText("".join(chunks), segments)


__all__ = ["ArticleText", "Segment", "article_text", "quote_block_text", "rich_text_to_plain"]
