"""Keyset pagination for the section, author and tag fronts.

Page 1,000 of a section must cost what page 1 costs. Numbered pages cannot: they need a COUNT(*)
of the whole list for "page N of M" and an OFFSET that makes the database read and throw away
every article before the page. So a page is named by the article it starts from instead, and is
one indexed range query on (first_published_at, pk), newest first, whatever its depth:

- `?before=<cursor>` (rel="next", "Older"): the articles older than the one the cursor names, the
  last card of the page the reader came from.
- `?after=<cursor>` (rel="prev", "Newer"): the articles newer than the first card, read upwards and
  shown newest first. When nothing newer is left beyond them, the page is the first page again (no
  "Newer" link).
- no parameter: the first page.

Each query asks for one article more than a page holds, so whether a further page exists is known
without counting. The cursor is the read API's (masthead.api.cursor): one codec, one set of rules
for what a valid cursor is, and a walk that neither repeats nor skips articles published while a
reader pages. A cursor that does not decode, or names a place with nothing beyond it, is a 404:
links we emit never do that, so it is a hand-made or truncated URL, not a server error.

Old `?page=N` links (shared, bookmarked and indexed before this change) keep working for
N <= LEGACY_PAGES, served with a bounded OFFSET and no COUNT, and their "Older"/"Newer" links lead
onto cursors; deeper numbers are a 404, because serving them would bring back the unbounded
OFFSET this module exists to remove, and what they showed has long moved anyway. A page number
that is not a number shows the first page and one below 1 is a 404, as before.

There is no "page N of M" any more: that number is the COUNT(*) this removes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils.encoding import escape_uri_path
from django.utils.http import urlencode

from masthead.api import cursor

LEGACY_PAGES = 20
OLDER, NEWER, LEGACY = "before", "after", "page"


@dataclass
class KeysetPage:
    """One page of a list, with where its "Newer" and "Older" links go (None: no such link).

    `number` is only known for the first page and old numbered links: finding a cursor page's
    depth would take the COUNT this avoids, so such pages say 1, and `query` is what names them.
    """

    object_list: list[Any]
    newer_url: str | None = None
    older_url: str | None = None
    number: int = 1
    query: str = ""

    @property
    def has_previous(self) -> bool:
        return self.newer_url is not None

    @property
    def has_next(self) -> bool:
        return self.older_url is not None

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next


def paginate(request: HttpRequest, queryset: QuerySet, per_page: int | None = None) -> KeysetPage:
    """The page of `queryset` the request names, newest first; Http404 when it names none."""
    size = per_page or settings.MASTHEAD_PAGE_SIZE
    asked = [name for name in (OLDER, NEWER) if name in request.GET]
    if len(asked) > 1:
        raise Http404("Ask for older or newer articles, not both")
    path = escape_uri_path(request.path)
    if not asked:
        return _numbered(path, queryset, _page_number(request.GET.get(LEGACY)), size)
    token = request.GET[asked[0]]
    try:
        place = cursor.decode(token)
    except cursor.InvalidCursor:
        raise Http404("No such page of articles") from None
    if asked == [OLDER]:
        return _older(path, queryset, token, size)
    return _newer(path, queryset, token, place, size)


def _page_number(value: str | None) -> int:
    try:
        number = int(value or 1)
    except ValueError:
        return 1
    if not 1 <= number <= LEGACY_PAGES:
        raise Http404("No such page of articles")
    return number


def _older(path: str, queryset: QuerySet, token: str, size: int) -> KeysetPage:
    rows = list(cursor.after(queryset, token)[: size + 1])
    if not rows:
        raise Http404("No older articles")
    return _page(path, rows[:size], newer=True, older=len(rows) > size, query=_query(OLDER, token))


def _newer(path: str, queryset: QuerySet, token: str, place: tuple, size: int) -> KeysetPage:
    """The page just above the cursor: read upwards, so the row past it says whether more are."""
    when, pk = place
    newer = Q(first_published_at__gt=when) | Q(first_published_at=when, pk__gt=pk)
    upwards = queryset.filter(first_published_at__gte=when).filter(newer)  # the bound: see cursor.after
    rows = list(upwards.order_by("first_published_at", "pk")[: size + 1])
    if not rows:
        raise Http404("No newer articles")
    more = len(rows) > size  # if not, these are the newest articles: the first page again
    return _page(path, rows[:size][::-1], newer=more, older=True, query=_query(NEWER, token) if more else "")


def _numbered(path: str, queryset: QuerySet, number: int, size: int) -> KeysetPage:
    start = (number - 1) * size  # at most (LEGACY_PAGES - 1) pages of rows skipped
    rows = list(queryset.order_by("-first_published_at", "-pk")[start : start + size + 1])
    if not rows and number > 1:
        raise Http404("No such page of articles")
    page = _page(path, rows[:size], newer=number > 1, older=len(rows) > size, query="")
    page.number = number
    if number > 1:
        page.query = _query(LEGACY, str(number))
    if number == 2:
        page.newer_url = path  # the page before is the first: one address for it, no cursor
    return page


def _page(path: str, rows: list, *, newer: bool, older: bool, query: str) -> KeysetPage:
    """Links from the first and last card shown: the next page starts right after them."""
    page = KeysetPage(object_list=rows, query=query)
    if rows and newer:
        page.newer_url = f"{path}?{_query(NEWER, cursor.encode(rows[0].first_published_at, rows[0].pk))}"
    if rows and older:
        page.older_url = f"{path}?{_query(OLDER, cursor.encode(rows[-1].first_published_at, rows[-1].pk))}"
    return page


def _query(name: str, value: str) -> str:
    return urlencode({name: value})
