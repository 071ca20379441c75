"""HTTP caching headers: who may keep a response, for how long, what it shows, and its validators.

Anonymous cacheable responses get
    Cache-Control: public, max-age=0, s-maxage=3600, stale-while-revalidate=30, stale-if-error=86400
    Surrogate-Key: home a12 s3 ...        (Fastly, Varnish: space-separated)
    Cache-Tag: home,a12,s3,...            (Cloudflare, Akamai: comma-separated)
    ETag: "<hash of the body>"            (strong: the same bytes, or a view's own, e.g. feeds')
    Last-Modified: <when what it shows last changed; none while that is after this machine's now>
A browser must ask again every time (max-age=0: it cannot be purged; the answer is a cheap 304 when
nothing changed); a shared cache keeps a page for s-maxage, because masthead purges it by key the
moment anything the page shows changes.

Personal responses (a logged-in editor, a reader with a session or a pending message) get
`Cache-Control: private, no-cache` and `Vary: Cookie`, so no shared cache keeps or reuses them.

Text (HTML, feeds, sitemaps, JSON) of 200 bytes or more is sent gzipped to clients that accept it,
with `Vary: Accept-Encoding` on both versions. The gzipped version is another representation, so
it gets another ETag: the plain one with `-gzip` before its closing quote (`"ab12"` and
`"ab12-gzip"`), weak if the plain one was; each version's 304 compares against its own tag.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import time
from datetime import datetime

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date

from . import conf

SURROGATE_KEY = "Surrogate-Key"
CACHE_TAG = "Cache-Tag"
# Response headers that differ between a stored response and the one first sent: only these.
CACHE_STATUS = "X-Cache"

# Smaller bodies gain nothing from gzip once its header and the extra header lines are counted.
MIN_COMPRESS_BYTES = 200
# Level 9: a page is compressed once, when stored, and sent many times. On the seed article
# (32,810 bytes) it gives 7,833 bytes against level 6's 7,843, for 0.04 ms more, once.
COMPRESS_LEVEL = 9
COMPRESSIBLE_TYPE = re.compile(r"^\s*(text/|application/([a-z0-9.+-]*\+)?(json|xml|javascript)\b)", re.I)


def body_etag(content: bytes) -> str:
    """A strong ETag: the same bytes, the same tag (BLAKE2b, 128 bits)."""
    return '"' + hashlib.blake2b(content, digest_size=16).hexdigest() + '"'


def mark_public(response: HttpResponse, surrogate_keys: list[str], checked: bool = True) -> None:
    """Cache-Control for shared caches, and the keys that purge this response. `checked`: the
    page was seen not to have been rendered across a purge; otherwise shared caches keep it
    only briefly (MASTHEAD_CACHE_UNCHECKED_TTL)."""
    directives: dict[str, object] = {"public": True}
    if "max-age" not in response.get("Cache-Control", ""):
        # A view's own max-age (feeds 300 s, the API 60 s) is kept for browsers.
        directives["max_age"] = int(conf.get("MASTHEAD_CACHE_MAX_AGE"))
    lifetime = "MASTHEAD_CACHE_TTL" if checked else "MASTHEAD_CACHE_UNCHECKED_TTL"
    directives["s_maxage"] = int(conf.get(lifetime))
    directives["stale_while_revalidate"] = int(conf.get("MASTHEAD_CACHE_STALE_WHILE_REVALIDATE"))
    directives["stale_if_error"] = int(conf.get("MASTHEAD_CACHE_STALE_IF_ERROR"))
    patch_cache_control(response, **directives)
    response[SURROGATE_KEY] = " ".join(surrogate_keys)
    response[CACHE_TAG] = ",".join(surrogate_keys)


def mark_private(response: HttpResponse) -> None:
    """For a reader's own response: no shared cache may keep it; a browser must revalidate."""
    cache_control = response.get("Cache-Control", "")
    if "no-store" not in cache_control:
        patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ("Cookie",))


def sendable_last_modified(moment: float | None) -> float | None:
    """`moment` as a Last-Modified, or None when it is after this machine's now.

    Such a change was dated by another machine whose clock is ahead (a purge or a publish made
    there, or Redis's clock). HTTP forbids a date after the response's own, and the usual
    remedy, sending now instead, could date the page before a Last-Modified that the other
    machine has already given a reader for an older version: that reader's If-Modified-Since
    would then get a 304 for a page that changed. Without the date, readers revalidate with the
    ETag alone, until the response is made again after that moment (a stored page keeps none
    until it is purged or expires). An unknown moment (infinity) is never sent either.

    This covers a clock behind the others. A clock ahead dates its changes later than the
    others' next ones, and those never go back: keep the machines' clocks in step (NTP), as
    If-Modified-Since alone then cannot tell, though the ETag can."""
    return None if moment is None or moment > time.time() else moment


