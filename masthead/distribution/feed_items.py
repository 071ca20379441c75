"""What a feed says about each article: its item, full text and pictures, in every format alike.

`build_items` turns the articles of a feed (fetched with `with_feed_data`, in bulk) into
FeedItems, which masthead.distribution.feed_writers writes as RSS, Atom or JSON Feed. Full-text
bodies are rendered from the StreamField's raw data with every linked page and every inline
picture of all the articles fetched in one query each (`render_bodies`).
"""

from __future__ import annotations

import html
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils.html import escape, format_html, linebreaks, strip_tags
from django.utils.safestring import mark_safe
from wagtail.images import get_image_model
from wagtail.images.models import Filter
from wagtail.rich_text import expand_db_html

from masthead.caching import keys as surrogate
from masthead.news import queries
from masthead.news.models import ArticleByline, ArticleTag, SectionPage, author_url
from masthead.news.renditions import prefetched

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


def with_feed_data(queryset: QuerySet) -> QuerySet:
    """The articles with their lead image and its feed rendition, fetched in bulk."""
    Rendition = get_image_model().get_rendition_model()
    return queryset.select_related("lead_image").prefetch_related(
        Prefetch("lead_image__renditions", queryset=Rendition.objects.filter(filter_spec=FEED_IMAGE)),
    )


@dataclass
class FeedLists:
    """An item's authors, tags and further sections, as the feed writes them: plain values read
    as rows, since fifty articles' bylines, tags and sections as model instances were a third
    of a feed's render time."""

    authors: list[tuple[str, str]] = field(default_factory=list)  # (name, author page path)
    tags: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)  # further sections, by title


def feed_lists(pks: list[int]) -> dict[int, FeedLists]:
    """The FeedLists of these articles, in three queries, with the surrogate keys of the
    authors, tags and sections named (the feed changes when one is renamed)."""
    lists = {pk: FeedLists() for pk in pks}
    keys: set[str] = set()
    bylines = (
        ArticleByline.objects.filter(article_id__in=pks)
        .order_by("article_id", "sort_order", "pk")
        .values_list("article_id", "author_id", "author__name", "author__slug")
    )
    for pk, author_id, name, slug in bylines:
        lists[pk].authors.append((name, author_url(slug)))
        keys.add(surrogate.author_name(author_id))
    tags = ArticleTag.objects.filter(content_object_id__in=pks).order_by("pk").values_list(
        "content_object_id", "tag_id", "tag__name"
    )
    for pk, tag_id, name in tags:
        lists[pk].tags.append(name)
        keys.add(surrogate.tag_name(tag_id))
    further = (
        SectionPage.objects.live()
        .filter(further_articles__in=pks)
        .order_by("title", "pk")
        .values_list("further_articles", "pk", "title")
    )
    for pk, section_id, title in further:
        lists[pk].sections.append(title)
        keys.add(surrogate.section_name(section_id))
    surrogate.add(*keys)
    return lists


def load_articles(scope: FeedScope, ids: list[int]) -> list:
    """The articles with these ids (a FeedVersion's), in that order, with their feed data
    (`article.feed_lists`)."""
    if not ids:
        return []
    loaded = {article.pk: article for article in with_feed_data(scope.articles.filter(pk__in=ids))}
    articles = queries.attach_sections(loaded[pk] for pk in ids if pk in loaded)
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
        rendition = (prefetched(image, [FEED_FILTER]) or {}).get(FEED_IMAGE) or image.get_rendition(FEED_IMAGE)
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
        lists = article.feed_lists
        tags = sorted(lists.tags, key=str.casefold)
        sections = [article.section.title] if getattr(article, "section", None) else []
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

