"""What search engines and social networks read about a page: meta description, canonical URL,
OpenGraph and Twitter cards, and schema.org JSON-LD.

Everything is built here, in Python, from data the page's own context already holds (bylines,
breadcrumb, sections and tags come from masthead.news.queries.article_context), so a page costs
no query per author or tag. The publication's settings (with its logo) are read once per
generation of the site's structure (masthead.caching.config), not once per page.
`masthead.distribution.template_functions.seo_meta` writes the result into the <head> through
`masthead.distribution.head_markup`.

JSON-LD is serialised by `json_ld()`: ASCII-only JSON in which "<", ">" and "&" are written as
\\u escapes, so no headline or name can close the <script> element or open a comment in it.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings as django_settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from wagtail.images.models import Filter
from wagtail.models import Site

from masthead.caching import config
from masthead.links import static
from masthead.news.cards import SectionLink, full_page_url
from masthead.news.models import tag_url
from masthead.news.renditions import prefetched

if TYPE_CHECKING:
    from django.http import HttpRequest

    from masthead.distribution.models import PublicationSettings

logger = logging.getLogger(__name__)

SCHEMA = "https://schema.org"
LANGUAGE = "en"
HEADLINE_LIMIT = 110  # Google's recommendation for NewsArticle.headline
DESCRIPTION_LIMIT = 155  # what search results show of a meta description

# The lead picture for cards: 16:9, 1200 px wide at most (Wagtail never upscales a fill).
CARD_IMAGE = "fill-1200x675"
# Google asks for 16:9, 4:3 and 1:1 crops of an article's picture, large ones first.
ARTICLE_IMAGES = ("width-1200", "fill-1200x675", "fill-1200x900", "fill-1200x1200")
AUTHOR_IMAGE = "fill-400x400"
LOGO_RENDITION = "max-600x600"
# Used while the publication settings name no logo: masthead/news/static/masthead/logo.png.
FALLBACK_LOGO = ("masthead/logo.png", 600, 60)


# --- text -------------------------------------------------------------------------------------


def squash(text: str) -> str:
    """One line of text: runs of whitespace (newlines included) become one space."""
    return " ".join((text or "").split())


def truncate(text: str, limit: int) -> str:
    """`text` on one line, at most `limit` characters: cut at a word boundary and end with "…"."""
    text = squash(text)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]  # room for the ellipsis
    if " " in cut and not text[limit - 1].isspace():
        word_start = cut.rfind(" ")
        if word_start >= limit // 2:  # don't drop half the text for one long word
            cut = cut[:word_start]
    return cut.rstrip(" ,;:.-–—") + "…"


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 with the UTC offset, to the second, in the site's time zone."""
    if moment is None:
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return _iso(moment, timezone.get_current_timezone())


@functools.lru_cache(maxsize=4096)
def _iso(moment: datetime, zone) -> str:
    """A page's dates are written four times over (JSON-LD and OpenGraph, published and
    modified), the same on every view: formatted once per instant and time zone."""
    return timezone.localtime(moment, zone).replace(microsecond=0).isoformat()


def json_ld(data: Any) -> SafeString:
    """`data` as JSON that is safe inside <script type="application/ld+json">.

    ensure_ascii writes every non-ASCII character (U+2028 and U+2029 too) as \\uXXXX; "<", ">" and
    "&" only ever occur inside JSON strings, where their escapes mean the same, so "</script>",
    "<!--" and "]]>" can never appear in the output.
    """
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return mark_safe(text)


# --- URLs, pictures and the publisher ---------------------------------------------------------


def absolute(request: HttpRequest, url: str) -> str:
    return request.build_absolute_uri(url)


def page_url(request: HttpRequest, page) -> str | None:
    """A Wagtail page's full URL on its site (what the share bar uses too), remembered by its
    path (masthead.news.cards.full_page_url)."""
    return full_page_url(page.url_path, request)


def home_url(request: HttpRequest) -> str:
    """The home front's full URL: the site's root URL, as Wagtail builds every page's."""
    site = Site.find_for_request(request)
    return f"{site.root_url}/" if site is not None else absolute(request, "/")


def search_url(request: HttpRequest) -> str:
    try:
        return absolute(request, reverse("search:search"))
    except NoReverseMatch:
        return absolute(request, "/search/")


