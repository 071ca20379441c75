"""Feeds, sitemaps and robots.txt over HTTP.

Feeds answer conditional GETs before doing any real work: the feed's version (the ids and
publish times of the articles it holds, plus the newest unpublish or move on the site) gives a
weak ETag and a Last-Modified (none while it is after this machine's clock:
masthead.caching.headers.sendable_last_modified), and a matching If-None-Match or
If-Modified-Since gets a 304 without loading a single article (see feeds.FeedVersion).
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from masthead.caching.headers import sendable_last_modified

from . import feeds, sitemaps

FEED_MAX_AGE = 300  # seconds a feed reader or proxy may reuse a feed without asking
SITEMAP_MAX_AGE = 3600
XML = "application/xml; charset=utf-8"


@require_safe
def feed(request: HttpRequest, kind: str, fmt: str, **key: str) -> HttpResponse:
    """One feed. `kind` ("site", "section", "author" or "tag") comes from the URL pattern's extra
    arguments; `key` is what the URL names within it (a section path or a slug)."""
    scope = feeds.SCOPES[kind](request, **key)
    if fmt not in feeds.FORMATS:
        raise Http404("No such feed format")
    version = feeds.feed_version(scope, fmt)
    moment = sendable_last_modified(version.last_modified.timestamp() if version.last_modified else None)
    last_modified = None if moment is None else int(moment)
    response = get_conditional_response(request, etag=version.etag, last_modified=last_modified)
    if response is None:
        response = HttpResponse(
            feeds.render_feed(request, scope, fmt, version),
            content_type=f"{feeds.MEDIA_TYPES[fmt]}; charset=utf-8",
        )
    response.headers["ETag"] = version.etag
    if last_modified is not None:
        response.headers["Last-Modified"] = http_date(last_modified)
    patch_cache_control(response, public=True, max_age=FEED_MAX_AGE)
    return response


# --- sitemaps ------------------------------------------------------------------------------------


def _base(request: HttpRequest) -> sitemaps.SiteBase:
    base = sitemaps.site_base(request)
    if base is None:
        raise Http404("No site is configured")
    return base


def _xml(body: str, max_age: int = SITEMAP_MAX_AGE) -> HttpResponse:
    response = HttpResponse(body, content_type=XML)
    patch_cache_control(response, public=True, max_age=max_age)
    return response


@require_safe
def sitemap_index(request: HttpRequest) -> HttpResponse:
    base = _base(request)
    return _xml(sitemaps.cached_xml("index", base, lambda: sitemaps.index_xml(sitemaps.index_entries(base))))


@require_safe
def sitemap_sections(request: HttpRequest) -> HttpResponse:
    base = _base(request)
    return _xml(
        sitemaps.cached_xml("sections", base, lambda: sitemaps.urlset_xml(sitemaps.section_entries(base)))
    )


@require_safe
def sitemap_numbered(request: HttpRequest, name: str, number: str) -> HttpResponse:
    sitemap = sitemaps.NUMBERED.get(name)
    if sitemap is None:
        raise Http404("No such sitemap")
    base = _base(request)

    def build() -> str:
        # A range with nothing published is not in the index either: "" means not found.
        return sitemap.xml(base, int(number))

    xml = sitemaps.cached_xml(f"{name}-{number}", base, build) if sitemap.cached else build()
    if not xml:
        raise Http404("No such sitemap page")
    return _xml(xml)


@require_safe
def sitemap_news(request: HttpRequest) -> HttpResponse:
    # Always answers, possibly with no <url> at all after two quiet days: crawlers accept that,
    # and robots.txt names this address permanently.
    return _xml(sitemaps.news_xml(sitemaps.news_entries(_base(request))), max_age=300)


ROBOTS_DISALLOW = (
    "/admin/",  # Wagtail's admin
    "/comments/",  # posting, replying, deleting and unsubscribing endpoints
    "/share/",  # the Mastodon share step only redirects elsewhere
)


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    base = sitemaps.site_base(request)
    root = base.root_url if base else request.build_absolute_uri("/").rstrip("/")
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in ROBOTS_DISALLOW), "Allow: /", ""]
    lines += [
        f"Sitemap: {root}{reverse('distribution:sitemap_index')}",
        f"Sitemap: {root}{reverse('distribution:sitemap_news')}",
    ]
    response = HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
    patch_cache_control(response, public=True, max_age=SITEMAP_MAX_AGE)
    return response
