"""Article cards: what a list shows of a story, read as plain rows rather than page models.

A card is the most repeated thing on every front (home, sections, authors, tags, search and the
"Related" and "More in" lists under a story), so it sets the price of an uncached page. Loading
cards as `ArticlePage` instances made Django build a full page model (about forty fields, the
modelcluster machinery), two prefetches and a byline model per author for each card, and the
template then asked Wagtail for each URL through the page object: about 1.7 ms per card, half
of an article page's render. Here a card is a small record filled from `values()` rows, with its
URLs worked out once by Wagtail's own rules (sites, WAGTAIL_APPEND_SLASH), in a fixed number of
queries whatever the number of cards:

1. the articles, with their approved-comment counts and their lead images' columns;
2. their bylines with the authors' names and slugs;
3. the renditions of those images (only when some card has an image);
4. the sections they sit in.

A list that pages (news/pagination.py) reads its page as card rows, so the first is its own.

The feeds read their items as rows of their own (distribution/feed_items.py: the full text),
with the helpers here for their pictures and sections; the API still loads page models (it
serialises every field).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, NamedTuple

from django.apps import apps
from django.db.models import QuerySet
from django.urls import get_script_prefix
from django.utils import dateformat
from django.utils.timezone import get_current_timezone, localtime
from django.utils.translation import get_language
from wagtail.images import get_image_model
from wagtail.models import Page, Site

from masthead.caching import config
from masthead.caching import keys as surrogate
from masthead.caching.prepared import Prepared
from masthead.links import mounted

from . import renditions

if TYPE_CHECKING:
    from django.http import HttpRequest

ARTICLE_FIELDS = ("pk", "title", "url_path", "path", "standfirst", "first_published_at", "last_published_at",
                  "comment_count")


@dataclass(slots=True)
class Link:
    """A named link on a card: its section, or one of its authors."""

    pk: int
    title: str
    url: str


@dataclass(slots=True)
class NavLink(Link):
    """A section in the site's menu; `path` says which pages lie within it (aria-current)."""

    path: str = ""
    slug: str = ""


@dataclass(slots=True)
class SectionLink(NavLink):
    """A live section as an article page names it (breadcrumb, "Also in", "More in") and its
    structured data links it (`full_url`)."""

    full_url: str = ""


class LiveSections(NamedTuple):
    by_path: Mapping[str, SectionLink]
    by_pk: Mapping[int, SectionLink]


@dataclass(slots=True)
class Card:
    """One story as a list shows it (news/card_markup.py)."""

    pk: int
    title: str
    url: str
    path: str
    standfirst: str
    first_published_at: datetime | None
    last_published_at: datetime | None
    comment_count: int
    lead_image: Any = None  # a Wagtail image with its renditions loaded, or None
    section: Link | None = None
    authors: list[Link] = field(default_factory=list)
    snippet: str = ""  # search results only

    def published(self) -> tuple[str, str]:
        """The publication date for a <time datetime="…"> and as shown: "3 Jan 2026"."""
        return local_dates(self.first_published_at, ISO_DATE, "j M Y")


ISO_DATE = r"Y-m-d\TH:i:sO"  # a <time datetime="…">


def local_dates(moment: datetime | None, *specs: str, where: tuple | None = None) -> tuple[str, ...]:
    """What the template filter `date` gives for each spec, without a template's cost (local
    time, Django's formats): for values repeated down a list, cards and comments.

    `where` is `date_setting()`'s answer, for a caller formatting many dates at once: the active
    time zone and language are each read from a context-local (about 5 us a read, more than
    a formatted date found again below), so they are read once for a whole thread."""
    if not moment:
        return ("",) * len(specs)
    zone, language = where or date_setting()
    return tuple(_formatted(moment, spec, zone, language) for spec in specs)


def date_setting() -> tuple[tzinfo, str | None]:
    """The active time zone and language, on which a formatted date depends."""
    return get_current_timezone(), get_language()


@functools.lru_cache(maxsize=4096)
def _formatted(moment: datetime, spec: str, zone: tzinfo, language: str | None) -> str:
    """Django's date formatting parses the format and builds a formatter per call, a tenth of
    a front's render with fifty dates on it. The result depends only on these arguments (the
    instant, the format, the active time zone and language for month names), and the same
    stories' dates come back on every page, so it is kept for the next call."""
    return dateformat.format(localtime(moment, zone), spec)


