"""Test settings: the same as production but for speed and isolation.

Each override says why; DATABASE_URL still picks SQLite or PostgreSQL, so one suite runs on both.
"""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F401,F403
from .base import CACHES, STORAGES

# Media written by tests go to a throwaway folder, never into a developer's var/.
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="masthead-test-media-"))
STATIC_ROOT = Path(tempfile.mkdtemp(prefix="masthead-test-static-"))
# Hashing passwords slowly is a production feature, not something tests need to pay for.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Manifest storage needs collectstatic; tests render templates without it.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
DEBUG = False
ALLOWED_HOSTS = ["*"]
# One test database per run, so that two runs on one PostgreSQL server (a developer's and CI's,
# or two developers') never drop each other's database mid-run.
if DATABASES["default"]["ENGINE"] != "masthead.sqlite":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": f"test_masthead_{os.getpid()}"}  # noqa: F405
else:
    # In memory, as Django's default for SQLite, said outright: pytest-django recognises only
    # Django's own SQLite engine as in-memory by default, and would give each parallel worker a
    # file next to the real database instead.
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}  # noqa: F405
# Pages are rendered every time, so query budgets and content tests measure real renders;
# tests/caching switches the cache on. Its Redis keys are this run's alone.
MASTHEAD_PAGE_CACHE = False
MASTHEAD_CACHE_PREFIX = f"masthead-test-{os.getpid()}:pages"
MASTHEAD_CACHE_SIGNAL_FILE = ""  # not in a developer's var/ (tests/caching sets their own)
# Django's own cache too, when it is Redis (the PostgreSQL pass): keys of this run alone. Shared
# keys let an earlier or concurrent run's entries answer here: Wagtail's site root paths, kept an
# hour, expired in the middle of a query-count test now and then (one query more), and cached
# renditions are keyed by image id, which every run's new database gives out again.
if CACHES["default"]["BACKEND"].endswith("RedisCache"):
    CACHES = {"default": {**CACHES["default"], "KEY_PREFIX": f"masthead-test-{os.getpid()}"}}
