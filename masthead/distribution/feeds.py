"""Feeds: RSS 2.0 and Atom for the site and for each section, author and tag; JSON Feed 1.1 too.

A feed is a *scope* (which articles, under what title) written in one of three *formats*. Every
scope has every format, and one code path builds the items, so the formats never drift apart.

Cost. A feed costs a fixed number of queries whatever it holds: the 50 newest articles are read
through masthead.news.queries with their bylines, tags, sections and lead image renditions
fetched in bulk; the full-text bodies are rendered from the StreamField's raw data with every
linked page and every inline picture of all 50 bodies fetched in one query each
(`render_bodies`). Before any of that, `FeedVersion` answers conditional GETs from two small
queries (see views.py).

Identity. An item's id (RSS <guid isPermaLink="false">, Atom <id>, JSON Feed "id") is
`urn:uuid:<the page's translation_key>`: a UUID Wagtail gives each page when it is created and
keeps through slug changes, moves to another section, republishing and a change of the site's
host name, so readers never see an edited story twice. (A copied page gets a new key; with
Wagtail's i18n switched on, translations of a page would share one: masthead runs it off.)
"""

from __future__ import annotations

import hashlib
import html
import json
import mimetypes
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin

from django.conf import settings as django_settings
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils import feedgenerator, timezone
from django.utils.html import escape, format_html, linebreaks, strip_tags
from django.utils.safestring import mark_safe
from taggit.models import Tag
from wagtail.images import get_image_model
from wagtail.models import Page, PageLogEntry, Site
from wagtail.rich_text import expand_db_html

from masthead.news import queries
from masthead.news.models import ArticleByline, ArticleTag, Author, SectionPage

from .models import PublicationSettings

ITEMS_PER_FEED = 50
# Lead pictures and inline pictures: the width the article page itself offers largest, so the
# rendition usually exists already. Wagtail never upscales, so small originals stay small.
FEED_IMAGE = "width-1200"
SUMMARY_WORDS = 55
FORMATS = ("rss", "atom", "json")
FORMAT_NAMES = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}
MEDIA_TYPES = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "json": "application/feed+json",
}
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
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
NS_CONTENT = "http://purl.org/rss/1.0/modules/content/"
NS_DC = "http://purl.org/dc/elements/1.1/"
NS_MEDIA = "http://search.yahoo.com/mrss/"


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


def feed_path(kind: str, key: str, fmt: str) -> str:
    """The path of a feed, e.g. /feeds/rss/ or /feeds/sections/world/middle-east/atom/."""
    if kind == "site":
        return reverse("distribution:feed", args=[fmt])
    return reverse(f"distribution:{kind}_feed", args=[key, fmt])


def current_site(request: HttpRequest) -> Site:
    site = Site.find_for_request(request)
    if site is None:
        raise Http404("No site is configured")
    return site


def _scope(request, **fields) -> FeedScope:
    site = current_site(request)
    return FeedScope(
        base_url=site.root_url,
        site_name=django_settings.WAGTAIL_SITE_NAME,
        settings=PublicationSettings.for_site(site),
        **fields,
    )


def site_scope(request: HttpRequest) -> FeedScope:
    site = current_site(request)
    scope = _scope(
        request,
        kind="site",
        key="",
        title=django_settings.WAGTAIL_SITE_NAME,
        link=site.root_url + "/",
        description="",
        articles=queries.published_articles(),
    )
    scope.description = scope.settings.description or f"News from {scope.site_name}."
    return scope


def section_from_path(request: HttpRequest, section_path: str) -> SectionPage:
    """The live, public section at /<section_path>/ of the current site (404 otherwise)."""
    site = current_site(request)
    slugs = [part for part in section_path.strip("/").split("/") if part]
    if not slugs:
        raise Http404("No section given")
    root_path = site.root_page.url_path  # e.g. "/home/"
    section = (
        SectionPage.objects.live()
        .public()
        .filter(slug=slugs[-1], url_path=root_path + "/".join(slugs) + "/")
        .first()
    )
    if section is None:
        raise Http404("No such section")
    return section


