"""Models to plain dicts shaped like masthead.api.schemas, field by field.

Nothing here issues a query per item: callers fetch lists with their relations in bulk (see
masthead.api.queries), and these functions only read what was fetched. URLs are absolute, built
from the request, so a client never has to know the site's address.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import nh3
from django.http import HttpRequest
from wagtail.images.models import SourceImageIOError
from wagtail.rich_text import expand_db_html

from masthead.news.models import tag_url as news_tag_url

logger = logging.getLogger(__name__)

PICTURE_RENDITION = "width-1200"  # the largest the article page shows
PHOTO_RENDITION = "fill-400x400"

PARAGRAPH_TAGS = {"p", "br", "strong", "b", "em", "i", "ul", "ol", "li", "a"}
LINK_SCHEMES = {"http", "https", "mailto"}


def absolute(request: HttpRequest, url: str) -> str:
    return request.build_absolute_uri(url)


def page_url(request: HttpRequest, page) -> str:
    # Lists are limited to the request's site, so every page has a URL on it.
    return absolute(request, page.get_url(request) or "/")


def _rendition(image, spec: str):
    try:
        return image.get_rendition(spec)
    except SourceImageIOError:  # the file is gone; the page shows nothing either
        logger.warning("Image %s has no source file", image.pk)
        return None


def photo(request: HttpRequest, image) -> dict | None:
    rendition = _rendition(image, PHOTO_RENDITION) if image is not None else None
    if rendition is None:
        return None
    return {"url": absolute(request, rendition.url), "width": rendition.width, "height": rendition.height}


def picture(
    request: HttpRequest, image, *, alt: str = "", caption: str = "", credit: str = ""
) -> dict | None:
    rendition = _rendition(image, PICTURE_RENDITION) if image is not None else None
    if rendition is None:
        return None
    return {
        "url": absolute(request, rendition.url),
        "width": rendition.width,
        "height": rendition.height,
        "alt": alt or image.default_alt_text,
        "caption": caption,
        "credit": credit,
    }


def author_ref(request: HttpRequest, author) -> dict:
    return {"name": author.name, "slug": author.slug, "url": absolute(request, author.get_absolute_url())}


def tag_url(request: HttpRequest, tag) -> str:
    return absolute(request, news_tag_url(tag.slug))


def tag_ref(request: HttpRequest, tag) -> dict:
    return {"name": tag.name, "slug": tag.slug, "url": tag_url(request, tag)}


def section_ref(request: HttpRequest, section) -> dict:
    return {"id": section.pk, "title": section.title, "slug": section.slug, "url": page_url(request, section)}


def section_detail(request: HttpRequest, section, parent_id: int | None) -> dict:
    url = page_url(request, section)
    return {
        "id": section.pk,
        "title": section.title,
        "slug": section.slug,
        "path": urlsplit(url).path,
        "url": url,
        "parent_id": parent_id,
        "intro": section.intro,
    }


def author_detail(request: HttpRequest, author) -> dict:
    return {
        "name": author.name,
        "slug": author.slug,
        "role": author.role,
        "bio": author.bio,
        "photo": photo(request, author.photo),
        "url": absolute(request, author.get_absolute_url()),
    }


def tag_detail(request: HttpRequest, tag) -> dict:
    """A tag with its count. Expects masthead.api.queries.tags(), which annotates article_count."""
    return {**tag_ref(request, tag), "article_count": tag.article_count}


def article_summary(request: HttpRequest, article) -> dict:
    """An article as lists show it. Expects masthead.api.queries.with_list_data() and attach_sections()."""
    primary = getattr(article, "section", None)
    further = sorted(article.additional_sections.all(), key=lambda section: section.title.casefold())
    tags = sorted((item.tag for item in article.tagged_items.all()), key=lambda tag: tag.name.casefold())
    image = article.lead_image
    return {
        "id": article.pk,
        "headline": article.title,
        "standfirst": article.standfirst,
        "url": page_url(request, article),
        "published_at": article.first_published_at,
        "updated_at": article.last_published_at if article.was_updated else None,
        "section": section_ref(request, primary) if primary is not None and primary.live else None,
        "further_sections": [section_ref(request, section) for section in further],
        "authors": [author_ref(request, byline.author) for byline in article.bylines.all()],
        "tags": [tag_ref(request, tag) for tag in tags],
        "lead_image": picture(
            request, image, caption=article.lead_image_caption, credit=article.lead_image_credit
        ),
        "word_count": article.word_count,
        "reading_minutes": article.reading_minutes,
        "comment_count": getattr(article, "comment_count", None) or 0,
    }


def article_detail(request: HttpRequest, article) -> dict:
    return {**article_summary(request, article), "body": body(request, article.body)}


def safe_html(request: HttpRequest, source: str) -> str:
    """Rich text as clean HTML: internal links expanded and made absolute, nothing else kept."""

    def keep(tag: str, attribute: str, value: str) -> str | None:
        if tag == "a" and attribute == "href" and value.startswith("/") and not value.startswith("//"):
            return absolute(request, value)
        return value

    return nh3.clean(
        expand_db_html(source),
        tags=PARAGRAPH_TAGS,
        attributes={"a": {"href"}},
        attribute_filter=keep,
        url_schemes=LINK_SCHEMES,
    )


def body(request: HttpRequest, stream) -> list[dict]:
    blocks: list[dict] = []
    for block in stream:
        kind, value = block.block_type, block.value
        if kind == "paragraph":
            blocks.append({"type": "paragraph", "html": safe_html(request, value.source)})
        elif kind == "subhead":
            blocks.append({"type": "subhead", "text": value})
        elif kind == "quote":
            blocks.append(
                {"type": "quote", "text": value["quote"], "attribution": value["attribution"] or ""}
            )
        elif kind == "image":
            image = picture(
                request,
                value["image"],
                alt=value["alt_text"] or "",
                caption=value["caption"] or "",
                credit=value["credit"] or "",
            )
            if image is not None:  # a deleted image leaves nothing to show
                blocks.append({"type": "image", **image})
        elif kind == "embed":
            host = urlsplit(value["url"]).hostname or ""
            blocks.append(
                {
                    "type": "embed",
                    "url": value["url"],
                    "title": value["title"],
                    "caption": value["caption"] or "",
                    "provider": host.removeprefix("www."),
                }
            )
    return blocks
