"""Sitemaps (https://www.sitemaps.org/protocol.html) and a Google News sitemap.

/sitemap.xml is an index of:

* /sitemaps/sections.xml: the home front and every section front;
* /sitemaps/articles-<n>.xml, /sitemaps/authors-<n>.xml, /sitemaps/tags-<n>.xml: numbered files
  of at most SITEMAP_LIMIT (50,000) addresses each;
* /sitemaps/news.xml: articles first published in the last 48 hours (at most 1,000).

Numbered files are ranges of database ids: file n holds the rows whose id is in
[(n-1) × SITEMAP_LIMIT, n × SITEMAP_LIMIT). So no file can hold more than the limit, a file is
read with one index range scan (never an OFFSET that walks every earlier row), and a story stays in
the same file for life, which keeps each file's <lastmod> meaningful to crawlers. Ranges with
nothing published are left out of the index: one GROUP BY query finds the ranges in use and the
newest change in each.

Every address has a <lastmod>: an article's last_published_at; for a section, an author or a tag,
the newest last_published_at among its published articles (or the section's own, if later).
Authors and tags with no published article are left out: their pages are empty.

The XML is written by hand (the format is tiny) rather than with templates, so a file of 50,000
addresses is a string join, not 50,000 template renders.

Cost. An articles file is one index range scan of at most 50,000 rows (about 2 s at 50,000 rows
on PostgreSQL, mostly Python). The index, the sections file and the authors and tags files need
whole-site aggregates (a few seconds with a million articles), so their XML is cached: the key
holds the newest publish, unpublish, delete, move or privacy change in Wagtail's page log, so
every publish shows at once, and SITEMAP_CACHE_SECONDS bounds how long a renamed author or tag
(which Wagtail logs elsewhere) can stay stale. A crawler fetching the whole set after a publish
pays for each aggregate once. The news sitemap is small and never cached.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings as django_settings
from django.core.cache import cache
from django.db.models import BigIntegerField, CharField, ExpressionWrapper, F, Max, QuerySet
from django.db.models.functions import Cast, Length, Substr
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import iri_to_uri
from django.utils.functional import cached_property
from django.utils.html import escape
from wagtail.models import Page, PageLogEntry, Site

from masthead.escaping import xml_text
from masthead.news import queries
from masthead.news.models import SectionPage

from .feeds import STRUCTURAL_ACTIONS

SITEMAP_LIMIT = 50_000  # addresses per file, the protocol's maximum
NEWS_WINDOW = timedelta(hours=48)
NEWS_LIMIT = 1_000
MAX_ID = 2**63 - 1
SITEMAP_CACHE_SECONDS = 3600
# Page log actions after which the cached sitemaps are recomputed.
CONTENT_ACTIONS = ("wagtail.publish", *STRUCTURAL_ACTIONS)

NS_SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
NS_NEWS = "http://www.google.com/schemas/sitemap-news/0.9"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


# --- where the site is --------------------------------------------------------------------------


@dataclass
class SiteBase:
    """Turns a page's url_path into its public address without a query or a reverse() per page."""

    root_url: str  # "https://news.example"
    root_url_path: str  # the home page's url_path, e.g. "/home/"
    root_tree_path: str  # the home page's treebeard path: every page of the site starts with it

    @cached_property
    def articles(self) -> QuerySet:
        """Published articles of this site, unordered. Built once per request: .public() reads
        the privacy restrictions each time it is called."""
        return queries.published_articles().filter(path__startswith=self.root_tree_path).order_by()

    def page_url(self, url_path: str) -> str:
        return self.root_url + "/" + url_path[len(self.root_url_path) :]

    def absolute(self, path: str) -> str:
        return self.root_url + path


def site_base(request: HttpRequest) -> SiteBase | None:
    site = Site.find_for_request(request)
    if site is None:
        return None
    root = site.root_page
    return SiteBase(root_url=site.root_url, root_url_path=root.url_path, root_tree_path=root.path)


def w3c_datetime(moment: datetime, zone=None) -> str:
    """`zone` (default: the current one) may be passed in by a caller writing 50,000 of these:
    looking it up per URL was a third of a large sitemap file's time."""
    return moment.astimezone(zone or timezone.get_current_timezone()).isoformat(timespec="seconds")


