"""Comment text to HTML: built from the text, never from the commenter's HTML.

A comment is stored exactly as submitted. To show it, we split it into paragraphs and lines,
escape every character that means something in HTML, and turn http(s) URLs into links with
rel="nofollow ugc noopener". The result then goes through nh3 (the ammonia sanitiser) allowing
only p, br and a[href], as a second guard should the first ever be wrong.
"""

from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import urlsplit

import nh3

# Bidirectional overrides and invisible formatting characters can disguise a link or flip
# text direction across the page; they are dropped from what is shown (not from what is stored).
_INVISIBLE = {"Cf"}
_KEEP_FORMAT = {"\u200d"}  # zero-width joiner: needed by emoji sequences and some scripts
URL_RE = re.compile(r"\bhttps?://[^\s<>\"'`]+", re.IGNORECASE)
# Trailing punctuation that ends a sentence rather than a URL.
_TRAILING = ".,;:!?)]}»”’'\""
LINK_REL = "nofollow ugc noopener"
ALLOWED_TAGS = {"p", "br", "a"}
# What made a comment's stored HTML (Comment.body_html): these rules and the sanitiser. Raise
# the number with any change to `render` below; an upgraded nh3 changes it by itself. A comment
# stored under another version is rendered as it is read until `masthead comments-html` (or a
# migration calling models.store_html) stores it again.
RENDER_VERSION = f"1+nh3-{nh3.__version__}"


def visible_text(text: str) -> str:
    if text.isascii():  # every invisible formatting character lies beyond ASCII
        return text
    return "".join(
        ch for ch in text if unicodedata.category(ch) not in _INVISIBLE or ch in _KEEP_FORMAT
    )


def link_host(url: str) -> str:
    """The host a browser opens for `url`, lower case: to a browser a backslash is a slash
    ("https://bad.example\\@good.example/" opens bad.example, where urlsplit reads good.example)
    and a trailing dot names the same host. "" for a URL that names none or cannot be read."""
    try:
        host = urlsplit(url.replace("\\", "/")).hostname or ""
    except ValueError:  # "http://[x": not a URL a browser would open either
        return ""
    return host.rstrip(".").casefold()


def count_links(text: str) -> int:
    """Links as the page shows them: an invisible character inside "https" hides none."""
    text = visible_text(text)
    return len(URL_RE.findall(text)) + len(re.findall(r"(?<![\w/@.])www\.[\w-]+\.\w+", text, re.I))


def _link_of(url: str) -> str:
    """What of a URL_RE match becomes the link: without the punctuation that ends a sentence,
    but with a closing parenthesis that belongs to the URL, as in Wikipedia links."""
    trimmed = url.rstrip(_TRAILING)
    while url[len(trimmed) : len(trimmed) + 1] == ")" and trimmed.count("(") > trimmed.count(")"):
        trimmed += ")"
    return trimmed


def linked_urls(text: str) -> list[str]:
    """The URLs that `render` makes links of, as it makes them (invisible characters dropped,
    sentence punctuation trimmed): what a reader can click is what the blocklist must read."""
    return [_link_of(url) for url in URL_RE.findall(visible_text(text))]


def _linkify_line(line: str) -> str:
    out, pos = [], 0
    for match in URL_RE.finditer(line):
        trimmed = _link_of(match.group(0))
        end = match.start() + len(trimmed)
        out.append(html.escape(line[pos : match.start()]))
        href = html.escape(trimmed, quote=True)
        out.append(f'<a href="{href}" rel="{LINK_REL}">{href}</a>')
        pos = end
    out.append(html.escape(line[pos:]))
    return "".join(out)


def render(text: str) -> str:
    """The HTML shown for a comment: <p> per paragraph, <br> per line break, links."""
    cleaned = visible_text(text.replace("\r\n", "\n").replace("\r", "\n"))
    paragraphs = [p.strip("\n") for p in re.split(r"\n\s*\n", cleaned) if p.strip()]
    built = "".join(
        "<p>" + "<br>".join(_linkify_line(line) for line in paragraph.split("\n")) + "</p>"
        for paragraph in paragraphs
    )
    return nh3.clean(
        built,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https"},
        link_rel=LINK_REL,
        strip_comments=True,
    )