def add_validators(response: HttpResponse, last_modified: float | None) -> None:
    """A strong ETag of the body and a Last-Modified (see sendable_last_modified). A view
    that sets its own ETag (feeds) has its own validators: neither is added or replaced, as a
    Last-Modified left out on purpose must stay out."""
    if response.has_header("ETag"):
        return
    response["ETag"] = body_etag(response.content)
    last_modified = sendable_last_modified(last_modified)
    if last_modified is not None and not response.has_header("Last-Modified"):
        response["Last-Modified"] = http_date(int(last_modified))


def last_modified_of(published: datetime | None, changed_at: float) -> float:
    """The newest of: the newest publish among what the page shows, and the last purge of any of
    its keys (which also covers what left it: a withdrawn story, a removed comment)."""
    moments = [changed_at]
    if published is not None:
        moments.append(published.timestamp())
    return max(moments)


def conditional(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """304 Not Modified when the reader's copy is current (If-None-Match, If-Modified-Since)."""
    meta = request.META
    if "HTTP_IF_NONE_MATCH" not in meta and "HTTP_IF_MODIFIED_SINCE" not in meta:
        return response
    if request.method not in ("GET", "HEAD") or response.status_code != 200:
        return response
    etag = response.get("ETag")
    last_modified = response.get("Last-Modified")
    if not etag and not last_modified:
        return response
    from django.utils.http import parse_http_date_safe

    answer = get_conditional_response(
        request,
        etag=etag,
        last_modified=parse_http_date_safe(last_modified) if last_modified else None,
        response=response,
    )
    if answer is not response:
        for name in (SURROGATE_KEY, CACHE_TAG, CACHE_STATUS):
            if response.has_header(name):
                answer[name] = response[name]
    return answer


def compressible(response: HttpResponseBase) -> bool:
    """Text we may gzip: HTML, feeds, sitemaps, JSON; not yet encoded, not streamed, not tiny."""
    return (
        not response.streaming
        and not response.has_header("Content-Encoding")
        and bool(COMPRESSIBLE_TYPE.match(response.get("Content-Type", "")))
        and len(response.content) >= MIN_COMPRESS_BYTES
    )


def accepts_gzip(request: HttpRequest) -> bool:
    """Whether Accept-Encoding allows gzip (`gzip`, `x-gzip` or `*`, without q=0)."""
    header = request.META.get("HTTP_ACCEPT_ENCODING", "").lower()
    if "gzip" not in header and "*" not in header:
        return False
    allowed: dict[str, bool] = {}
    for part in header.split(","):
        name, _, params = part.partition(";")
        quality = 1.0
        match = re.search(r"q\s*=\s*([0-9.]+)", params)
        if match:
            try:
                quality = float(match.group(1))
            except ValueError:
                quality = 0.0
        allowed[name.strip()] = quality > 0
    if "gzip" in allowed:
        return allowed["gzip"]
    if "x-gzip" in allowed:
        return allowed["x-gzip"]
    return allowed.get("*", False)


def gzip_body(content: bytes) -> bytes:
    """The same bytes gzipped, identically in every process (no timestamp, no file name)."""
    return gzip.compress(content, compresslevel=COMPRESS_LEVEL, mtime=0)


def gzip_etag(etag: str) -> str:
    """The gzipped version's tag: `"x"` -> `"x-gzip"`, `W/"x"` -> `W/"x-gzip"`."""
    if etag.endswith('"') and len(etag) >= 2:
        return etag[:-1] + '-gzip"'
    return etag


def vary_on_encoding(response: HttpResponseBase) -> None:
    patch_vary_headers(response, ("Accept-Encoding",))


def use_gzip(response: HttpResponse, compressed: bytes) -> None:
    """Turn `response` (whose validators describe the plain body) into its gzipped version."""
    response.content = compressed
    response["Content-Length"] = str(len(compressed))
    response["Content-Encoding"] = "gzip"
    etag = response.get("ETag")
    if etag:
        response["ETag"] = gzip_etag(etag)