def with_page_number(url: str | None, page_obj) -> str | None:
    """The canonical URL of one page of a list: page 1 is the list's own URL, a later page adds
    what names it (its cursor, masthead/news/pagination.py, or ?page=N for search results)."""
    if not url or page_obj is None:
        return url
    query = getattr(page_obj, "query", "")
    if query:
        return f"{url}?{query}"
    if getattr(page_obj, "number", 1) > 1:
        return f"{url}?page={page_obj.number}"
    return url


@functools.lru_cache(maxsize=64)
def _filters(specs: tuple[str, ...]) -> tuple[Filter, ...]:
    return tuple(Filter(spec) for spec in specs)


def renditions(image, specs: tuple[str, ...]) -> list:
    """Renditions of `image` in `specs`' order: read from what the page fetched with the image
    (masthead.news.renditions), else one cached lookup for all; none if its file is gone."""
    if image is None:
        return []
    found = prefetched(image, _filters(tuple(specs)))
    if found is None:
        try:
            found = image.get_renditions(*specs)
        except OSError:  # wagtail.images.models.SourceImageIOError: the file is gone
            logger.warning("Image %s has no usable source file", image.pk)
            return []
    return [found[spec] for spec in specs if spec in found]


@dataclass
class Picture:
    url: str
    width: int
    height: int
    alt: str = ""


def picture(request: HttpRequest, image, spec: str, alt: str = "") -> Picture | None:
    found = renditions(image, (spec,))
    if not found:
        return None
    rendition = found[0]
    return Picture(absolute(request, rendition.url), rendition.width, rendition.height, alt)


def publication_settings(request: HttpRequest) -> PublicationSettings | None:
    """The site's PublicationSettings with its logo, remembered with the site's structure
    (masthead.caching.config) and cached on the request.

    Wagtail's own `PublicationSettings.for_request` caches under the same attribute, so whichever
    runs first serves the other.
    """
    from masthead.distribution.models import PublicationSettings

    attr = PublicationSettings.get_cache_attr_name()
    if hasattr(request, attr):
        return getattr(request, attr)
    site = Site.find_for_request(request)
    if site is None:
        return None
    found = config.site_setting(PublicationSettings, site, "publisher_logo")
    found._request = request
    setattr(request, attr, found)
    return found


def logo(request: HttpRequest, publication: PublicationSettings | None) -> dict:
    shown = None
    if publication is not None and publication.publisher_logo_id:
        shown = picture(request, publication.publisher_logo, LOGO_RENDITION)
    if shown is None:
        path, width, height = FALLBACK_LOGO
        shown = Picture(absolute(request, static(path)), width, height)
    return {"@type": "ImageObject", "url": shown.url, "width": shown.width, "height": shown.height}


def twitter_handle(publication: PublicationSettings | None) -> str:
    handle = (publication.social_handle if publication else "").strip()
    handle = handle.removeprefix("https://").removeprefix("http://")
    for host in ("x.com/", "twitter.com/", "www.x.com/", "www.twitter.com/"):
        handle = handle.removeprefix(host)
    handle = handle.strip("/").lstrip("@")
    return f"@{handle}" if handle else ""


def organization(
    request: HttpRequest, publication: PublicationSettings | None, *, full: bool = False
) -> dict:
    """The publisher. `full` adds what only the home page needs to say about it."""
    home = home_url(request)
    org = {
        "@type": "NewsMediaOrganization",
        "@id": f"{home}#organization",
        "name": django_settings.WAGTAIL_SITE_NAME,
        "url": home,
        "logo": logo(request, publication),
    }
    if full:
        if publication is not None and publication.description:
            org["description"] = squash(publication.description)
        handle = twitter_handle(publication)
        if handle:
            org["sameAs"] = [f"https://x.com/{handle[1:]}"]
    return org


# --- per page type ----------------------------------------------------------------------------


@dataclass
class PageMeta:
    """Everything the <head> says about one page; `head_markup.meta_html` writes it out."""

    title: str
    description: str
    canonical: str | None = None
    og_type: str = "website"
    image: Picture | None = None
    article: dict = field(default_factory=dict)  # article:* OpenGraph properties
    twitter_site: str = ""
    json_ld: list = field(default_factory=list)

    @property
    def twitter_card(self) -> str:
        return "summary_large_image" if self.image and self.image.width >= 300 else "summary"

    @property
    def json_ld_scripts(self) -> list[SafeString]:
        return [json_ld(block) for block in self.json_ld]

    @property
    def social(self) -> bool:
        """OpenGraph and Twitter cards are for pages with a canonical address."""
        return bool(self.canonical)


