"""Feeds: RSS 2.0, Atom and JSON Feed 1.1 for the site and for each section, author and tag.

A feed is a *scope* (which articles, under what title) written in one of three *formats*. Every
scope has every format, and one code path builds the items, so the formats never drift apart:

* this module: the scopes, the feed's version for conditional GETs, and `render_feed`;
* feed_items.py: each article as a FeedItem (summary or full text, pictures);
* feed_writers.py: the RSS, Atom and JSON Feed output.

Cost. A feed costs a fixed number of queries whatever it holds: the 50 newest articles are read
as plain rows (`feed_items.load_articles`, no page models) with their bylines, tags, sections
and lead image renditions fetched in bulk; the full-text bodies are rendered from the
StreamField's raw data with every linked page and every inline picture of all 50 bodies fetched
in one query each (`feed_items.render_bodies`). Before any of that, `FeedVersion` answers
conditional GETs from two small queries (see views.py).

Identity. An item's id (RSS <guid isPermaLink="false">, Atom <id>, JSON Feed "id") is
`urn:uuid:<the page's translation_key>`: a UUID Wagtail gives each page when it is created and
keeps through slug changes, moves to another section, republishing and a change of the site's
host name, so readers never see an edited story twice. (A copied page gets a new key; with
Wagtail's i18n switched on, translations of a page would share one: masthead runs it off.)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from urllib.parse import unquote, urljoin

from django.conf import settings as django_settings
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.urls import reverse
from taggit.models import Tag
from wagtail.models import Page, PageLogEntry, Site

from masthead.links import mounted
from masthead.news import queries
from masthead.news.models import Author, SectionPage, tag_url

from .feed_items import build_items, load_articles
from .feed_writers import write_json, write_xml
from .models import PublicationSettings

ITEMS_PER_FEED = 50
FORMATS = ("rss", "atom", "json")
FORMAT_NAMES = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}
MEDIA_TYPES = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "json": "application/feed+json",
}
# Page log actions that take an article out of a feed or change its address without a new
# publish (which would move its last_published_at): the feeds' Last-Modified must move on too.
STRUCTURAL_ACTIONS = (
    "wagtail.unpublish",
    "wagtail.delete",
    "wagtail.move",
    "wagtail.view_restriction.create",
    "wagtail.view_restriction.edit",
    "wagtail.view_restriction.delete",
)


# --- scopes -------------------------------------------------------------------------------------


@dataclass
class FeedScope:
    """Which articles a feed carries and how it presents itself."""

    kind: str  # "site", "section", "author" or "tag"
    key: str  # "" for the site, else the section path or the author's or tag's slug
    title: str
    link: str  # the HTML page the feed mirrors, absolute
    description: str
    articles: QuerySet  # newest first
    base_url: str  # the site's root URL, e.g. "https://news.example"
    site_name: str
    settings: PublicationSettings

    def url(self, fmt: str) -> str:
        return feed_path(self.kind, self.key, fmt)

    def absolute_url(self, fmt: str) -> str:
        return self.base_url + self.url(fmt)


def feed_path(kind: str, key: str, fmt: str, where: tuple[str, str] | None = None) -> str:
    """The path of a feed, e.g. /feeds/rss/ or /feeds/sections/world/middle-east/atom/.
    `where` is `masthead.links.mounted()` when the caller names several feeds at once."""
    return _feed_path(*(where or mounted()), kind, key, fmt)


@lru_cache(maxsize=4096)
def _feed_path(prefix: str, urlconf: str, kind: str, key: str, fmt: str) -> str:
    """Every page's <head> names the site's three feeds: a reverse() each, on every uncached
    page, for paths that change only with the mount point (the script prefix) and the URLconf,
    both part of the key, as for the menu's links."""
    if kind == "site":
        return reverse("distribution:feed", args=[fmt], urlconf=urlconf)
    return reverse(f"distribution:{kind}_feed", args=[key, fmt], urlconf=urlconf)


def current_site(request: HttpRequest) -> Site:
    site = Site.find_for_request(request)
    if site is None:
        raise Http404("No site is configured")
    return site


def _scope(
    request: HttpRequest,
    kind: str,
    key: str,
    *,
    name: str,
    link: str,
    description: str | None,
    articles: QuerySet,
) -> FeedScope:
    """A scope of the request's site. `name` is what the feed is of ("" for the whole site), `link`
    the page it mirrors (a path or an absolute URL), and a `description` of None takes the
    publication's own."""
    site = current_site(request)
    site_name = django_settings.WAGTAIL_SITE_NAME
    settings = PublicationSettings.for_site(site)
    if description is None:
        description = settings.description or f"News from {site_name}."
    return FeedScope(
        kind=kind,
        key=key,
        title=f"{site_name}: {name}" if name else site_name,
        link=urljoin(site.root_url + "/", link),
        description=description,
        articles=articles.filter(path__startswith=site.root_page.path),  # this site's only
        base_url=site.root_url,
        site_name=site_name,
        settings=settings,
    )


def _first_or_404(queryset: QuerySet, message: str):
    found = queryset.first()
    if found is None:
        raise Http404(message)
    return found