def section_key(section: Page, request: HttpRequest | None = None) -> str:
    """A section's path below the site root without slashes at the ends: "world/middle-east"."""
    parts = section.get_url_parts(request)
    if parts and parts[2]:
        return parts[2].strip("/")
    return section.url_path.strip("/").split("/", 1)[-1]


def section_scope(request: HttpRequest, section_path: str) -> FeedScope:
    section = section_from_path(request, section_path)
    return _scope(
        request,
        kind="section",
        key=section_key(section, request),
        title=f"{django_settings.WAGTAIL_SITE_NAME}: {section.title}",
        link=section.get_full_url(request),
        description=section.intro
        or f"The latest {section.title} stories from {django_settings.WAGTAIL_SITE_NAME}.",
        articles=queries.section_articles(section),
    )


def author_scope(request: HttpRequest, slug: str) -> FeedScope:
    author = Author.objects.filter(slug=slug).first()
    if author is None:
        raise Http404("No such author")
    site = current_site(request)
    return _scope(
        request,
        kind="author",
        key=author.slug,
        title=f"{django_settings.WAGTAIL_SITE_NAME}: {author.name}",
        link=site.root_url + author.get_absolute_url(),
        description=author.bio or f"Stories by {author.name} for {django_settings.WAGTAIL_SITE_NAME}.",
        articles=queries.author_articles(author),
    )


def tag_scope(request: HttpRequest, slug: str) -> FeedScope:
    tag = Tag.objects.filter(slug=slug).first()
    if tag is None:
        raise Http404("No such tag")
    site = current_site(request)
    return _scope(
        request,
        kind="tag",
        key=tag.slug,
        title=f"{django_settings.WAGTAIL_SITE_NAME}: {tag.name}",
        link=site.root_url + reverse("news:tag", args=[tag.slug]),
        description=f"Stories about {tag.name} from {django_settings.WAGTAIL_SITE_NAME}.",
        articles=queries.tag_articles(tag),
    )


# --- conditional GET ---------------------------------------------------------------------------


@dataclass
class FeedVersion:
    """What a feed's validators are computed from, read in two small queries.

    `rows` are (id, last_published_at) of the articles the feed holds now: publishing,
    republishing and unpublishing any of them changes the ETag. `changed_at` is the newest
    unpublish, delete, move or privacy change of any page, which alter a feed without moving
    any of its articles' last_published_at; it keeps Last-Modified from going back in time when
    the newest article is withdrawn. Renaming an author or a tag shows in the feed at the next
    publish in it; changing the publication settings changes the ETag at once.
    """

    ids: list[int]
    etag: str
    last_modified: datetime | None


def feed_version(scope: FeedScope, fmt: str) -> FeedVersion:
    rows = list(scope.articles.values_list("pk", "last_published_at")[:ITEMS_PER_FEED])
    changed_at = (
        PageLogEntry.objects.filter(action__in=STRUCTURAL_ACTIONS)
        .order_by("-timestamp")
        .values_list("timestamp", flat=True)
        .first()
    )
    moments = [moment for _, moment in rows if moment] + ([changed_at] if changed_at else [])
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


# --- items -------------------------------------------------------------------------------------


@dataclass
class FeedImage:
    url: str
    length: int
    mime_type: str
    width: int
    height: int
    alt: str
    caption: str = ""
    credit: str = ""


@dataclass
class FeedItem:
    id: str
    url: str
    title: str
    summary: str  # plain text
    content_html: str | None  # None unless the publication sends full text
    published: datetime
    updated: datetime
    authors: list[tuple[str, str]]  # (name, absolute URL of the author page)
    categories: list[str]
    image: FeedImage | None = None


def with_feed_data(queryset: QuerySet) -> QuerySet:
    """Everything an item shows, fetched in bulk: bylines, tags, further sections, lead image."""
    Rendition = get_image_model().get_rendition_model()
    return queryset.select_related("lead_image").prefetch_related(
        Prefetch("bylines", queryset=ArticleByline.objects.select_related("author").order_by("sort_order")),
        Prefetch("tagged_items", queryset=ArticleTag.objects.select_related("tag")),
        Prefetch(
            "additional_sections",
            queryset=SectionPage.objects.live().order_by("title").only("pk", "title", "live"),
        ),
        Prefetch("lead_image__renditions", queryset=Rendition.objects.filter(filter_spec=FEED_IMAGE)),
    )