def site_name() -> str:
    return django_settings.WAGTAIL_SITE_NAME


def generic(description: str = "") -> PageMeta:
    """Pages that are not meant to be shared or indexed on their own (404, comment steps)."""
    return PageMeta(title=site_name(), description=description or f"News and analysis from {site_name()}.")


def breadcrumb_list(request: HttpRequest, trail) -> dict:
    items = [("Home", home_url(request))]
    items += [(section.title, _section_url(request, section)) for section in trail]
    return {
        "@context": SCHEMA,
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": i, "name": name, "item": url}
            for i, (name, url) in enumerate(items, start=1)
            if url
        ],
    }


def _section_url(request: HttpRequest, section) -> str | None:
    """A trail's section: a link (masthead.news.cards.SectionLink) or, for a section page not
    live, the page itself."""
    return section.full_url if isinstance(section, SectionLink) else page_url(request, section)


def _title(page) -> str:
    return squash(page.seo_title or page.title)


def home_meta(request: HttpRequest, page) -> PageMeta:
    publication = publication_settings(request)
    canonical = page_url(request, page) or home_url(request)
    description = truncate(
        (publication.description if publication else "") or page.search_description
        or f"News and analysis from {site_name()}.",
        DESCRIPTION_LIMIT,
    )
    org = {"@context": SCHEMA, **organization(request, publication, full=True)}
    website = {
        "@context": SCHEMA,
        "@type": "WebSite",
        "@id": f"{canonical}#website",
        "url": canonical,
        "name": site_name(),
        "description": description,
        "inLanguage": LANGUAGE,
        "publisher": {"@id": org["@id"]},
        "potentialAction": {
            "@type": "SearchAction",
            "target": {"@type": "EntryPoint", "urlTemplate": search_url(request) + "?q={search_term_string}"},
            "query-input": "required name=search_term_string",
        },
    }
    return PageMeta(
        title=site_name(),
        description=description,
        canonical=canonical,
        twitter_site=twitter_handle(publication),
        json_ld=[org, website],
    )


def section_meta(request: HttpRequest, page, context) -> PageMeta:
    publication = publication_settings(request)
    description = page.search_description or page.intro or f"Latest {page.title} news from {site_name()}."
    trail = context.get("breadcrumb") or [page]
    return PageMeta(
        title=_title(page),
        description=truncate(description, DESCRIPTION_LIMIT),
        canonical=with_page_number(page_url(request, page), context.get("page_obj")),
        twitter_site=twitter_handle(publication),
        json_ld=[breadcrumb_list(request, trail)],
    )


def article_description(page) -> str:
    text = page.search_description or page.standfirst
    if not text:
        text = page.plain_text() or page.title
    return truncate(text, DESCRIPTION_LIMIT)


def article_meta(request: HttpRequest, page, context) -> PageMeta:
    """NewsArticle, BreadcrumbList, OpenGraph article and Twitter card, from the page's context."""
    publication = publication_settings(request)
    canonical = page_url(request, page)
    description = article_description(page)
    trail = context.get("breadcrumb") or []
    primary = trail[-1] if trail else None
    further = [s for s in context.get("further_sections") or [] if primary is None or s.pk != primary.pk]
    sections = ([primary.title] if primary else []) + [s.title for s in further]
    tags = [tag.name for tag in context.get("article_tags") or []]
    bylines = context.get("bylines")
    authors = [b.author for b in bylines] if bylines is not None else page.authors

    alt = page.lead_image.default_alt_text if page.lead_image else ""
    found = renditions(page.lead_image, ARTICLE_IMAGES)
    by_spec = dict(zip(ARTICLE_IMAGES, found)) if len(found) == len(ARTICLE_IMAGES) else {}
    card = by_spec.get(CARD_IMAGE)
    image = Picture(absolute(request, card.url), card.width, card.height, alt) if card else None
    # Distinct URLs only: a small original gives the same rendition size for several crops.
    image_urls = list(dict.fromkeys(absolute(request, r.url) for r in found))

    article: dict[str, Any] = {
        "@context": SCHEMA,
        "@type": "NewsArticle",
        "@id": f"{canonical}#article" if canonical else None,
        "url": canonical,
        "headline": truncate(page.title, HEADLINE_LIMIT),
        "description": description,
        "datePublished": iso(page.first_published_at),
        "dateModified": iso(page.last_published_at or page.first_published_at),
        "author": [
            {"@type": "Person", "name": a.name, "url": absolute(request, a.get_absolute_url()),
             **({"jobTitle": a.role} if a.role else {})}
            for a in authors
        ],
        "publisher": organization(request, publication),
        "image": image_urls,
        "articleSection": sections,
        "keywords": tags,
        "wordCount": page.word_count,
        "mainEntityOfPage": {"@type": "WebPage", "@id": canonical} if canonical else None,
        "isAccessibleForFree": True,
        "inLanguage": LANGUAGE,
    }
    article = {k: v for k, v in article.items() if v not in (None, [], "")}
    og_article = {
        "published_time": iso(page.first_published_at),
        "modified_time": iso(page.last_published_at or page.first_published_at),
        "authors": [absolute(request, a.get_absolute_url()) for a in authors],
        "section": primary.title if primary else "",
        "tags": tags,
    }
    return PageMeta(
        title=_title(page),
        description=description,
        canonical=canonical,
        og_type="article",
        image=image,
        article=og_article,
        twitter_site=twitter_handle(publication),
        json_ld=[article, breadcrumb_list(request, trail)],
    )