def _newest(*moments: datetime | None) -> datetime | None:
    present = [moment for moment in moments if moment is not None]
    return max(present) if present else None


def _bucket(field_name: str) -> ExpressionWrapper:
    # Integer division on both SQLite and PostgreSQL: the numbered file (minus one) of an id.
    return ExpressionWrapper(F(field_name) / SITEMAP_LIMIT, output_field=BigIntegerField())


def id_range(number: int) -> tuple[int, int] | None:
    """The ids file `number` covers, or None when it is out of range."""
    low = (number - 1) * SITEMAP_LIMIT
    if number < 1 or low > MAX_ID:
        return None
    return low, min(number * SITEMAP_LIMIT, MAX_ID)


# --- what is published --------------------------------------------------------------------------


def site_articles(base: SiteBase) -> QuerySet:
    return base.articles


@dataclass
class Entry:
    loc: str
    lastmod: datetime | str | None  # a str is already in W3C form


class NumberedSitemap:
    """Addresses split into id ranges. Each row of `rows()` is one published article with the
    id of what the address is for (the article, or one of its authors or tags) in `id_field`,
    so "published" keeps one definition: masthead.news.queries.published_articles()."""

    name = ""
    id_field = "pk"
    cached = True

    def rows(self, base: SiteBase) -> QuerySet:
        return site_articles(base).filter(**{f"{self.id_field}__isnull": False})

    def files(self, base: SiteBase) -> list[tuple[int, datetime | None]]:
        """(number, newest lastmod) of every file that has at least one address."""
        grouped = (
            self.rows(base)
            .annotate(bucket=_bucket(self.id_field))
            .values("bucket")
            .annotate(lastmod=Max("last_published_at"))
            .order_by("bucket")
        )
        return [(row["bucket"] + 1, row["lastmod"]) for row in grouped]

    def in_file(self, base: SiteBase, number: int) -> QuerySet | None:
        bounds = id_range(number)
        if bounds is None:
            return None
        return self.rows(base).filter(
            **{f"{self.id_field}__gte": bounds[0], f"{self.id_field}__lt": bounds[1]}
        )

    def entries(self, base: SiteBase, number: int) -> list[Entry]:
        raise NotImplementedError

    def xml(self, base: SiteBase, number: int) -> str:
        """File `number` as XML, or "" when it has no address (nor is it in the index)."""
        entries = self.entries(base, number)
        return urlset_xml(entries) if entries else ""


class ArticleSitemap(NumberedSitemap):
    name = "articles"
    cached = False  # one range scan; 50,000 addresses are too big to keep in a cache

    def addresses(self, base: SiteBase, number: int) -> Iterable[tuple[str, str | None]]:
        """(url_path, last publish as UTC text) of the file's articles, by id."""
        rows = self.in_file(base, number)
        if rows is None:
            return []
        # The times come as text: turning 50,000 of them into datetimes and back took 40% of a
        # full file's time (200,000-article scale run). Both databases give UTC here (Django
        # keeps PostgreSQL sessions in UTC and SQLite stores UTC), "YYYY-MM-DD HH:MM:SS[.ffffff]".
        return (
            rows.order_by("pk")
            .annotate(lastmod_text=Cast("last_published_at", output_field=CharField()))
            .values_list("url_path", "lastmod_text")
        )

    def entries(self, base, number):
        rows = self.addresses(base, number)
        return [Entry(base.page_url(url_path), _w3c_from_utc_text(text)) for url_path, text in rows]

    def xml(self, base, number):
        # The same lines as urlset_xml(self.entries(...)), written straight from the rows: the
        # Entry objects and per-address calls in between were most of a 50,000-address file's
        # time in Python.
        prefix, cut = base.root_url + "/", len(base.root_url_path)
        lines = [
            f"<url><loc>{_loc(prefix + url_path[cut:])}</loc>"
            + (f"<lastmod>{text[:10]}T{text[11:19]}+00:00</lastmod>" if text else "")
            + "</url>\n"
            for url_path, text in self.addresses(base, number)
        ]
        if not lines:
            return ""
        return "".join([XML_DECLARATION, f'<urlset xmlns="{NS_SITEMAP}">\n', *lines, "</urlset>\n"])