def load_articles(scope: FeedScope, ids: list[int]) -> list:
    """The articles with these ids (a FeedVersion's), in that order, with their feed data."""
    if not ids:
        return []
    loaded = {article.pk: article for article in with_feed_data(scope.articles.filter(pk__in=ids))}
    return queries.attach_sections(loaded[pk] for pk in ids if pk in loaded)


def image_for_feed(
    image, alt: str = "", caption: str = "", credit: str = "", base_url: str = ""
) -> FeedImage | None:
    """The feed rendition of a picture, with its byte length for the enclosure."""
    from wagtail.images.models import SourceImageIOError

    try:
        rendition = image.get_rendition(FEED_IMAGE)
    except (SourceImageIOError, OSError):
        return None  # the original file is missing: better no picture than a broken feed
    try:
        length = rendition.file.size
    except OSError:
        length = 0
    mime_type = mimetypes.guess_type(rendition.file.name)[0] or "image/jpeg"
    return FeedImage(
        url=urljoin(base_url + "/", rendition.url),
        length=length,
        mime_type=mime_type,
        width=rendition.width,
        height=rendition.height,
        alt=alt or image.default_alt_text or "",
        caption=caption,
        credit=credit,
    )


def summary_of(article) -> str:
    """The standfirst, or else the opening words of the body, as plain text."""
    if article.standfirst.strip():
        return " ".join(article.standfirst.split())
    words: list[str] = []
    for block in article.body.raw_data:
        if block["type"] == "paragraph":
            words += html.unescape(strip_tags(block["value"] or "")).split()
        elif block["type"] == "subhead":
            continue
        if len(words) > SUMMARY_WORDS:
            return " ".join(words[:SUMMARY_WORDS]) + "…"
    return " ".join(words)


_SPLIT = "\x00"  # never in stored rich text (PostgreSQL's jsonb refuses it)
_URL_ATTR = re.compile(r'\b(href|src)="([^"]*)"')


def _expand_rich_texts(sources: list[str]) -> list[str]:
    """Rich text as front-end HTML. All the sources are expanded in one pass, so every page or
    document they link to is fetched in one query per link type, not one per paragraph."""
    if not sources:
        return []
    expanded = expand_db_html(_SPLIT.join(sources)).split(_SPLIT)
    if len(expanded) != len(sources):  # a source held the separator after all
        expanded = [expand_db_html(source) for source in sources]
    return expanded


def absolutize(fragment: str, base: str) -> str:
    """Make every href and src in an HTML fragment absolute, relative to `base`."""
    return _URL_ATTR.sub(
        lambda m: f'{m.group(1)}="{escape(urljoin(base, html.unescape(m.group(2))))}"', fragment
    )