class _PageAddress:
    """Just enough of a page for Wagtail's own URL rules, so a card's URL is the one `pageurl`
    would give (relative on the current site, absolute on another, WAGTAIL_APPEND_SLASH)
    without building a page model for it."""

    __slots__ = ("url_path", "_wagtail_cached_site_root_paths")

    get_url = Page.get_url
    get_full_url = Page.get_full_url
    get_url_parts = Page.get_url_parts
    _get_site_root_paths = Page._get_site_root_paths
    _get_relevant_site_root_paths = Page._get_relevant_site_root_paths

    def __init__(self, url_path: str):
        self.url_path = url_path


MAX_PAGE_URLS = 20_000  # per site and process: each a short string, dropped all at once
_MISSING = object()  # a remembered URL may be None (a page outside every site)


def page_url(url_path: str, request: HttpRequest | None) -> str:
    """The URL of the page at `url_path`, as `pageurl()` gives it for this request.

    Wagtail works it out with a reverse() each time, and a front asks for dozens. It depends
    only on the page's path, the request's site, the sites' root paths (all three part of the
    remembered site structure, masthead.caching.config) and where the site is mounted, so it
    is remembered with them."""
    return url_finder(request)(url_path) or ""


def full_page_url(url_path: str, request: HttpRequest | None) -> str | None:
    """The full URL of the page at `url_path` (`get_full_url()`), remembered as `page_url`;
    None for a page outside every site."""
    return url_finder(request, full=True)(url_path)


def url_finder(request: HttpRequest | None, *, full: bool = False) -> Callable[[str], str | None]:
    """`page_url` (or, with `full`, `full_page_url`) for many pages of one request: the site,
    its remembered map and where it is mounted are looked up once for all of them (where the
    site is mounted is a context-local read, a few microseconds each)."""
    site = Site.find_for_request(request) if request is not None else None
    known = config.remembered(f"page-urls:{site.pk if site else ''}", dict)
    prefix = get_script_prefix()

    def find(url_path: str) -> str | None:
        key = (prefix, url_path, full)
        url = known.get(key, _MISSING)  # one read: another thread may empty the map meanwhile
        if url is not _MISSING:
            return url
        if len(known) >= MAX_PAGE_URLS:
            known.clear()
        address = _PageAddress(url_path)
        url = known[key] = address.get_full_url(request) if full else address.get_url(request=request)
        return url

    return find


def rows(queryset: QuerySet) -> QuerySet:
    """`queryset` (of articles) as card rows: named tuples with what a card shows, its lead
    image's own columns included, so that pagination can cut a page of cards in one query."""
    from masthead.comments.queries import approved_count_subquery

    return queryset.annotate(comment_count=approved_count_subquery()).values_list(
        *ARTICLE_FIELDS, *lead_image_fields(), named=True
    )


def published_rows() -> QuerySet:
    """Every live, public article as card rows, newest first, to filter further.

    Building this queryset (the comment-count subquery, a lookup per field, the private paths)
    cost about as much as running it. It depends only on the private paths, so it is built once
    per generation of the site's structure (masthead.caching.config) and each caller filters
    a copy of it. Never evaluated itself, so it holds no rows."""
    from .queries import published_articles

    return config.remembered("cards:published-rows", lambda: rows(published_articles())).all()


# The card rows of the live, public articles among some ids, in no particular order.
live_rows_among = Prepared("cards:live-among", lambda ids: published_rows().filter(pk__in=ids).order_by())


def load(ids: Iterable[int], request: HttpRequest | None = None) -> list[Card]:
    """The cards of the live, public articles among `ids`, in the order of `ids`."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []
    by_pk = {row.pk: row for row in live_rows_among(ids)}
    return from_rows([by_pk[pk] for pk in ids if pk in by_pk], request)


def from_rows(
    found: Iterable, request: HttpRequest | None = None, pictures: list | None = None
) -> list[Card]:
    """Cards from rows of `rows()`, with their authors, images and sections (three queries).
    The renditions of `pictures`, other images on the same page, are read with the cards'."""
    find = url_finder(request)
    cards = [_card(row, find) for row in found]
    renditions.load([card.lead_image for card in cards if card.lead_image is not None] + (pictures or []))
    if cards:
        _attach_authors(cards)
        attach_primary_sections(cards, request)
        _add_keys(cards)
    return cards


@functools.cache
def _image_columns() -> tuple[str, ...]:
    return tuple(field.attname for field in get_image_model()._meta.concrete_fields)


