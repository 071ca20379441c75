"""What a feed says about each article: its item, full text and pictures, in every format alike.

`build_items` turns the articles of a feed (read by `load_articles` as plain rows, in bulk) into
FeedItems, which masthead.distribution.feed_writers writes as RSS, Atom or JSON Feed. Full-text
bodies are rendered from the StreamField's raw data with every linked page and every inline
picture of all the articles fetched in one query each (`render_bodies`).
"""

from __future__ import annotations

import html
import mimetypes
import re
from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from django.db.models import Prefetch
from django.http import HttpRequest
from django.utils.html import escape, format_html, linebreaks, strip_tags
from django.utils.safestring import mark_safe
from wagtail.images import get_image_model
from wagtail.images.models import Filter
from wagtail.rich_text import expand_db_html

from masthead.caching import keys as surrogate
from masthead.caching.prepared import Prepared
from masthead.news import cards, queries, renditions
from masthead.news.models import ArticleTag, SectionPage, author_url

if TYPE_CHECKING:
    from .feeds import FeedScope

# Lead pictures and inline pictures: the width the article page itself offers largest, so the
# rendition usually exists already. Wagtail never upscales, so small originals stay small.
FEED_IMAGE = "width-1200"
FEED_FILTER = Filter(spec=FEED_IMAGE)
SUMMARY_WORDS = 55


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


@dataclass
class FeedLists:
    """An item's authors, tags and further sections, as the feed writes them: plain values read
    as rows, since fifty articles' bylines, tags and sections as model instances were a third
    of a feed's render time."""

    authors: list[tuple[str, str]] = field(default_factory=list)  # (name, author page path)
    tags: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)  # further sections, by title


# An article's tags and further sections as feed_lists reads them (its bylines as a card's),
# each query compiled once (masthead.caching.prepared).
_tags_of = Prepared(
    "feeds:tags",
    lambda pks: ArticleTag.objects.filter(content_object_id__in=pks)
    .order_by("pk")
    .values_list("content_object_id", "tag_id", "tag__name"),
)
_further_sections_of = Prepared(
    "feeds:further-sections",
    lambda pks: SectionPage.objects.live()
    .filter(further_articles__in=pks)
    .order_by("title", "pk")
    .values_list("further_articles", "pk", "title"),
)


def feed_lists(pks: list[int]) -> dict[int, FeedLists]:
    """The FeedLists of these articles, in three queries, with the surrogate keys of the
    authors, tags and sections named (the feed changes when one is renamed)."""
    lists = {pk: FeedLists() for pk in pks}
    keys: set[str] = set()
    for pk, author_id, name, slug in cards.bylines_of(pks):
        lists[pk].authors.append((name, author_url(slug)))
        keys.add(surrogate.author_name(author_id))
    for pk, tag_id, name in _tags_of(pks):
        lists[pk].tags.append(name)
        keys.add(surrogate.tag_name(tag_id))
    for pk, section_id, title in _further_sections_of(pks):
        lists[pk].sections.append(title)
        keys.add(surrogate.section_name(section_id))
    surrogate.add(*keys)
    return lists


@dataclass(slots=True)
class FeedArticle:
    """A story as a feed reads it: plain columns, where fifty page models (forty fields each,
    with modelcluster's machinery) cost a feed more than running all its queries."""

    pk: int
    title: str
    url_path: str
    path: str
    standfirst: str
    body: Any  # a StreamValue, read only through its raw_data
    translation_key: Any
    first_published_at: datetime
    last_published_at: datetime | None
    lead_image_caption: str
    lead_image_credit: str
    lead_image: Any = None  # a Wagtail image with its renditions loaded, or None
    section: Any = None  # its primary section, a news.cards.Link
    feed_lists: FeedLists = field(default_factory=FeedLists)


# The columns read: FeedArticle's fields without a default, in its order.
_ARTICLE_COLUMNS = tuple(
    f.name for f in fields(FeedArticle) if f.default is MISSING and f.default_factory is MISSING
)
_feed_rows = Prepared(
    "feeds:articles",
    lambda pks: queries.published_articles()
    .filter(pk__in=pks)
    .order_by()
    .values_list(*_ARTICLE_COLUMNS, *cards.lead_image_fields(), named=True),
)


def load_articles(request: HttpRequest, ids: list[int]) -> list[FeedArticle]:
    """The live, public articles among these ids, in that order, with their primary sections,
    lead images (renditions loaded) and FeedLists. The ids are a FeedVersion's, read from the
    feed's scope in the same request, so the scope (this site, this section) is not asked again."""
    if not ids:
        return []
    rows = {row.pk: row for row in _feed_rows(ids)}
    articles = [
        FeedArticle(*rows[pk][: len(_ARTICLE_COLUMNS)], lead_image=cards.lead_image_from(rows[pk]))
        for pk in ids
        if pk in rows
    ]
    renditions.load([article.lead_image for article in articles if article.lead_image is not None])
    cards.attach_primary_sections(articles, request)
    surrogate.add_articles(articles)
    lists = feed_lists([article.pk for article in articles])
    for article in articles:
        article.feed_lists = lists[article.pk]
    return articles


def image_for_feed(
    image, alt: str = "", caption: str = "", credit: str = "", base_url: str = ""
) -> FeedImage | None:
    """The feed rendition of a picture, with its byte length for the enclosure."""
    from wagtail.images.models import SourceImageIOError

    try:
        fetched = renditions.prefetched(image, [FEED_FILTER]) or {}
        rendition = fetched.get(FEED_IMAGE) or image.get_rendition(FEED_IMAGE)
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
# No "\b" in front: a pattern opening on a word boundary is tried at every character, and scanned a
# feed's 200 KB of bodies at 2.5 times the cost of the plain one (the boundary is checked per match).
_URL_ATTR = re.compile(r'(href|src)="([^"]*)"')


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
    if 'href="' not in fragment and 'src="' not in fragment:  # most bodies: one fast look, no scan
        return fragment

    def absolute(match: re.Match) -> str:
        before = fragment[match.start() - 1] if match.start() else " "
        if before.isalnum() or before == "_":  # the end of another name ("xhref"): not a URL
            return match.group(0)
        return f'{match.group(1)}="{escape(urljoin(base, html.unescape(match.group(2))))}"'

    return _URL_ATTR.sub(absolute, fragment)


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
    # Wagtail's get_full_url, from the URL cards remember: relative on this site, else absolute.
    site_root = scope.base_url + "/"
    urls = {article.pk: urljoin(site_root, cards.page_url(article.url_path, request)) for article in articles}
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
        lists = article.feed_lists
        tags = sorted(lists.tags, key=str.casefold)
        sections = [article.section.title] if article.section else []
        sections += lists.sections
        items.append(
            FeedItem(
                id=f"urn:uuid:{article.translation_key}",
                url=urls[article.pk],
                title=article.title,
                summary=summary,
                content_html=content,
                published=article.first_published_at,
                updated=article.last_published_at or article.first_published_at,
                authors=[(name, scope.base_url + path) for name, path in lists.authors],
                categories=list(dict.fromkeys(sections + tags)),
                image=lead or None,
            )
        )
    return items

