"""The caching settings and their defaults, read at use so tests can override them.

Every value can be set in Django settings; masthead/settings/base.py fills the ones an operator
is expected to change from the environment (MASTHEAD_PAGE_CACHE, REDIS_URL, ...).
"""

from __future__ import annotations

from django.conf import settings
from django.core.signals import setting_changed

DEFAULTS: dict[str, object] = {
    # Store and serve whole pages for anonymous readers. Off: headers only (tests default to this,
    # so that query budgets measure real renders).
    "MASTHEAD_PAGE_CACHE": True,
    # Where pages live: Redis (shared by every process and machine) when a URL is given (None:
    # REDIS_URL's), else an LRU in each process, bounded to this many megabytes.
    "MASTHEAD_CACHE_REDIS_URL": None,
    "MASTHEAD_CACHE_MAX_MB": 64,
    # Largest response kept (a 50,000-URL sitemap is not worth keeping).
    "MASTHEAD_CACHE_MAX_ENTRY_BYTES": 2 * 1024 * 1024,
    # Store lifetime and shared caches' lifetime (s-maxage). Purges are exact, so this only
    # bounds what is not tracked (an edited picture, comments closing N days after publication).
    "MASTHEAD_CACHE_TTL": 3600,
    # Browsers' lifetime (max-age). A browser cannot be purged: 0 makes it ask every time, and
    # the answer is a 304 from the cache when nothing changed.
    "MASTHEAD_CACHE_MAX_AGE": 0,
    "MASTHEAD_CACHE_STALE_WHILE_REVALIDATE": 30,
    # Shared caches' lifetime for a page whose purges could not be checked (Redis did not
    # answer): it may have been rendered across a purge, so Varnish or a CDN keeps it this
    # long, not MASTHEAD_CACHE_TTL, and still carries the load while Redis is away.
    "MASTHEAD_CACHE_UNCHECKED_TTL": 1,
    "MASTHEAD_CACHE_STALE_IF_ERROR": 86400,
    # In-process mode: how often (at most) a process asks the database for other processes'
    # purges. A purge is seen by every process within this time plus one request.
    "MASTHEAD_CACHE_POLL_SECONDS": 0.5,
    # In-process mode: a file whose change time tells the other processes of this machine that
    # there is a purge to read, so they read it at their next request rather than within the
    # poll interval (one stat() per request). None: "page-cache-purged" in MASTHEAD_DATA_DIR;
    # "" to do without.
    "MASTHEAD_CACHE_SIGNAL_FILE": None,
    # Dotted paths of callables `backend(keys: list[str]) -> None`, called after every purge
    # (a CDN, Varnish). Failures are logged, never raised.
    "MASTHEAD_CACHE_PURGERS": [],
    # Namespace of the Redis keys (tests use one per run).
    "MASTHEAD_CACHE_PREFIX": "masthead:pages",
    # Requests carrying one of these cookies are personal: never served from or stored in the cache.
    "MASTHEAD_CACHE_BYPASS_COOKIES": None,  # None: the session cookie and Django's messages cookie
    # Paths never stored, and marked `private, no-cache` unless the view says otherwise: forms,
    # tickets, the admin, search (one-off queries), previews.
    "MASTHEAD_CACHE_PRIVATE_PATHS": ("/admin/", "/comments/", "/search/", "/share/", "/documents/"),
    # Paths left entirely alone (static files and media have their own headers).
    "MASTHEAD_CACHE_IGNORED_PATHS": ("/static/", "/media/", "/favicon.ico"),
    # Extra keys by path prefix, for responses built outside the page and listing code.
    "MASTHEAD_CACHE_PATH_KEYS": {"/feeds/": "feeds", "/sitemap": "sitemaps", "/api/": "api"},
    # Add `X-Cache-Process: <pid>` (tests use it to see which worker answered).
    "MASTHEAD_CACHE_DEBUG_HEADERS": False,
}


_values: dict[str, object] = {}


def get(name: str):
    """A setting, read once per process (a cache hit reads a dozen of them: Django's settings
    object costs a few microseconds a read) and again after a change (tests)."""
    try:
        return _values[name]
    except KeyError:
        value = _values[name] = getattr(settings, name, DEFAULTS[name])
        return value


def _forget(**kwargs) -> None:
    _values.clear()


setting_changed.connect(_forget, dispatch_uid="masthead.caching.conf")


def _derived(name: str, compute):
    try:
        return _values[name]
    except KeyError:
        value = _values[name] = compute()
        return value


def redis_url() -> str:
    def compute() -> str:
        url = get("MASTHEAD_CACHE_REDIS_URL")
        return getattr(settings, "REDIS_URL", "") if url is None else url

    return _derived("redis_url", compute)


def signal_file() -> str:
    def compute() -> str:
        path = get("MASTHEAD_CACHE_SIGNAL_FILE")
        if path is None:
            data_dir = getattr(settings, "DATA_DIR", None)
            return str(data_dir / "page-cache-purged") if data_dir else ""
        return str(path)

    return _derived("signal_file", compute)


def bypass_cookies() -> tuple[str, ...]:
    def compute() -> tuple[str, ...]:
        names = get("MASTHEAD_CACHE_BYPASS_COOKIES")
        if names is None:
            from django.contrib.messages.storage.cookie import CookieStorage

            names = (settings.SESSION_COOKIE_NAME, CookieStorage.cookie_name)
        return tuple(names)

    return _derived("bypass_cookies", compute)


def path_prefixes(name: str) -> tuple[str, ...]:
    return _derived(f"{name}:tuple", lambda: tuple(get(name)))