def author_meta(request: HttpRequest, author, context) -> PageMeta:
    publication = publication_settings(request)
    if author.bio:
        description = f"{author.name}{', ' + author.role if author.role else ''}. {author.bio}"
    else:
        description = f"{author.name}{', ' + author.role if author.role else ''}: articles on {site_name()}."
    photo = picture(request, author.photo, AUTHOR_IMAGE, alt=author.name) if author.photo_id else None
    return PageMeta(
        title=author.name,
        description=truncate(description, DESCRIPTION_LIMIT),
        canonical=with_page_number(absolute(request, author.get_absolute_url()), context.get("page_obj")),
        image=photo,
        twitter_site=twitter_handle(publication),
    )


def tag_meta(request: HttpRequest, tag, context) -> PageMeta:
    publication = publication_settings(request)
    url = absolute(request, tag_url(tag.slug))
    return PageMeta(
        title=tag.name,
        description=truncate(f"Articles about {tag.name} on {site_name()}.", DESCRIPTION_LIMIT),
        canonical=with_page_number(url, context.get("page_obj")),
        twitter_site=twitter_handle(publication),
    )


SEARCH_PARAMS = ("q", "section", "author", "from", "to")  # the search form's fields


def search_meta(request: HttpRequest, context) -> PageMeta:
    """Search results: canonical with the form's fields and page only (no tracking parameters).

    search/search.html itself says noindex and gives the meta description; this matches it.
    """
    from urllib.parse import urlencode

    params = [(name, squash(request.GET.get(name, ""))) for name in SEARCH_PARAMS]
    params = [(name, value) for name, value in params if value]
    page_obj = context.get("page_obj")
    if page_obj is not None and getattr(page_obj, "number", 1) > 1:
        params.append(("page", str(page_obj.number)))
    url = absolute(request, request.path) + (f"?{urlencode(params)}" if params else "")
    query = squash(request.GET.get("q", ""))
    return PageMeta(
        title=f"Search: {query}" if query else "Search",
        description=f"Search the articles of {site_name()}.",
        canonical=url,
        twitter_site=twitter_handle(publication_settings(request)),
    )


def meta_for(context) -> PageMeta:
    """The PageMeta of the page a template context renders."""
    from taggit.models import Tag

    from masthead.news.models import ArticlePage, Author, HomePage, SectionPage

    request = context.get("request")
    if request is None:
        return generic()
    page = context.get("page")
    if isinstance(page, ArticlePage):
        return article_meta(request, page, context)
    if isinstance(page, SectionPage):
        return section_meta(request, page, context)
    if isinstance(page, HomePage):
        return home_meta(request, page)
    author = context.get("author")
    if isinstance(author, Author):
        return author_meta(request, author, context)
    tag = context.get("tag")
    if isinstance(tag, Tag):
        return tag_meta(request, tag, context)
    match = getattr(request, "resolver_match", None)
    if match is not None and "search" in match.namespaces:
        return search_meta(request, context)
    return generic()
