"""The seed's plain-text article form, read without Django so it can be tested and reused alone.

    Main StoriesWorld            <- section names, often run together by a scraper
                                 
    US Calls on Israel to ...    <- headline
                                 
    The Joe Biden ...            <- body paragraphs, separated by blank lines
    ...
    Spread the love              <- page furniture, dropped
    Comment here

Text is kept exactly as written (typographic quotes, dashes and ellipses included); only line
ends and surrounding white space are normalised.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# Lines a scraped page leaves after the story: share bars, comment prompts, related links.
FURNITURE = frozenset(
    {
        "spread the love",
        "comment here",
        "share this",
        "share this article",
        "share this story",
        "share",
        "like this",
        "related",
        "related posts",
        "related articles",
        "leave a reply",
        "leave a comment",
        "comments",
        "print",
        "tweet",
        "email",
        "advertisement",
        "read more",
        "click to share on facebook",
        "click to share on twitter",
    }
)
# Explicit separators some scrapes keep between section names.
SEPARATORS = re.compile(r"\s*(?:[|•·»›/,;\t]|\s{2,})\s*")
MAX_HEADLINE = 255
# Share of control characters above which a "text" file is really binary data.
MAX_CONTROL_SHARE = 0.01


class TextFormatError(ValueError):
    """The file is not an article in the text form; the message says why, in a few words."""


@dataclass
class ParsedArticle:
    sections: list[str]
    headline: str
    paragraphs: list[str] = field(default_factory=list)
    dropped_furniture: list[str] = field(default_factory=list)


def decode(data: bytes) -> str:
    """Bytes to text, refusing empty, binary and non-UTF-8 files with a readable reason."""
    if not data.strip():
        raise TextFormatError("the file is empty")
    if b"\x00" in data:
        raise TextFormatError("binary file (it contains NUL bytes), not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TextFormatError(
            f"unreadable encoding: not UTF-8 (invalid byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f")
    if controls > max(2, len(text) * MAX_CONTROL_SHARE):
        raise TextFormatError("binary file (it is full of control characters), not text")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _is_furniture(paragraph: str) -> bool:
    return paragraph.strip().rstrip(":.!").strip().casefold() in FURNITURE


def split_sections(line: str, known: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Split a section line such as "Main StoriesWorld" into section names.

    Known section names win (longest first, case-insensitive); between them, and when nothing is
    known, a lower-case letter followed by an upper-case one marks a boundary.
    """
    known_sorted = sorted({k.strip() for k in known if k.strip()}, key=len, reverse=True)
    names: list[str] = []
    for chunk in SEPARATORS.split(line.strip()):
        names.extend(_split_chunk(chunk.strip(), known_sorted))
    unique: list[str] = []
    for name in names:
        if name and name.casefold() not in {n.casefold() for n in unique}:
            unique.append(name)
    return unique


def _known_at(text: str, pos: int, known: list[str]) -> str | None:
    folded = text.casefold()
    for name in known:
        if folded.startswith(name.casefold(), pos):
            return name
    return None


def _split_chunk(chunk: str, known: list[str]) -> list[str]:
    names, pos, start = [], 0, 0
    while pos < len(chunk):
        match = _known_at(chunk, pos, known)
        if match:
            if chunk[start:pos].strip():
                names.append(chunk[start:pos].strip())
            names.append(match)
            pos += len(match)
            start = pos
            continue
        if pos > start and chunk[pos - 1].islower() and chunk[pos].isupper():
            names.append(chunk[start:pos].strip())
            start = pos
        pos += 1
    if chunk[start:].strip():
        names.append(chunk[start:].strip())
    return names


def _paragraphs(text: str) -> list[str]:
    """Blocks separated by blank lines; hard-wrapped lines inside a block are joined."""
    blocks = (" ".join(line.strip() for line in block.split("\n") if line.strip()) for block in re.split(r"\n\s*\n", text))
    return [block for block in blocks if block]


def parse(text: str, known_sections: list[str] | tuple[str, ...] = ()) -> ParsedArticle:
    """Parse decoded text; raises TextFormatError when there is no headline or no body."""
    stripped = text.strip()
    if not stripped:
        raise TextFormatError("the file is empty")
    section_line, _, rest = stripped.partition("\n")
    blocks = _paragraphs(rest)
    if not blocks:
        raise TextFormatError("no headline: the file has only one line of text")
    headline, paragraphs = blocks[0], blocks[1:]
    if len(headline) > MAX_HEADLINE:
        raise TextFormatError(
            f"no headline: the text after the section line is {len(headline)} characters long "
            f"(a headline has at most {MAX_HEADLINE}; is a blank line missing after it?)"
        )
    dropped: list[str] = []
    while paragraphs and _is_furniture(paragraphs[-1]):
        dropped.insert(0, paragraphs.pop())
    if not paragraphs:
        raise TextFormatError("no body text after the headline")
    sections = split_sections(section_line, known_sections)
    if not sections:
        raise TextFormatError("no section names on the first line")
    return ParsedArticle(sections=sections, headline=headline, paragraphs=paragraphs, dropped_furniture=dropped)


def read(data: bytes, known_sections: list[str] | tuple[str, ...] = ()) -> ParsedArticle:
    """Decode and parse one file's bytes."""
    return parse(decode(data), known_sections)
