"""The <head>'s canonical link, social cards, JSON-LD and feed links, built in Python rather than
by two inclusion templates.

Every page, cached or not, starts with these twenty-odd tags. Through the tags `seo_meta`
and `feed_links` (an inclusion template each, in Django's engine then, a variable lookup and an
`if` per tag) they took 5 % of an uncached article page's time in one process; written here, 3 %, most of it the
feed paths' reverse(), which feeds.py now remembers. They are machine-read markup, fixed in
shape, so nothing a designer edits moves out of the templates: what they hold is built in
structured_data.py and feeds.py, and each value is escaped by `format_html` as the templates
escaped it.
"""

from __future__ import annotations

from django.utils.safestring import SafeString, mark_safe

from masthead.escaping import format_html

from .structured_data import PageMeta


def meta_html(seo: PageMeta, site_name: str) -> SafeString:
    """The canonical link; OpenGraph and Twitter cards for a page with a canonical address;
    then the JSON-LD scripts."""
    parts = []
    if seo.canonical:
        parts.append(format_html('<link rel="canonical" href="{}">\n', seo.canonical))
    if seo.social:
        parts.append(
            format_html(
                '<meta property="og:site_name" content="{}">\n'
                '<meta property="og:type" content="{}">\n'
                '<meta property="og:title" content="{}">\n'
                '<meta property="og:description" content="{}">\n'
                '<meta property="og:url" content="{}">\n'
                '<meta property="og:locale" content="en_GB">\n',
                site_name,
                seo.og_type,
                seo.title,
                seo.description,
                seo.canonical,
            )
        )
        parts += _image_and_article(seo)
        parts.append(format_html('<meta name="twitter:card" content="{}">\n', seo.twitter_card))
        if seo.twitter_site:
            parts.append(format_html('<meta name="twitter:site" content="{}">\n', seo.twitter_site))
        if seo.image and seo.image.alt:
            parts.append(format_html('<meta name="twitter:image:alt" content="{}">\n', seo.image.alt))
    for script in seo.json_ld_scripts:
        parts.append(format_html('<script type="application/ld+json">{}</script>\n', script))
    parts.append("\n")
    return mark_safe("".join(parts))


def _image_and_article(seo: PageMeta) -> list[SafeString]:
    parts = []
    image = seo.image
    if image:
        parts.append(
            format_html(
                '<meta property="og:image" content="{}">\n'
                '<meta property="og:image:width" content="{}">\n'
                '<meta property="og:image:height" content="{}">\n',
                image.url,
                image.width,
                image.height,
            )
        )
        if image.alt:
            parts.append(format_html('<meta property="og:image:alt" content="{}">\n', image.alt))
    article = seo.article
    for name in ("published_time", "modified_time"):
        if article.get(name):
            parts.append(format_html('<meta property="article:{}" content="{}">\n', name, article[name]))
    for url in article.get("authors", ()):
        parts.append(format_html('<meta property="article:author" content="{}">\n', url))
    if article.get("section"):
        parts.append(format_html('<meta property="article:section" content="{}">\n', article["section"]))
    for tag in article.get("tags", ()):
        parts.append(format_html('<meta property="article:tag" content="{}">\n', tag))
    return parts


def feed_links_html(links: list[dict]) -> SafeString:
    """One <link rel="alternate"> per feed (template_functions.feed_links_for)."""
    parts = [
        format_html('<link rel="alternate" type="{}" title="{}" href="{}">\n', link["type"], link["title"], link["href"])
        for link in links
    ]
    parts.append("\n")
    return mark_safe("".join(parts))
