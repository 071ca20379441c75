"""PageCacheMiddleware: whole pages for anonymous readers, served without touching the database.

It comes first in MIDDLEWARE, so a hit costs no query, no session lookup and no other
middleware: the stored response already carries what SecurityMiddleware adds (and an http
request that SECURE_SSL_REDIRECT sends to https gets its stored 301). For each request it
decides one of:

* ignored: static files and media (their own headers);
* private: the admin, comment tickets and posts, search, share steps, documents, and every
  request that is not GET/HEAD or that carries the session or messages cookie or an
  Authorization header (editors, a reader with a pending message or a passed password
  restriction). Never stored; sent with `private, no-cache` unless the view chose stricter.
* public: looked up by method-less URL (scheme, host, path and query). A hit is answered as
  stored, with `X-Cache: HIT`; a miss is rendered while masthead.caching.keys collects what it
  shows, stored if it may be (below), and sent with `X-Cache: MISS`. Both are byte-identical
  otherwise, headers included.

A rendered response is stored only if it is 200, 301 or 404; sets no cookie; did not use the
CSRF token (a form with a token renders Set-Cookie); is not `private`, `no-store` or `no-cache`;
varies on nothing but Cookie and Accept-Encoding; is not streamed; and fits in
MASTHEAD_CACHE_MAX_ENTRY_BYTES. Pages carry nothing personal by design: comment forms fetch their
ticket and CSRF token by script (masthead/comments), so a cached article page still takes
comments.

Stored and not-stored public responses alike get Cache-Control, surrogate keys, an ETag and
(unless it would be dated after this machine's clock) a Last-Modified (headers.py), and a
matching If-None-Match or If-Modified-Since gets a 304. A page whose purges could not be checked
(Redis did not answer) stays public, so that Varnish or a CDN carries the load meanwhile, but
shared caches keep it only MASTHEAD_CACHE_UNCHECKED_TTL seconds: it may have been rendered across
a purge of what it shows.

Compression (so that masthead needs no proxy to send gzip): text of 200 bytes or more goes out
gzipped to clients whose Accept-Encoding allows it, with `Vary: Accept-Encoding` on both versions.
A public page is compressed once, deterministically, when it is rendered: the store keeps both
bodies, so a hit costs no compression whichever version it sends, and the gzipped version has
its own ETag (headers.gzip_etag). Varnish asks for gzip and keeps that (deploy/varnish).

BREACH (guessing a secret in a compressed body from its length, by reflecting guesses into the
same page) needs a secret in the body. Public pages have none by construction (that is what makes
them shareable). Personal responses (the admin, a logged-in editor's pages, comment tickets, a
response that sets a cookie or used the CSRF token) go through Django's GZipMiddleware instead:
Django masks the CSRF token afresh in every response, so there is no fixed token to guess, and
GZipMiddleware pads each response with 0-100 random bytes ("Heal The Breach"), which blurs the
lengths such an attack measures. The session cookie travels in headers, which gzip never covers.
"""

from __future__ import annotations

import logging
import os
from typing import Callable

from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.gzip import GZipMiddleware

from . import conf, headers, keys
from .propagation import poller_for
from .store import UNKNOWN_CHANGE, Entry, Store, get_store

logger = logging.getLogger(__name__)

CACHEABLE_STATUS = frozenset({200, 301, 404})
HARMLESS_VARY = frozenset({"cookie", "accept-encoding"})
IGNORED, PRIVATE, PUBLIC = "ignored", "private", "public"


def classify(request: HttpRequest) -> str:
    path = request.path_info
    if path.startswith(conf.path_prefixes("MASTHEAD_CACHE_IGNORED_PATHS")):
        return IGNORED
    if request.method not in ("GET", "HEAD") or path.startswith(conf.path_prefixes("MASTHEAD_CACHE_PRIVATE_PATHS")):
        return PRIVATE
    if "HTTP_AUTHORIZATION" in request.META:
        return PRIVATE
    cookies = request.COOKIES
    if cookies and any(name in cookies for name in conf.bypass_cookies()):
        return PRIVATE
    return PUBLIC


def cache_key(request: HttpRequest) -> str | None:
    """The store's key for this request's URL, or None when the host is not allowed."""
    try:
        host = request.get_host()
    except DisallowedHost:
        return None
    query = request.META.get("QUERY_STRING", "")
    return f"{request.scheme}://{host}{request.path}" + (f"?{query}" if query else "")


def fits_the_store(response: HttpResponseBase) -> bool:
    """What is left to check once `_public` has sent personal and uncacheable responses away
    (status, streaming, cookies, the CSRF token, private/no-store/no-cache): one version for
    everyone, and a size the store takes."""
    vary = {v.strip().lower() for v in response.get("Vary", "").split(",") if v.strip()}
    if vary - HARMLESS_VARY:
        return False
    return len(response.content) <= int(conf.get("MASTHEAD_CACHE_MAX_ENTRY_BYTES"))


def surrogate_keys(request: HttpRequest, response: HttpResponseBase, collected: set[str]) -> list[str]:
    found = set(collected)
    found.add(keys.SITE)
    if response.status_code == 404:
        found.add(keys.NOT_FOUND)
    elif response.status_code == 301:
        found.add(keys.REDIRECTS)
    for prefix, key in conf.get("MASTHEAD_CACHE_PATH_KEYS").items():
        if request.path_info.startswith(prefix):
            found.add(key)
    return sorted(found)