def render_bodies(articles: list, base_url: str, urls: dict[int, str]) -> dict[int, str]:
    """Each article's standfirst and body as self-contained HTML for feed readers: plain
    elements, no classes or srcset, one rendition per picture, every URL absolute."""
    rich_sources: list[str] = []
    image_ids: set[int] = set()
    blocks_by_article: dict[int, list[dict]] = {}
    for article in articles:
        blocks = list(article.body.raw_data)
        blocks_by_article[article.pk] = blocks
        for block in blocks:
            if block["type"] == "paragraph":
                rich_sources.append(block["value"] or "")
            elif block["type"] == "image" and (block["value"] or {}).get("image"):
                image_ids.add(block["value"]["image"])
    expanded = iter(_expand_rich_texts(rich_sources))
    Rendition = get_image_model().get_rendition_model()
    images = (
        get_image_model()
        .objects.filter(pk__in=image_ids)
        .prefetch_related(Prefetch("renditions", queryset=Rendition.objects.filter(filter_spec=FEED_IMAGE)))
        .in_bulk()
        if image_ids
        else {}
    )

    bodies: dict[int, str] = {}
    for article in articles:
        parts: list[str] = []
        if article.standfirst.strip():
            parts.append(format_html("<p><strong>{}</strong></p>", " ".join(article.standfirst.split())))
        for block in blocks_by_article[article.pk]:
            kind, value = block["type"], block["value"]
            if kind == "paragraph":
                parts.append(next(expanded))
            elif kind == "subhead":
                parts.append(format_html("<h2>{}</h2>", value))
            elif kind == "quote":
                attribution = value.get("attribution") or ""
                parts.append(
                    format_html(
                        "<blockquote>{}{}</blockquote>",
                        mark_safe(linebreaks(value.get("quote") or "", autoescape=True)),
                        format_html("<p>— {}</p>", attribution) if attribution else "",
                    )
                )
            elif kind == "image":
                image = images.get(value.get("image"))
                picture = image and image_for_feed(
                    image,
                    value.get("alt_text") or "",
                    value.get("caption") or "",
                    value.get("credit") or "",
                    base_url,
                )
                if picture:
                    parts.append(_figure(picture))
            elif kind == "embed":
                caption = value.get("caption") or ""
                parts.append(
                    format_html(
                        '<p><a href="{}">{}</a>{}</p>',
                        value.get("url") or "",
                        value.get("title") or value.get("url") or "",
                        format_html("<br>{}", caption) if caption else "",
                    )
                )
            # Any other block type is left out rather than rendered with site-only markup.
        bodies[article.pk] = absolutize("\n".join(str(part) for part in parts), urls[article.pk])
    return bodies


def _figure(picture: FeedImage) -> str:
    caption = " ".join(part for part in (picture.caption, picture.credit) if part)
    return format_html(
        '<figure><img src="{}" width="{}" height="{}" alt="{}">{}</figure>',
        picture.url,
        picture.width,
        picture.height,
        picture.alt,
        format_html("<figcaption>{}</figcaption>", caption) if caption else "",
    )


def build_items(request: HttpRequest, scope: FeedScope, articles: list) -> list[FeedItem]:
    full_text = scope.settings.feed_full_text
    urls = {article.pk: article.get_full_url(request) for article in articles}
    bodies = render_bodies(articles, scope.base_url, urls) if full_text else {}
    items = []
    for article in articles:
        lead = article.lead_image and image_for_feed(
            article.lead_image,
            caption=article.lead_image_caption,
            credit=article.lead_image_credit,
            base_url=scope.base_url,
        )
        summary = summary_of(article) or article.title  # never empty, even for a bare headline
        content = bodies.get(article.pk)
        if content is not None:
            content = content or str(format_html("<p>{}</p>", summary))
            if lead:
                content = _figure(lead) + "\n" + content
        tags = sorted((item.tag.name for item in article.tagged_items.all()), key=str.casefold)
        sections = [article.section.title] if getattr(article, "section", None) else []
        sections += [section.title for section in article.additional_sections.all()]
        items.append(
            FeedItem(
                id=f"urn:uuid:{article.translation_key}",
                url=urls[article.pk],
                title=article.title,
                summary=summary,
                content_html=content,
                published=article.first_published_at,
                updated=article.last_published_at or article.first_published_at,
                authors=[
                    (byline.author.name, scope.base_url + byline.author.get_absolute_url())
                    for byline in article.bylines.all()
                ],
                categories=list(dict.fromkeys(sections + tags)),
                image=lead or None,
            )
        )
    return items


# --- writers -------------------------------------------------------------------------------------


class _LatestDateMixin:
    """With no items, Django dates a feed "now"; date it from the feed's version instead, so the
    same feed is the same bytes (and matches its ETag)."""

    def latest_post_date(self):
        if self.items:
            return super().latest_post_date()
        return self.feed.get("fallback_date") or datetime(2000, 1, 1, tzinfo=UTC)


