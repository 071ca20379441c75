"""masthead's settings without the full-page cache, for the "masthead uncached" row of
bench/peers_bench.py.

Everything comes from `masthead.settings` (the same environment, database, cache and static
files as `masthead serve`); only the page-cache middleware is taken out of MIDDLEWARE, so every
request renders the whole page (share bar, comments, related reading) from the database.

Which middleware is "the page cache":
- every class under `masthead.caching.` (the full-page cache, surrogate keys and HTTP caching
  headers live there), and Django's own cache middleware if it is ever listed;
- or exactly the dotted paths in MASTHEAD_BENCH_UNCACHED_REMOVE (comma-separated), when set.

REMOVED_MIDDLEWARE records what was removed; peers_bench.py prints it, so a run whose
"uncached" server still had a page cache (or that removed nothing because the cache does not
exist yet) says so in its report.

Used as DJANGO_SETTINGS_MODULE=peers_uncached_settings with bench/ on PYTHONPATH.
"""

import os

from masthead.settings import *  # noqa: F401,F403
from masthead.settings import MIDDLEWARE as _BASE_MIDDLEWARE

_DJANGO_CACHE_MIDDLEWARE = {
    "django.middleware.cache.UpdateCacheMiddleware",
    "django.middleware.cache.FetchFromCacheMiddleware",
    "django.middleware.cache.CacheMiddleware",
}
_explicit = [m.strip() for m in os.environ.get("MASTHEAD_BENCH_UNCACHED_REMOVE", "").split(",") if m.strip()]

if _explicit:
    REMOVED_MIDDLEWARE = [m for m in _BASE_MIDDLEWARE if m in _explicit]
else:
    REMOVED_MIDDLEWARE = [
        m for m in _BASE_MIDDLEWARE if m.startswith("masthead.caching.") or m in _DJANGO_CACHE_MIDDLEWARE
    ]
MIDDLEWARE = [m for m in _BASE_MIDDLEWARE if m not in REMOVED_MIDDLEWARE]
