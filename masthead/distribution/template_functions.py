"""What every page's <head> calls from distribution (named in masthead/templating.py).

base.html does:

    {% set seo = page_meta() %}
    <meta name="description" content="{% block description %}{{ seo.description }}{% endblock %}">
    {{ seo_meta(seo) }}
    {{ feed_links() }}

`page_meta` works out the page type from the context (a Wagtail page, an author, a tag, search
results, or anything else) and builds the data in masthead.distribution.structured_data;
`seo_meta` writes it out (masthead.distribution.head_markup). `feed_links` names the feeds a
reader's feed reader can find on the page: every page the site's RSS, Atom and JSON feeds; a
section front also its section's, and an author or tag page (whose context holds `author` or
`tag`) its own. They are paths on the current host, so they cost no query (a section's path
comes from Wagtail's cached site root paths).
"""

from __future__ import annotations

from typing import Any, Mapping

from django.conf import settings
from django.utils.safestring import SafeString

from masthead.links import mounted
from masthead.news.models import Author, SectionPage

from .feeds import FORMAT_NAMES, FORMATS, MEDIA_TYPES, feed_path, section_key
from .head_markup import feed_links_html, meta_html
from .structured_data import PageMeta, meta_for


def page_meta(context: Mapping[str, Any]) -> PageMeta:
    return meta_for(context)


def seo_meta(context: Mapping[str, Any], seo: PageMeta | None = None) -> SafeString:
    return meta_html(seo if seo is not None else meta_for(context), context.get("site_name", ""))


def feed_links(context: Mapping[str, Any]) -> SafeString:
    return feed_links_html(feed_links_for(context))


def _links(kind: str, key: str, title: str) -> list[dict]:
    where = mounted()
    return [
        {
            "href": feed_path(kind, key, fmt, where),
            "type": MEDIA_TYPES[fmt],
            "title": f"{title} ({FORMAT_NAMES[fmt]})",
        }
        for fmt in FORMATS
    ]


def feed_links_for(context: Mapping[str, Any]) -> list[dict]:
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
