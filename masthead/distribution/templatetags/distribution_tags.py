"""`{% feed_links %}`: the feed autodiscovery <link rel="alternate"> tags of a page's <head>.

Every page names the site's RSS, Atom and JSON feeds. A section front also names its section's
feeds, and an author or tag page (whose context holds `author` or `tag`) its own. The links are
paths on the current host, so the tag costs no query (a section's path comes from Wagtail's
cached site root paths).
"""

from __future__ import annotations

from django import template
from django.conf import settings
from django.utils.safestring import SafeString

from masthead.news.models import Author, SectionPage

from ..feeds import FORMAT_NAMES, FORMATS, MEDIA_TYPES, feed_path, section_key
from ..head_markup import feed_links_html

register = template.Library()


def _links(kind: str, key: str, title: str) -> list[dict]:
    return [
        {
            "href": feed_path(kind, key, fmt),
            "type": MEDIA_TYPES[fmt],
            "title": f"{title} ({FORMAT_NAMES[fmt]})",
        }
        for fmt in FORMATS
    ]


def feed_links_for(context) -> list[dict]:
    site_name = settings.WAGTAIL_SITE_NAME
    links = _links("site", "", site_name)
    page = context.get("page")
    author = context.get("author")
    tag = context.get("tag")
    if isinstance(page, SectionPage) and page.live:
        links += _links("section", section_key(page, context.get("request")), f"{site_name}: {page.title}")
    elif isinstance(author, Author) and author.slug:
        links += _links("author", author.slug, f"{site_name}: {author.name}")
    elif tag is not None and getattr(tag, "slug", ""):
        links += _links("tag", tag.slug, f"{site_name}: {tag.name}")
    return links


@register.simple_tag(takes_context=True)
def feed_links(context) -> SafeString:
    return feed_links_html(feed_links_for(context))
