"""Fixtures for the page cache: switched on, emptied, and with purges recorded.

The suite's settings switch the cache off (tests elsewhere measure real renders); these turn it
on with the store this run would use in production: Redis when REDIS_URL is set (the
PostgreSQL + Redis pass), else the in-process LRU.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

import pytest
from django.test import Client

from masthead.caching.store import get_store

REDIS_TEST_URL = os.environ.get("REDIS_URL") or os.environ.get("MASTHEAD_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

PURGED: list[list[str]] = []


def record(keys: list[str]) -> None:
    """A purge backend (MASTHEAD_CACHE_PURGERS) that remembers what it was asked to purge."""
    PURGED.append(list(keys))


def redis_unreachable(url: str = REDIS_TEST_URL) -> str:
    """Why Redis cannot be used, or "" when it can."""
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001 (any failure means: not usable)
        return f"Redis at {url} is unreachable: {exc}"
    return ""


def need_redis() -> str:
    """The Redis URL to test against; skips without one, fails under CI=true."""
    reason = redis_unreachable()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}, and CI=true requires it")
        pytest.skip(reason)
    return REDIS_TEST_URL


@pytest.fixture
def page_cache(settings, db):
    """The page cache switched on and empty; purges go to `PURGED` as well."""
    settings.MASTHEAD_PAGE_CACHE = True
    settings.MASTHEAD_CACHE_POLL_SECONDS = 3600  # no propagation poll unless a test asks for one
    settings.MASTHEAD_CACHE_PURGERS = ["tests.caching.conftest.record"]
    store = get_store()
    store.clear()
    PURGED.clear()
    yield store
    get_store().clear()
    PURGED.clear()


@pytest.fixture
def local_cache(page_cache, settings):
    """The in-process store, whatever REDIS_URL says."""
    settings.MASTHEAD_CACHE_REDIS_URL = ""
    store = get_store()
    store.clear()
    return store


@pytest.fixture
def redis_cache(page_cache, settings):
    """The Redis store (skipped without Redis, except under CI=true)."""
    settings.MASTHEAD_CACHE_REDIS_URL = need_redis()
    store = get_store()
    store.clear()
    yield store
    store.clear()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed(): ...`: the block's transaction "commits" at its end, so the purges it
    registered (transaction.on_commit) run, as they would in production."""

    @contextmanager
    def run():
        from masthead.caching import purge

        # The test's own transaction never commits: forget the batch of purges that setting up
        # the test registered with it, so that this block's purges form a batch of their own.
        purge._local.batch = None
        with django_capture_on_commit_callbacks(execute=True):
            yield

    return run


def purged_keys() -> set[str]:
    return {key for call in PURGED for key in call}


def status(client: Client, url: str, **extra) -> str:
    """HIT or MISS (or BYPASS) for one GET of url."""
    response = client.get(url, **extra)
    assert response.status_code in (200, 301, 404), (url, response.status_code)
    return response["X-Cache"]


def warm(client: Client, urls) -> None:
    """Cache every url (a MISS, then a HIT)."""
    for url in urls:
        client.get(url)
        assert status(client, url) == "HIT", url


from tests.caching.publication import pub  # noqa: E402,F401 (shared fixture)
