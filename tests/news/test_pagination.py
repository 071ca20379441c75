"""Keyset pagination of section, author and tag pages: complete walks, a flat cost at any depth,
no OFFSET or COUNT(*), and a 404 (never a 500) for a cursor we did not make."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from masthead.api import cursor
from masthead.news import pagination
from masthead.news.models import ArticlePage

PAGE_SIZE = 3


@pytest.fixture
def shelf(desk, make_article, settings):
    """Eleven World stories (some from its subsection or listing it as a further section), all by
    Ada and tagged Gaza, plus noise that none of the three lists may show."""
    settings.MASTHEAD_PAGE_SIZE = PAGE_SIZE
    homes = [desk.world, desk.mideast, desk.world, desk.politics]
    for n in range(11):
        home = homes[n % len(homes)]
        make_article(
            home,
            f"Story {n:02}",
            authors=[desk.ada],
            tags=["Gaza"],
            further=[desk.world] if home is desk.politics else [],
            days_ago=n + 1,
        )
    make_article(desk.politics, "Elsewhere", authors=[desk.ben], tags=["Other"], days_ago=0.5)
    make_article(desk.world, "Draft", authors=[desk.ada], tags=["Gaza"], publish=False)
    return desk


def soup(response) -> BeautifulSoup:
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.content, "html.parser")


def titles(doc: BeautifulSoup) -> list[str]:
    return [h.get_text(strip=True) for h in doc.select(".card__headline")]


def link(doc: BeautifulSoup, rel: str) -> str | None:
    found = doc.select(f'nav.pagination a[rel="{rel}"]')
    assert len(found) <= 1
    return found[0]["href"] if found else None


def walk(client, url: str, rel: str = "next") -> list[list[str]]:
    """The titles of each page, following `rel` links to the end."""
    pages: list[list[str]] = []
    while url:
        doc = soup(client.get(url))
        pages.append(titles(doc))
        url = link(doc, rel)
        assert len(pages) < 50, "pagination does not end"
    return pages


def expected(**lookup) -> list[str]:
    return list(
        ArticlePage.objects.live().filter(**lookup).distinct()
        .order_by("-first_published_at", "-pk").values_list("title", flat=True)
    )


def flat(pages: list[list[str]]) -> list[str]:
    return [title for page in pages for title in page]


def token(article: ArticlePage) -> str:
    return cursor.encode(article.first_published_at, article.pk)


# --- walking ----------------------------------------------------------------------------------


def test_walking_a_section_visits_every_article_once_in_order_and_ends(client, shelf):
    pages = walk(client, shelf.world.url)
    assert [len(page) for page in pages] == [3, 3, 3, 2]
    assert flat(pages) == [f"Story {n:02}" for n in range(11)]


def test_walking_back_up_shows_the_same_pages_and_ends_on_the_first(client, shelf):
    down = walk(client, shelf.world.url)
    last_url = shelf.world.url
    for _ in range(len(down) - 1):
        last_url = link(soup(client.get(last_url)), "next")
    assert walk(client, last_url, rel="prev") == down[::-1]  # and the top has no "Newer" link
    assert link(soup(client.get(shelf.world.url)), "prev") is None


def test_author_and_tag_pages_paginate_too(client, shelf):
    author_pages = walk(client, shelf.ada.get_absolute_url())
    assert [len(page) for page in author_pages] == [3, 3, 3, 2]
    assert flat(author_pages) == expected(bylines__author=shelf.ada)
    tag_pages = walk(client, "/tags/gaza/")
    assert flat(tag_pages) == expected(tagged_items__tag__slug="gaza")
    assert flat(tag_pages) == [f"Story {n:02}" for n in range(11)]


def test_articles_sharing_a_publication_time_are_each_shown_once(client, shelf):
    same = timezone.now() - timedelta(days=3)
    ArticlePage.objects.filter(title__in=[f"Story {n:02}" for n in range(2, 9)]).update(first_published_at=same)
    pages = walk(client, shelf.world.url)
    assert flat(pages) == expected(title__startswith="Story ")  # the tie broken by id, newest first
    assert len(set(flat(pages))) == 11
    assert walk(client, _last_page_url(client, shelf.world.url), rel="prev") == pages[::-1]


def test_a_story_published_mid_walk_neither_repeats_nor_hides_the_next_page(client, shelf, make_article):
    first = soup(client.get(shelf.world.url))
    make_article(shelf.world, "Breaking", days_ago=0)
    rest = walk(client, link(first, "next"))
    assert titles(first) + flat(rest) == [f"Story {n:02}" for n in range(11)]
    # Going back up from page 2 now reaches the new story, on a page of its own at the top.
    above = walk(client, link(soup(client.get(link(first, "next"))), "prev"), rel="prev")
    assert above == [titles(first), ["Breaking"]]


def _last_page_url(client, url: str) -> str:
    while (older := link(soup(client.get(url)), "next")) is not None:
        url = older
    return url


# --- cost -------------------------------------------------------------------------------------


@pytest.fixture
def deep(desk, make_article, settings):
    """Enough World stories that page 9 is deep, two to a page."""
    settings.MASTHEAD_PAGE_SIZE = 2
    for n in range(20):
        make_article(desk.world, f"Deep {n:02}", authors=[desk.ada], tags=["Gaza"], days_ago=n + 1)
    return desk


def page_urls(client, url: str, depth: int) -> dict[str, str]:
    """The first page, the one `depth` clicks on, and the one reached going back up from it."""
    found = url
    for _ in range(depth):
        found = link(soup(client.get(found)), "next")
    return {"first": url, "deep": found, "newer": link(soup(client.get(found)), "prev")}


@pytest.mark.parametrize("which", ["section", "author", "tag"])
def test_a_deep_page_costs_what_the_first_page_costs(client, deep, count_queries, which):
    start = {"section": deep.world.url, "author": deep.ada.get_absolute_url(), "tag": "/tags/gaza/"}[which]
    urls = page_urls(client, start, depth=8)
    costs = {name: count_queries(url) for name, url in urls.items()}
    assert costs["deep"] == costs["first"] == costs["newer"], costs


def test_a_deep_page_reads_no_offset_and_counts_nothing(client, deep):
    urls = page_urls(client, deep.world.url, depth=8)
    for name, url in urls.items():
        with CaptureQueriesContext(connection) as ctx:
            soup(client.get(url))
        sql = [query["sql"].upper() for query in ctx.captured_queries]
        assert not [q for q in sql if " OFFSET " in q], name
        assert not [q for q in sql if "COUNT(*)" in q], name
        # The list itself: one page and one more row, to know whether there is a next page.
        assert [q for q in sql if "FIRST_PUBLISHED_AT" in q and q.rstrip().endswith("LIMIT 3")], name


# --- old page numbers -------------------------------------------------------------------------


def test_old_page_numbers_still_work_near_the_top_and_lead_onto_cursors(client, shelf):
    down = walk(client, shelf.world.url)
    page2 = soup(client.get(shelf.world.url + "?page=2"))
    assert titles(page2) == down[1]
    assert link(page2, "prev") == shelf.world.url  # the first page has one address
    assert titles(soup(client.get(link(page2, "next")))) == down[2]
    assert titles(soup(client.get(shelf.world.url + "?page=1"))) == down[0]
    assert titles(soup(client.get(shelf.world.url + "?page=abc"))) == down[0]  # as before: page 1
    assert "?after=" in link(soup(client.get(shelf.world.url + "?page=3")), "prev")


def test_old_page_numbers_past_the_end_or_too_deep_are_404(client, shelf):
    for page in ("0", "-1", "5", str(pagination.LEGACY_PAGES + 1), "99999999999999999999"):
        assert client.get(shelf.world.url, {"page": page}).status_code == 404, page


# --- bad cursors ------------------------------------------------------------------------------


# What a cursor must not be: see masthead/api/cursor.py (the API's tests try its edges too).
BAD_PAYLOADS = [
    b"not json",
    b"\xff\xfe",
    {"a": 1},
    ["2024-01-01T00:00:00", 5],  # no time zone
    ["2024-01-01T00:00:00+00:00", 0],
    ["2024-01-01T00:00:00+00:00", "5"],
    ["2024-01-01T00:00:00+00:00", 2**70],
    ["0001-01-01T00:00:00+14:00", 5],  # out of range once in UTC
    ["yesterday", 5],
]
BAD_CURSORS = ["", "x", "!!!", "%00", "a" * 500] + [
    base64.urlsafe_b64encode(p if isinstance(p, bytes) else json.dumps(p).encode()).decode().rstrip("=")
    for p in BAD_PAYLOADS
]


def test_a_bad_cursor_is_404_not_500(client, shelf):
    for url in (shelf.world.url, shelf.ada.get_absolute_url(), "/tags/gaza/"):
        for param in ("before", "after"):
            for bad in BAD_CURSORS:
                assert client.get(url, {param: bad}).status_code == 404, (url, param, bad)


def test_a_cursor_with_nothing_beyond_it_is_404(client, shelf):
    oldest = ArticlePage.objects.live().order_by("first_published_at").first()
    newest = ArticlePage.objects.live().order_by("-first_published_at").first()
    assert client.get(shelf.world.url, {"before": token(oldest)}).status_code == 404
    assert client.get(shelf.world.url, {"after": token(newest)}).status_code == 404
    assert client.get(shelf.world.url, {"before": token(newest), "after": token(oldest)}).status_code == 404


def test_links_carry_only_the_cursor(client, shelf):
    doc = soup(client.get(shelf.world.url, {"utm_source": "x", "before": token(_story(5))}))
    for rel in ("prev", "next"):
        href = link(doc, rel)
        assert href.startswith(shelf.world.url + "?") and "utm_source" not in href, href
    nav = doc.select_one("nav.pagination")
    assert nav["aria-label"] and "Page" not in nav.get_text()  # no "page N of M": that is a COUNT(*)


def _story(n: int) -> ArticlePage:
    return ArticlePage.objects.get(title=f"Story {n:02}")


def test_a_single_page_list_has_no_pagination(client, shelf, settings):
    settings.MASTHEAD_PAGE_SIZE = 50
    doc = soup(client.get(shelf.world.url))
    assert len(titles(doc)) == 11 and doc.select_one("nav.pagination") is None
