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

import codecs
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
    wide = _wide_encoding(data)
    if wide:
        raise TextFormatError(f"unreadable encoding: {wide} text, not UTF-8 (save the file as UTF-8)")
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


def _wide_encoding(data: bytes) -> str | None:
    """Name UTF-16/UTF-32 text (by its BOM, or by NUL high bytes in every other byte), else None."""
    for bom, name in (
        (codecs.BOM_UTF32_LE, "UTF-32"),
        (codecs.BOM_UTF32_BE, "UTF-32"),
        (codecs.BOM_UTF16_LE, "UTF-16"),
        (codecs.BOM_UTF16_BE, "UTF-16"),
    ):
        if data.startswith(bom):
            return name
    even, odd = data[0::2], data[1::2]
    for nuls, other in ((even, odd), (odd, even)):
        # Mostly-ASCII UTF-16: one byte of each pair is NUL, the other almost never is.
        if len(nuls) >= 4 and nuls.count(0) > 0.9 * len(nuls) and other.count(0) < 0.1 * len(other):
            return "UTF-16"
    return None


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


def _known_at(text: str, pos: int, start: int, known: list[str]) -> str | None:
    """The known name at `pos`, if one starts a name there and ends where a name may end.

    "Sport" is not found in "Sports", nor "US" in "Business", nor "Science" in "Science & Tech".
    """
    if pos != start and not (text[pos - 1].islower() and text[pos].isupper()):
        return None
    for name in known:
        end = pos + len(name)
        if text[pos:end].casefold() == name.casefold() and (end == len(text) or text[end].isupper()):
            return name
    return None


def _split_chunk(chunk: str, known: list[str]) -> list[str]:
    names, pos, start = [], 0, 0
    while pos < len(chunk):
        match = _known_at(chunk, pos, start, known)
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


def _blocks(text: str) -> list[list[str]]:
    """Blocks separated by blank lines, each as its stripped non-blank lines."""
    blocks = ([line.strip() for line in block.split("\n") if line.strip()] for block in re.split(r"\n\s*\n", text))
    return [block for block in blocks if block]


def parse(text: str, known_sections: list[str] | tuple[str, ...] = ()) -> ParsedArticle:
    """Parse decoded text; raises TextFormatError when there is no headline or no body."""
    stripped = text.strip()
    if not stripped:
        raise TextFormatError("the file is empty")
    section_line, _, rest = stripped.partition("\n")
    blocks = _blocks(rest)
    if not blocks:
        raise TextFormatError("no headline: the file has only one line of text")
    dropped: list[str] = []
    # Trailing furniture, whether a block per line ("Spread the love", blank, "Comment here")
    # or several furniture lines in one block.
    while len(blocks) > 1 and all(_is_furniture(line) for line in blocks[-1]):
        dropped[:0] = blocks.pop()
    # Hard-wrapped lines inside a block are joined.
    headline, *paragraphs = (" ".join(block) for block in blocks)
    if len(headline) > MAX_HEADLINE:
        raise TextFormatError(
            f"no headline: the text after the section line is {len(headline)} characters long "
            f"(a headline has at most {MAX_HEADLINE}; is a blank line missing after it?)"
        )
    if not paragraphs:
        raise TextFormatError("no body text after the headline")
    sections = split_sections(section_line, known_sections)
    if not sections:
        raise TextFormatError("no section names on the first line")
    return ParsedArticle(sections=sections, headline=headline, paragraphs=paragraphs, dropped_furniture=dropped)


def read(data: bytes, known_sections: list[str] | tuple[str, ...] = ()) -> ParsedArticle:
    """Decode and parse one file's bytes."""
    return parse(decode(data), known_sections)
