"""Read an article from a file: the seed's text form, plain text, or a saved HTML page.

Text is analysed exactly as decoded, so offsets point into the file. A saved page is reduced to its
main text with trafilatura (a maintained extractor, benchmarked on news pages); offsets then point
into that extracted text, which the JSON carries so a reader can check them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from masthead.importers.text_format import TextFormatError, decode

MIN_WORDS = 8
HTML_START = re.compile(rb"^\s*(?:<!doctype html|<html|<head|<body|<article|<meta|<!--)", re.I)


class InputError(ValueError):
    """The file cannot be analysed; the message says why in a few words."""


@dataclass
class Article:
    path: str
    text: str
    form: str  # "text" or "html"


def read_article(path: str | Path) -> Article:
    path = Path(path)
    if not path.exists():
        raise InputError("no such file")
    if path.is_dir():
        raise InputError("is a directory, not a file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read it ({exc.strerror})") from None
    if path.suffix.lower() in {".html", ".htm", ".xhtml"} or HTML_START.match(data[:512]):
        return Article(str(path), _html_text(data), "html")
    try:
        return Article(str(path), decode(data), "text")
    except TextFormatError as exc:
        raise InputError(str(exc)) from None


def _html_text(data: bytes) -> str:
    try:
        markup = decode(data)
    except TextFormatError as exc:
        raise InputError(str(exc)) from None
    import trafilatura  # imported here: only saved pages need it, and it is slow to import

    doc = trafilatura.bare_extraction(markup, include_comments=False, include_tables=False,
                                      with_metadata=True, favor_precision=True)
    body = (getattr(doc, "text", None) or "").strip() if doc is not None else ""
    if len(body.split()) < MIN_WORDS:  # a menu or a cookie notice is not an article
        raise InputError("no article text found in this HTML page")
    title = (getattr(doc, "title", None) or "").strip()
    paragraphs = [line.strip() for line in body.splitlines() if line.strip()]
    if title and paragraphs and paragraphs[0] != title:
        paragraphs.insert(0, title)
    return "\n\n".join(paragraphs) + "\n"