class _PerObjectSitemap(NumberedSitemap):
    """Authors or tags: one address per object, dated by its newest published article."""

    slug_field = ""
    url_name = ""

    def entries(self, base, number):
        rows = self.in_file(base, number)
        if rows is None:
            return []
        rows = (
            rows.values(self.id_field, self.slug_field)
            .annotate(lastmod=Max("last_published_at"))
            .order_by(self.id_field)
            .values_list(self.slug_field, "lastmod")
        )
        # reverse() once, not once per row.
        placeholder = "slug-placeholder"
        pattern = base.absolute(reverse(self.url_name, args=[placeholder]))
        before, after = pattern.split(placeholder)
        return [Entry(f"{before}{slug}{after}", lastmod) for slug, lastmod in rows]


class AuthorSitemap(_PerObjectSitemap):
    name = "authors"
    id_field = "bylines__author_id"
    slug_field = "bylines__author__slug"
    url_name = "news:author"


class TagSitemap(_PerObjectSitemap):
    name = "tags"
    id_field = "tagged_items__tag_id"
    slug_field = "tagged_items__tag__slug"
    url_name = "news:tag"


NUMBERED = {sitemap.name: sitemap for sitemap in (ArticleSitemap(), AuthorSitemap(), TagSitemap())}


def site_sections(base: SiteBase) -> QuerySet:
    return SectionPage.objects.live().public().filter(path__startswith=base.root_tree_path)


def section_entries(base: SiteBase) -> list[Entry]:
    """The home front and every section front; lastmod is the newest article in the section,
    below it, or listing it as a further section (what its front lists), or its own publish."""
    home = Page.objects.filter(path=base.root_tree_path).values_list("url_path", "last_published_at").first()
    sections = list(site_sections(base).order_by("path").values_list("path", "url_path", "last_published_at"))
    articles = site_articles(base)
    # The newest article per primary section (the article's parent page), in one query.
    by_parent = dict(
        articles.annotate(parent=Substr("path", 1, Length("path") - Page.steplen))
        .values("parent")
        .annotate(lastmod=Max("last_published_at"))
        .values_list("parent", "lastmod")
    )
    # ... and per further section.
    by_further = dict(
        articles.filter(additional_sections__isnull=False)
        .values("additional_sections__path")
        .annotate(lastmod=Max("last_published_at"))
        .values_list("additional_sections__path", "lastmod")
    )

    def newest_within(path: str) -> datetime | None:
        moments = [moment for parent, moment in by_parent.items() if parent.startswith(path)]
        moments += [moment for further, moment in by_further.items() if further.startswith(path)]
        return _newest(*moments)

    entries = []
    if home:
        # The home front shows the newest stories and names the sections. (A fresh install's home
        # page was never published through Wagtail: until something is, it has no date at all.)
        newest_section = _newest(*(published for _, _, published in sections))
        entries.append(
            Entry(
                base.page_url(home[0]), _newest(home[1], newest_section, newest_within(base.root_tree_path))
            )
        )
    for path, url_path, published in sections:
        entries.append(Entry(base.page_url(url_path), _newest(published, newest_within(path))))
    return entries[:SITEMAP_LIMIT]


@dataclass
class NewsEntry:
    loc: str
    lastmod: datetime | None
    published: datetime
    title: str


def news_articles(base: SiteBase) -> QuerySet:
    """Articles first published in the last 48 hours, newest first."""
    since = timezone.now() - NEWS_WINDOW
    return site_articles(base).filter(first_published_at__gte=since).order_by("-first_published_at", "-pk")


def news_entries(base: SiteBase) -> list[NewsEntry]:
    rows = news_articles(base).values_list("url_path", "last_published_at", "first_published_at", "title")[
        :NEWS_LIMIT
    ]
    return [
        NewsEntry(base.page_url(url_path), lastmod, first, title) for url_path, lastmod, first, title in rows
    ]