def response_from(entry: Entry, gzipped: bool = False) -> HttpResponse:
    """The stored response, its gzipped version when `gzipped` (and the entry has one)."""
    # The stored headers were checked when the response was first built: copy them in as they
    # are, rather than through HttpResponse's per-header validation (a third of a hit's time).
    if gzipped and entry.gzipped is not None:
        response = HttpResponse(entry.gzipped, status=entry.status)
        response.headers._store = entry.gzip_header_store()
    else:
        response = HttpResponse(entry.body, status=entry.status)
        response.headers._store = entry.header_store()
    return response


def mark_status(response: HttpResponseBase, status: str) -> None:
    """X-Cache: HIT, MISS or BYPASS (and the process, with MASTHEAD_CACHE_DEBUG_HEADERS)."""
    if conf.get("MASTHEAD_PAGE_CACHE"):
        response[headers.CACHE_STATUS] = status
        if conf.get("MASTHEAD_CACHE_DEBUG_HEADERS"):
            response["X-Cache-Process"] = str(os.getpid())


def stored_answer(request: HttpRequest, store: Store, key: str) -> tuple[HttpResponse | None, int]:
    """The stored page for `key` as this reader gets it (gzipped or not, or a 304), and the
    purge clock; None when nothing is stored."""
    entry, clock = store.lookup(key)
    if entry is None:
        return None, clock
    response = response_from(entry, gzipped=headers.accepts_gzip(request))
    mark_status(response, "HIT")
    return headers.conditional(request, response), clock


class PageCacheMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response
        self.personal_gzip = GZipMiddleware(get_response)

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        kind = classify(request)
        if kind == IGNORED:
            return self.get_response(request)
        if kind == PRIVATE:
            response = self.get_response(request)
            if request.method in ("GET", "HEAD"):
                headers.mark_private(response)
                mark_status(response, "BYPASS")
            return self._compress_personal(request, response)
        return self._public(request)

    def _public(self, request: HttpRequest) -> HttpResponseBase:
        store = get_store()
        key = cache_key(request)
        clock = 0
        looked_up = key is not None and conf.get("MASTHEAD_PAGE_CACHE")
        if looked_up:
            if not store.shared:
                poller = poller_for(store)
                if poller.due():
                    poller.poll()  # one query, at most every MASTHEAD_CACHE_POLL_SECONDS
            response, clock = stored_answer(request, store, key)
            if response is not None:
                return response

        with keys.collecting() as collected:
            response = self.get_response(request)
        if key is None or response.streaming or response.status_code not in CACHEABLE_STATUS:
            return response
        if response.cookies or request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
            headers.mark_private(response)  # it carries something of this reader's
            mark_status(response, "MISS")
            return self._compress_personal(request, response)
        cache_control = response.get("Cache-Control", "").lower()
        if any(word in cache_control for word in ("private", "no-store", "no-cache")):
            mark_status(response, "MISS")
            return headers.conditional(request, self._compress_personal(request, response))
        found = surrogate_keys(request, response, collected.keys)
        purged, changed = store.freshness(clock, found) if looked_up else (False, store.changed_at(found))
        if purged:
            # Rendered across a purge of what it shows (a comment approved meanwhile): this
            # reader may have it, but no shared cache may keep it, and no date is added that
            # would later match a reader's If-Modified-Since for the page as it is now (a view's
            # own validators, the feeds', describe what the view read, and stay).
            headers.mark_private(response)
            if response.status_code == 200:
                headers.add_validators(response, None)
            mark_status(response, "MISS")
            return headers.conditional(request, self._compress_personal(request, response))
        checked = changed != UNKNOWN_CHANGE
        headers.mark_public(response, found, checked=checked)
        if response.status_code == 200:
            headers.add_validators(response, headers.last_modified_of(collected.last_published, changed))
        compress = headers.compressible(response)
        if compress:
            headers.vary_on_encoding(response)
        # A clock below 0: the store did not answer the lookup and will refuse the page. An
        # unchecked page is not stored either: every hit would repeat its short s-maxage.
        storing = (
            looked_up and clock >= 0 and checked and request.method == "GET" and fits_the_store(response)
        )
        wants_gzip = compress and headers.accepts_gzip(request)
        gzipped = headers.gzip_body(response.content) if compress and (storing or wants_gzip) else None
        if gzipped is not None and len(gzipped) >= len(response.content):
            gzipped = None  # already compressed data in a text type: not worth a second version
        if storing:
            self._store(store, key, response, found, clock, gzipped)
        if wants_gzip and gzipped is not None:
            headers.use_gzip(response, gzipped)
        mark_status(response, "MISS")
        return headers.conditional(request, response)

    def _compress_personal(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        """Django's GZipMiddleware, for text only (module docstring: BREACH)."""
        if headers.compressible(response):
            return self.personal_gzip.process_response(request, response)
        return response

    def _store(
        self, store: Store, key: str, response: HttpResponse, found: list[str], clock: int, gzipped: bytes | None
    ) -> None:
        entry = Entry(
            status=response.status_code,
            headers=list(response.items()),
            body=response.content,
            gzipped=gzipped,
        )
        try:
            store.save(key, entry, found, int(conf.get("MASTHEAD_CACHE_TTL")), since=clock)
        except Exception:
            logger.exception("page cache: could not store %s", key)