def site_scope(request: HttpRequest) -> FeedScope:
    return _scope(
        request, "site", "", name="", link="/", description=None, articles=queries.published_articles()
    )


def section_from_path(request: HttpRequest, section_path: str) -> SectionPage:
    """The live, public section at /<section_path>/ of the current site (404 otherwise)."""
    site = current_site(request)
    slugs = [part for part in section_path.strip("/").split("/") if part]
    if not slugs:
        raise Http404("No section given")
    root_path = site.root_page.url_path  # e.g. "/home/"
    sections = SectionPage.objects.live().public()
    return _first_or_404(
        sections.filter(slug=slugs[-1], url_path=root_path + "/".join(slugs) + "/"), "No such section"
    )


def section_key(section: Page, request: HttpRequest | None = None) -> str:
    """A section's path below the site root without slashes at the ends: "world/middle-east",
    as text ("café", not Wagtail's percent-encoded "caf%C3%A9", which the feed URLs' pattern
    refuses: reverse() encodes it itself)."""
    parts = section.get_url_parts(request)
    if parts and parts[2]:
        return unquote(parts[2]).strip("/")
    return section.url_path.strip("/").split("/", 1)[-1]


def section_scope(request: HttpRequest, section_path: str) -> FeedScope:
    section = section_from_path(request, section_path)
    site_name = django_settings.WAGTAIL_SITE_NAME
    return _scope(
        request,
        "section",
        section_key(section, request),
        name=section.title,
        link=section.get_full_url(request),
        description=section.intro or f"The latest {section.title} stories from {site_name}.",
        articles=queries.section_articles(section),
    )


def author_scope(request: HttpRequest, slug: str) -> FeedScope:
    author = _first_or_404(Author.objects.filter(slug=slug), "No such author")
    site_name = django_settings.WAGTAIL_SITE_NAME
    return _scope(
        request,
        "author",
        author.slug,
        name=author.name,
        link=author.get_absolute_url(),
        description=author.bio or f"Stories by {author.name} for {site_name}.",
        articles=queries.author_articles(author),
    )


def tag_scope(request: HttpRequest, slug: str) -> FeedScope:
    tag = _first_or_404(Tag.objects.filter(slug=slug), "No such tag")
    return _scope(
        request,
        "tag",
        tag.slug,
        name=tag.name,
        link=tag_url(tag.slug),
        description=f"Stories about {tag.name} from {django_settings.WAGTAIL_SITE_NAME}.",
        articles=queries.tag_articles(tag),
    )


SCOPES = {"site": site_scope, "section": section_scope, "author": author_scope, "tag": tag_scope}


# --- conditional GET ---------------------------------------------------------------------------


@dataclass
class FeedVersion:
    """What a feed's validators are computed from, read in three small queries.

    `rows` are (id, last_published_at) of the articles the feed holds now: publishing,
    republishing and unpublishing any of them changes the ETag. `changed_at` is the newest
    unpublish, delete, move or privacy change of any page, which alter a feed without moving
    any of its articles' last_published_at; it keeps Last-Modified from going back in time when
    the newest article is withdrawn. Last-Modified also moves with the newest publish anywhere
    (a republish can take a story out of a feed), so readers sending only If-Modified-Since
    fetch a feed again after any publish; the ETag does not move with it. Renaming an author or
    a tag shows in the feed's ETag at the next publish in it; changing the publication settings
    changes the ETag at once.
    """

    ids: list[int]
    etag: str
    last_modified: datetime | None


def feed_version(scope: FeedScope, fmt: str) -> FeedVersion:
    rows = list(scope.articles.values_list("pk", "last_published_at")[:ITEMS_PER_FEED])
    changed_at = _newest_log_entry(STRUCTURAL_ACTIONS)
    # A republish can take the newest story out of a feed (its tag or byline removed), and the
    # stories left are older: Last-Modified must not go back, or a reader asking "changed since"
    # the old date would be told no. The newest publish anywhere bounds every such change. It
    # dates Last-Modified only: the ETag, which most readers send, stays put until this feed's
    # own stories change.
    published_at = _newest_log_entry(("wagtail.publish",))
    moments = [moment for _, moment in rows if moment] + [m for m in (changed_at, published_at) if m]
    last_modified = max(moments) if moments else None
    identity = [
        "masthead-feed-1",
        scope.kind,
        scope.key,
        fmt,
        scope.base_url,
        scope.title,
        scope.description,
        scope.settings.feed_full_text,
        [(pk, moment.isoformat() if moment else None) for pk, moment in rows],
        changed_at.isoformat() if changed_at else None,
    ]
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:32]
    return FeedVersion(ids=[pk for pk, _ in rows], etag=f'W/"{digest}"', last_modified=last_modified)


def _newest_log_entry(actions: tuple[str, ...]) -> datetime | None:
    return (
        PageLogEntry.objects.filter(action__in=actions).order_by("-timestamp").values_list("timestamp", flat=True).first()
    )


def render_feed(request: HttpRequest, scope: FeedScope, fmt: str, version: FeedVersion) -> bytes:
    items = build_items(request, scope, load_articles(request, version.ids))
    if fmt == "json":
        return write_json(scope, items)
    return write_xml(fmt, scope, items, version.last_modified)
