"""Feed formats: RSS 2.0, Atom (RFC 4287) and JSON Feed 1.1, written from FeedItems.

Every format is written from the same items (masthead.distribution.feed_items), so they never
drift apart. RSS and Atom go through Django's feed generator, extended with the elements below;
JSON Feed is a plain dict.
"""

from __future__ import annotations

import html
import json
from dataclasses import fields, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings as django_settings
from django.utils import feedgenerator, timezone

from masthead.escaping import xml_text

from .feed_items import FeedImage, FeedItem

if TYPE_CHECKING:
    from .feeds import FeedScope

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
NS_CONTENT = "http://purl.org/rss/1.0/modules/content/"
NS_DC = "http://purl.org/dc/elements/1.1/"
NS_MEDIA = "http://search.yahoo.com/mrss/"


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


def _xml_safe(value: Any) -> Any:
    """A feed's or an item's value with every text in it fit for XML (xml_text): Django's XML
    writer raises on a control character, and the whole feed would fail for one headline."""
    if isinstance(value, str):
        return xml_text(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_xml_safe(part) for part in value)
    if isinstance(value, dict):
        return {name: _xml_safe(part) for name, part in value.items()}
    if isinstance(value, FeedImage):
        texts = {f.name: xml_text(getattr(value, f.name)) for f in fields(value) if isinstance(getattr(value, f.name), str)}
        return replace(value, **texts)
    return value


def write_xml(fmt: str, scope: FeedScope, items: list[FeedItem], fallback_date: datetime | None) -> bytes:
    generator_class = MastheadRssFeed if fmt == "rss" else MastheadAtomFeed
    about = {
        "title": scope.title,
        "link": scope.link,
        "description": scope.description,
        "subtitle": scope.description,
        "language": _feed_language(),
        "author_name": scope.site_name,
        "feed_url": scope.absolute_url(fmt),
        "feed_guid": scope.absolute_url(fmt),
    }
    feed = generator_class(fallback_date=fallback_date, **_xml_safe(about))
    for item in items:
        image = _xml_safe(item.image)
        texts = {
            "title": item.title,
            "link": item.url,
            # RSS <description> and Atom <summary type="html"> hold HTML: escape the plain text.
            "description": html.escape(item.summary, quote=False),
            "unique_id": item.id,
            "categories": item.categories,
            # Our own keys, written by the subclasses above.
            "authors": item.authors,
            "content_html": item.content_html,
        }
        feed.add_item(
            pubdate=item.published,
            updateddate=item.updated,
            unique_id_is_permalink=False,
            enclosures=[feedgenerator.Enclosure(image.url, str(image.length), image.mime_type)] if image else None,
            image=image,
            **{name: _xml_safe(value) for name, value in texts.items()},
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