def index_entries(base: SiteBase) -> list[Entry]:
    """Every sitemap of the site with its newest change."""
    articles = NUMBERED["articles"].files(base)
    newest_article = _newest(*(lastmod for _, lastmod in articles))
    newest_section = site_sections(base).aggregate(newest=Max("last_published_at"))["newest"]
    newest_home = (
        Page.objects.filter(path=base.root_tree_path).values_list("last_published_at", flat=True).first()
    )
    entries = [
        Entry(
            base.absolute(reverse("distribution:sitemap_sections")),
            _newest(newest_article, newest_section, newest_home),
        )
    ]
    for name, sitemap in NUMBERED.items():
        files = articles if name == "articles" else sitemap.files(base)
        entries += [
            Entry(base.absolute(reverse("distribution:sitemap_numbered", args=[name, number])), lastmod)
            for number, lastmod in files
        ]
    news_newest = news_articles(base).aggregate(newest=Max("last_published_at"))["newest"]
    if news_newest:
        entries.append(Entry(base.absolute(reverse("distribution:sitemap_news")), news_newest))
    return entries


# --- XML -----------------------------------------------------------------------------------------


def _loc(url: str) -> str:
    # Fast path for the usual ASCII slug: nothing to percent-encode or escape. (Five substring
    # tests cost a tenth of building a set of the address's characters, 50,000 times a file.)
    if not url.isascii():
        url = iri_to_uri(url)
    if "&" in url or "<" in url or ">" in url or '"' in url or "'" in url:
        return escape(url)
    return url


def _w3c_from_utc_text(text: str | None) -> str | None:
    return f"{text[:10]}T{text[11:19]}+00:00" if text else None


def _lastmod(moment: datetime | str | None, zone=None) -> str:
    if isinstance(moment, str):
        return f"<lastmod>{moment}</lastmod>"
    return f"<lastmod>{w3c_datetime(moment, zone)}</lastmod>" if moment else ""


def urlset_xml(entries: Iterable[Entry]) -> str:
    zone = timezone.get_current_timezone()
    lines = [XML_DECLARATION, f'<urlset xmlns="{NS_SITEMAP}">\n']
    lines += [f"<url><loc>{_loc(e.loc)}</loc>{_lastmod(e.lastmod, zone)}</url>\n" for e in entries]
    lines.append("</urlset>\n")
    return "".join(lines)


def index_xml(entries: Iterable[Entry]) -> str:
    lines = [XML_DECLARATION, f'<sitemapindex xmlns="{NS_SITEMAP}">\n']
    lines += [f"<sitemap><loc>{_loc(e.loc)}</loc>{_lastmod(e.lastmod)}</sitemap>\n" for e in entries]
    lines.append("</sitemapindex>\n")
    return "".join(lines)


def news_language() -> str:
    """Google News wants an ISO 639 code ("en"), except zh-cn and zh-tw."""
    code = django_settings.LANGUAGE_CODE.lower()
    return code if code in ("zh-cn", "zh-tw") else code.split("-")[0]


def news_xml(entries: Iterable[NewsEntry]) -> str:
    publication = (
        f"<news:publication><news:name>{escape(xml_text(django_settings.WAGTAIL_SITE_NAME))}</news:name>"
        f"<news:language>{news_language()}</news:language></news:publication>"
    )
    lines = [XML_DECLARATION, f'<urlset xmlns="{NS_SITEMAP}" xmlns:news="{NS_NEWS}">\n']
    lines += [
        f"<url><loc>{_loc(e.loc)}</loc>{_lastmod(e.lastmod)}<news:news>{publication}"
        f"<news:publication_date>{w3c_datetime(e.published)}</news:publication_date>"
        f"<news:title>{escape(xml_text(e.title))}</news:title></news:news></url>\n"
        for e in entries
    ]
    lines.append("</urlset>\n")
    return "".join(lines)


# --- cache ---------------------------------------------------------------------------------------


def content_version() -> str:
    """The newest change to what the sitemaps list, from Wagtail's page log (an index lookup)."""
    newest = (
        PageLogEntry.objects.filter(action__in=CONTENT_ACTIONS)
        .order_by("-timestamp", "-pk")
        .values_list("pk", "timestamp")
        .first()
    )
    return f"{newest[0]}@{newest[1].isoformat()}" if newest else "-"


def cached_xml(name: str, base: SiteBase, build: Callable[[], str]) -> str:
    parts = ["sitemap-v1", name, SITEMAP_LIMIT, base.root_url, base.root_tree_path, content_version()]
    key = "masthead:distribution:" + hashlib.sha256(repr(parts).encode()).hexdigest()
    xml = cache.get(key)
    if xml is None:
        xml = build()
        cache.set(key, xml, SITEMAP_CACHE_SECONDS)
    return xml
