"""Surrogate keys: the names of what a response shows, so that a change purges exactly the pages
that show it, here and in any CDN or Varnish in front (`Surrogate-Key`, `Cache-Tag`).

Keys are collected while a response is built, where pages and lists are assembled (the listing
queries in masthead/news/queries.py and the cards of masthead/news/cards.py, which the API and
search also go through, and the feeds' items in masthead/distribution/feed_items.py), never by
reading the HTML. The listing code has no request at hand, so the collector lives in a context
variable that PageCacheMiddleware opens for each request (each thread or task has its own);
outside a request, or for responses that are not cached, adding a key does nothing.

The vocabulary (lowercase tokens of [a-z0-9-]):

    site        every cacheable response: site-wide settings, the site's address
    nav         the sections menu (every HTML page)
    home        the home front's own lists (editors' picks, newest fill, section blocks)
    a<id>       article <id> is shown: its page, or its card, feed item or API item
    c<id>       the comments or the comment count of article <id> are shown
    r<id>       the "Related" list stored on article <id> is shown (its page)
    s<id>       a list of the articles of section <id> (its subsections, and articles filed there
                as a further section): the section's front, its feed, the parent's list of
                subsections
    sd<id>      the articles filed directly in section <id> ("More in <section>" under them)
    sn<id>      section <id>'s name or address is shown: breadcrumbs, card labels, "Also in"
    au<id>      the list of author <id>'s articles (their page, their feed)
    an<id>      author <id>'s name, role, bio, photo or address is shown (bylines, their page)
    t<id>       the list of articles tagged <id>
    tn<id>      tag <id>'s name or address is shown
    feeds       every feed; sitemaps: every sitemap; api: every read API response
    notfound    every 404 (a publish, a new slug or a redirect may answer at its address)
    redirects   every 301

Membership keys (s, au, t, home) are what lets a list drop an article: an article that leaves a
list purges the list's key, which the page carries whether or not it still shows the article.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Iterator

KEY_RE = re.compile(r"^[a-z0-9-]+$")

SITE = "site"
NAV = "nav"
HOME = "home"
FEEDS = "feeds"
SITEMAPS = "sitemaps"
API = "api"
NOT_FOUND = "notfound"
REDIRECTS = "redirects"


def article(pk: int) -> str:
    return f"a{pk}"


def comments(pk: int) -> str:
    return f"c{pk}"


def related(pk: int) -> str:
    return f"r{pk}"


def section_list(pk: int) -> str:
    return f"s{pk}"


def section_direct(pk: int) -> str:
    return f"sd{pk}"


def section_name(pk: int) -> str:
    return f"sn{pk}"


def author_list(pk: int) -> str:
    return f"au{pk}"


def author_name(pk: int) -> str:
    return f"an{pk}"


def tag_list(pk: int) -> str:
    return f"t{pk}"


def tag_name(pk: int) -> str:
    return f"tn{pk}"


@dataclass
class Collector:
    """What one response shows: its keys, and the newest publish among the articles it shows."""

    keys: set[str] = field(default_factory=set)
    last_published: datetime | None = None

    def published(self, moment: datetime | None) -> None:
        if moment is not None and (self.last_published is None or moment > self.last_published):
            self.last_published = moment


_current: ContextVar[Collector | None] = ContextVar("masthead_surrogate_keys", default=None)


@contextmanager
def collecting() -> Iterator[Collector]:
    """Collect the keys of everything built inside the block (one response)."""
    collector = Collector()
    token = _current.set(collector)
    try:
        yield collector
    finally:
        _current.reset(token)


def current() -> Collector | None:
    return _current.get()


def add(*names: str) -> None:
    collector = _current.get()
    if collector is not None:
        collector.keys.update(names)


def add_articles(articles: Iterable) -> None:
    """Keys of article cards (or feed and API items) already loaded with their relations.

    Reads only what is loaded: the attached primary section, and bylines, tags and further
    sections when they were prefetched. Never queries.
    """
    collector = _current.get()
    if collector is None:
        return
    keys = collector.keys
    for item in articles:
        keys.add(f"a{item.pk}")
        if hasattr(item, "comment_count"):  # the card shows the approved-comment count
            keys.add(f"c{item.pk}")
        section = getattr(item, "section", None)
        if section is not None:
            keys.add(f"sn{section.pk}")
        prefetched = getattr(item, "_prefetched_objects_cache", None) or {}
        for byline in prefetched.get("bylines", ()):
            keys.add(f"an{byline.author_id}")
        for tagged in prefetched.get("tagged_items", ()):
            keys.add(f"tn{tagged.tag_id}")
        for further in prefetched.get("additional_sections", ()):
            keys.add(f"sn{further.pk}")
        collector.published(getattr(item, "last_published_at", None))