def lead_image_fields() -> tuple[str, ...]:
    """An article's lead image's own columns as `values_list()` names them, for `lead_image_from`:
    a row then carries its picture, with no second query and no page model."""
    return tuple(f"lead_image__{name}" for name in _image_columns())


def lead_image_from(row) -> Any:
    """The lead image (a Wagtail image) of a row holding `lead_image_fields()`, or None."""
    if row.lead_image__id is None:
        return None
    columns = _image_columns()
    return get_image_model().from_db(None, columns, [getattr(row, f"lead_image__{c}") for c in columns])


def _card(row, find: Callable[[str], str | None]) -> Card:
    image = lead_image_from(row)
    return Card(
        pk=row.pk,
        title=row.title,
        url=find(row.url_path) or "",
        path=row.path,
        standfirst=row.standfirst,
        first_published_at=row.first_published_at,
        last_published_at=row.last_published_at,
        comment_count=row.comment_count or 0,
        lead_image=image,
    )


# (article id, author id, name, slug) of some articles' bylines, in byline order: cards and feeds.
bylines_of = Prepared(
    "cards:bylines",
    lambda ids: apps.get_model("news", "ArticleByline")
    .objects.filter(article_id__in=ids)
    .order_by("article_id", "sort_order", "pk")
    .values_list("article_id", "author_id", "author__name", "author__slug"),
)


def _attach_authors(cards: list[Card]) -> None:
    from .models import author_url

    by_pk = {card.pk: card for card in cards}
    where = mounted()
    for article_id, author_id, name, slug in bylines_of(list(by_pk)):
        by_pk[article_id].authors.append(Link(author_id, name, author_url(slug, where)))


def attach_primary_sections(items: list, request: HttpRequest | None) -> None:
    """Set each item's `section` (a Link) to its primary section, the parent page, as everywhere
    on the site: from the map of every section (`sections`), read once per generation."""
    known = sections(request)
    for item in items:
        item.section = known.get(item.path[: -Page.steplen])


def sections(request: HttpRequest | None) -> dict[str, Link]:
    """Every section by tree path, as a card's label: site structure, like the menu, so read
    once per generation (masthead.caching.config) rather than once per list. URLs are relative
    to the request's site and start where the site is mounted, so the map is kept per site and
    mount point. Shared: callers must not change it."""
    site = Site.find_for_request(request) if request is not None else None

    def load() -> dict[str, Link]:
        rows = apps.get_model("news", "SectionPage").objects.values_list("pk", "path", "title", "url_path")
        return {path: Link(pk, title, page_url(url_path, request)) for pk, path, title, url_path in rows}

    return config.remembered(f"card-sections:{site.pk if site else ''}:{get_script_prefix()}", load)


def _add_keys(cards: list[Card]) -> None:
    """A page showing these cards changes when one of them, its comments, section or authors do."""
    collector = surrogate.current()
    if collector is None:
        return
    names = []
    for card in cards:
        names += [surrogate.article(card.pk), surrogate.comments(card.pk)]
        if card.section is not None:
            names.append(surrogate.section_name(card.section.pk))
        names += [surrogate.author_name(author.pk) for author in card.authors]
        collector.published(card.last_published_at)
    surrogate.add(*names)


def live_sections(request: HttpRequest | None) -> LiveSections:
    """Every live section, by tree path and by id, as links: site structure, so read once per
    generation (masthead.caching.config) rather than as page models on every article page (its
    trail and its further sections were two queries building a Wagtail page per section). URLs
    are relative to the request's site and start where the site is mounted, so the map is
    kept per site and mount point. Shared: callers must not change it."""
    site = Site.find_for_request(request) if request is not None else None

    def load() -> LiveSections:
        live = apps.get_model("news", "SectionPage").objects.live()
        by_path = {}
        for pk, title, url_path, path, slug in live.values_list("pk", "title", "url_path", "path", "slug"):
            full_url = _PageAddress(url_path).get_full_url(request) or ""
            by_path[path] = SectionLink(pk, title, page_url(url_path, request), path, slug, full_url)
        # Shared by every request of the generation: handed out read-only.
        by_pk = {link.pk: link for link in by_path.values()}
        return LiveSections(MappingProxyType(by_path), MappingProxyType(by_pk))

    return config.remembered(f"live-sections:{site.pk if site else ''}:{get_script_prefix()}", load)