class MastheadRssFeed(_LatestDateMixin, feedgenerator.Rss201rev2Feed):
    """RSS 2.0 with content:encoded (full text), dc:creator (one per author) and media:content."""

    def rss_attributes(self):
        attrs = super().rss_attributes()
        attrs.update({"xmlns:content": NS_CONTENT, "xmlns:dc": NS_DC, "xmlns:media": NS_MEDIA})
        return attrs

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        for name, _url in item["authors"]:
            handler.addQuickElement("dc:creator", name)
        if item["content_html"] is not None:
            handler.addQuickElement("content:encoded", item["content_html"])
        image: FeedImage | None = item["image"]
        if image:
            handler.startElement(
                "media:content",
                {
                    "url": image.url,
                    "type": image.mime_type,
                    "medium": "image",
                    "fileSize": str(image.length),
                    "width": str(image.width),
                    "height": str(image.height),
                },
            )
            if image.alt:
                handler.addQuickElement("media:description", image.alt, {"type": "plain"})
            if image.credit:
                handler.addQuickElement("media:credit", image.credit)
            handler.endElement("media:content")


class MastheadAtomFeed(_LatestDateMixin, feedgenerator.Atom1Feed):
    """Atom (RFC 4287) with one <author> per byline and <content type="html"> for full text."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        for name, url in item["authors"]:
            handler.startElement("author", {})
            handler.addQuickElement("name", name)
            handler.addQuickElement("uri", url)
            handler.endElement("author")
        if item["content_html"] is not None:
            handler.addQuickElement("content", item["content_html"], {"type": "html"})


def _feed_language() -> str:
    return django_settings.LANGUAGE_CODE


def write_xml(fmt: str, scope: FeedScope, items: list[FeedItem], fallback_date: datetime | None) -> bytes:
    generator_class = MastheadRssFeed if fmt == "rss" else MastheadAtomFeed
    feed = generator_class(
        title=scope.title,
        link=scope.link,
        description=scope.description,
        subtitle=scope.description,
        language=_feed_language(),
        author_name=scope.site_name,
        feed_url=scope.absolute_url(fmt),
        feed_guid=scope.absolute_url(fmt),
        fallback_date=fallback_date,
    )
    for item in items:
        feed.add_item(
            title=item.title,
            link=item.url,
            # RSS <description> and Atom <summary type="html"> hold HTML: escape the plain text.
            description=html.escape(item.summary, quote=False),
            pubdate=item.published,
            updateddate=item.updated,
            unique_id=item.id,
            unique_id_is_permalink=False,
            categories=item.categories,
            enclosures=[feedgenerator.Enclosure(item.image.url, str(item.image.length), item.image.mime_type)]
            if item.image
            else None,
            # Our own keys, written by the subclasses above.
            authors=item.authors,
            content_html=item.content_html,
            image=item.image,
        )
    return feed.writeString("utf-8").encode("utf-8")


def rfc3339(moment: datetime) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds")


def write_json(scope: FeedScope, items: list[FeedItem]) -> bytes:
    """JSON Feed 1.1 (https://jsonfeed.org/version/1.1)."""
    feed = {
        "version": JSON_FEED_VERSION,
        "title": scope.title,
        "home_page_url": scope.link,
        "feed_url": scope.absolute_url("json"),
        "description": scope.description,
        "language": _feed_language(),
        "authors": [{"name": scope.site_name, "url": scope.base_url + "/"}],
        "items": [],
    }
    for item in items:
        entry: dict = {"id": item.id, "url": item.url, "title": item.title}
        if item.content_html is not None:
            entry["content_html"] = item.content_html
        else:
            entry["content_text"] = item.summary
        entry["summary"] = item.summary
        if item.image:
            entry["image"] = item.image.url
        entry["date_published"] = rfc3339(item.published)
        entry["date_modified"] = rfc3339(item.updated)
        if item.authors:
            entry["authors"] = [{"name": name, "url": url} for name, url in item.authors]
        if item.categories:
            entry["tags"] = item.categories
        feed["items"].append(entry)
    return json.dumps(feed, ensure_ascii=False, indent=1).encode("utf-8")


def render_feed(request: HttpRequest, scope: FeedScope, fmt: str, version: FeedVersion) -> bytes:
    items = build_items(request, scope, load_articles(scope, version.ids))
    if fmt == "json":
        return write_json(scope, items)
    return write_xml(fmt, scope, items, version.last_modified)


SCOPES = {"site": site_scope, "section": section_scope, "author": author_scope, "tag": tag_scope}
