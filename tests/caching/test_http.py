"""HTTP caching: headers, validators and 304s, byte-identical hits, and what a hit and a miss cost."""

from __future__ import annotations

import re
from email.utils import parsedate_to_datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from masthead.caching.headers import body_etag
from masthead.caching.store import get_store
from tests.caching.conftest import status, warm
from tests.caching.publication import pages_of

pytestmark = pytest.mark.usefixtures("page_cache")

KEY_TOKEN = re.compile(r"^[a-z0-9-]+$")


def test_public_pages_say_who_may_keep_them_and_what_they_show(pub, client):
    for name, url in pages_of(pub).items():
        response = client.get(url)
        cache_control = [part.strip() for part in response["Cache-Control"].split(",")]
        assert cache_control[0] == "public", name
        assert {"s-maxage=3600", "stale-while-revalidate=30", "stale-if-error=86400"} <= set(cache_control), name
        assert any(part.startswith("max-age=") for part in cache_control), name
        keys = response["Surrogate-Key"].split(" ")
        assert keys == sorted(set(keys)) and all(KEY_TOKEN.match(key) for key in keys), name
        assert response["Cache-Tag"] == ",".join(keys), name
        assert "site" in keys, name
        assert "Set-Cookie" not in response and "Cookie" not in response.get("Vary", ""), name


def test_browsers_revalidate_pages_feeds_and_the_api_keep_their_own_lifetime(pub, client):
    assert client.get("/")["Cache-Control"].startswith("public, max-age=0, s-maxage=3600")
    assert client.get("/feeds/rss/")["Cache-Control"].startswith("public, max-age=300, s-maxage=3600")
    assert client.get("/api/v1/articles/")["Cache-Control"].startswith("public, max-age=60, s-maxage=3600")


def test_the_etag_is_a_strong_hash_of_the_body_and_answers_304(pub, client):
    url = pub.charlie.url
    first = client.get(url)
    assert first["X-Cache"] == "MISS" and first["ETag"] == body_etag(first.content)
    for _ in range(2):  # once from the cache, once more to be sure the 304 came from a hit
        answer = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
        assert answer.status_code == 304 and answer["X-Cache"] == "HIT" and answer.content == b""
        assert answer["ETag"] == first["ETag"] and answer["Cache-Control"] == first["Cache-Control"]
    assert client.get(url, HTTP_IF_NONE_MATCH='"something-else"').status_code == 200


def test_a_miss_answers_304_too(pub, client, page_cache):
    etag = client.get(pub.bravo.url)["ETag"]
    page_cache.clear()
    answer = client.get(pub.bravo.url, HTTP_IF_NONE_MATCH=etag)
    assert answer.status_code == 304 and answer["X-Cache"] == "MISS"


def test_if_modified_since_answers_304_until_something_shown_changes(pub, client, committed):
    url = pub.politics.url
    first = client.get(url)
    since = first["Last-Modified"]
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=since).status_code == 304
    with committed():
        pub.delta.unpublish()  # the newest story of the section goes
    again = client.get(url)
    # The newest story shown is now older, yet Last-Modified moved on: no false 304.
    assert parsedate_to_datetime(again["Last-Modified"]) >= parsedate_to_datetime(since)
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=again["Last-Modified"]).status_code == 304
    if again["Last-Modified"] == since:  # the same second: the ETag still tells them apart
        assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_a_change_dated_by_a_clock_ahead_of_ours_gets_no_last_modified(pub, client, local_cache):
    """Without Redis, machines hand purges on through the database, each dated by the clock of
    the machine that made it. One whose clock is ahead of ours (here by 30 s) may have served
    this page before the change with a Last-Modified later than our now. Had we sent our now,
    the If-Modified-Since of that older copy would win a 304 for a page that has changed."""
    import time

    from django.utils.http import http_date

    url = pub.charlie.url
    keys = client.get(url)["Surrogate-Key"].split(" ")
    ahead = time.time() + 30
    local_cache.purge(keys, when=ahead)  # what the purge log does with the other machine's purge
    answer = client.get(url)
    assert answer.status_code == 200 and "Last-Modified" not in answer
    older_copy = client.get(url, HTTP_IF_MODIFIED_SINCE=http_date(ahead - 10))  # dated by that clock
    assert older_copy.status_code == 200
    assert client.get(url, HTTP_IF_NONE_MATCH=answer["ETag"]).status_code == 304  # the ETag still validates


def test_last_modified_is_at_least_the_newest_publish_shown(pub, client):
    response = client.get(pub.bravo.url)
    assert parsedate_to_datetime(response["Last-Modified"]).timestamp() >= int(pub.bravo.last_published_at.timestamp())


def test_feeds_keep_their_conditional_get(pub, client, committed, make_article):
    first = client.get("/feeds/rss/")
    assert first["ETag"].startswith('W/"') and first["X-Cache"] == "MISS"
    assert client.get("/feeds/rss/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert client.get("/feeds/rss/")["X-Cache"] == "HIT"
    with committed():
        make_article(pub.politics, "Echo story")
    changed = client.get("/feeds/rss/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"] and b"Echo story" in changed.content


def test_a_hit_is_byte_identical_to_the_miss_but_for_x_cache(pub):
    client = Client()
    for name, url in pages_of(pub).items():
        miss, hit = client.get(url), client.get(url)
        assert (miss["X-Cache"], hit["X-Cache"]) == ("MISS", "HIT"), name
        assert hit.status_code == miss.status_code and hit.content == miss.content, name
        without = lambda response: {k: v for k, v in response.items() if k != "X-Cache"}  # noqa: E731
        assert without(hit) == without(miss), name


def test_head_is_answered_from_the_cache(pub, client):
    client.get(pub.alpha.url)
    head = client.head(pub.alpha.url)
    assert head.status_code == 200 and head["X-Cache"] == "HIT" and head.content == b""


def test_a_hit_costs_no_query(pub, client):
    for url in pages_of(pub).values():
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url)["X-Cache"] == "HIT"
        assert len(queries) == 0, (url, [q["sql"] for q in queries])


def test_a_miss_costs_what_an_uncached_render_costs(pub, client, settings):
    pages = pages_of(pub)
    settings.MASTHEAD_PAGE_CACHE = False
    uncached = {}
    for name, url in pages.items():
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        uncached[name] = len(queries)
    settings.MASTHEAD_PAGE_CACHE = True
    client.get("/robots.txt")  # a process's first request reads where the purge log stands
    for name, url in pages.items():
        get_store().clear()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url)["X-Cache"] == "MISS"
        assert len(queries) == uncached[name], name


def test_with_redis_a_miss_costs_the_page_cache_three_round_trips_and_a_hit_one(pub, client, redis_cache, monkeypatch):
    """Look up, then one read of purge marks and times, then the save; a hit is the lookup."""
    import redis

    client.get(pub.bravo.url)  # Redis learns the scripts (a fresh server answers NOSCRIPT once)
    sent: list[object] = []
    pool = redis_cache.client.connection_pool  # the page cache's, not Django's cache's
    for cls, name in ((redis.Redis, "execute_command"), (redis.client.Pipeline, "execute")):
        monkeypatch.setattr(cls, name, _counting(getattr(cls, name), pool, sent))
    assert client.get(pub.alpha.url)["X-Cache"] == "MISS"
    assert len(sent) == 3, sent
    sent.clear()
    assert client.get(pub.alpha.url)["X-Cache"] == "HIT"
    assert len(sent) == 1, sent


def _counting(method, pool, sent: list[object]):
    def counted(self, *args, **kwargs):
        if self.connection_pool is pool:
            sent.append(args[:1] or method.__name__)
        return method(self, *args, **kwargs)

    return counted


def test_the_purge_poll_costs_one_query_at_most_twice_a_second(pub, client, local_cache, settings):
    settings.MASTHEAD_CACHE_POLL_SECONDS = 0  # due on every request
    client.get(pub.alpha.url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(pub.alpha.url)["X-Cache"] == "HIT"
    assert len(queries) == 1 and "caching_purgeevent" in queries[0]["sql"]
    settings.MASTHEAD_CACHE_POLL_SECONDS = 0.5
    with CaptureQueriesContext(connection) as queries:
        client.get(pub.alpha.url)  # polled just now: not due
    assert len(queries) == 0


def test_404s_are_cached_until_something_is_published_there(pub, client, committed, make_article):
    assert client.get("/politics/foxtrot/").status_code == 404
    assert status(client, "/politics/foxtrot/") == "HIT"
    with committed():
        make_article(pub.politics, "Foxtrot")
    assert client.get("/politics/foxtrot/").status_code == 200


def test_301s_are_cached_with_their_own_key(pub, client):
    response = client.get("/politics")  # APPEND_SLASH
    assert response.status_code == 301 and "redirects" in response["Surrogate-Key"].split()
    assert status(client, "/politics") == "HIT"


def test_pages_differ_by_query_string(pub, client, settings):
    settings.MASTHEAD_PAGE_SIZE = 1
    first, second = client.get(pub.politics.url), client.get(pub.politics.url + "?page=2")
    assert first.content != second.content and second["X-Cache"] == "MISS"
    warm(client, [pub.politics.url, pub.politics.url + "?page=2"])


def test_switched_off_it_still_sends_headers_but_stores_nothing(pub, client, settings):
    settings.MASTHEAD_PAGE_CACHE = False
    first, second = client.get(pub.alpha.url), client.get(pub.alpha.url)
    assert "X-Cache" not in second and second["Surrogate-Key"] == first["Surrogate-Key"]
    assert second["ETag"] == first["ETag"]


def test_a_page_rendered_across_a_purge_of_what_it_shows_is_kept_by_no_cache(pub, client, monkeypatch):
    """A purge that lands while the page renders (a comment approved meanwhile) may have
    replaced what the page shows: that copy goes to this reader only, private, without a
    Last-Modified, and is not stored; the next reader gets a fresh render."""
    from masthead.caching import keys, middleware
    from masthead.caching.purge import purge

    url = pub.charlie.url
    rendering = middleware.surrogate_keys

    def purge_meanwhile(request, response, collected):
        found = rendering(request, response, collected)
        purge([keys.article(pub.charlie.pk)], "a moderator, meanwhile")
        return found

    monkeypatch.setattr(middleware, "surrogate_keys", purge_meanwhile)
    raced = client.get(url)
    assert raced.status_code == 200 and raced["X-Cache"] == "MISS"
    cache_control = raced["Cache-Control"]
    assert "private" in cache_control and "public" not in cache_control and "s-maxage" not in cache_control
    assert "Last-Modified" not in raced and raced["ETag"] == body_etag(raced.content)
    monkeypatch.undo()
    assert status(client, url) == "MISS"  # the raced copy was not stored
    settled = client.get(url)
    assert settled["X-Cache"] == "HIT" and settled["Cache-Control"].startswith("public")
    assert "Last-Modified" in settled


def _shared_lifetime(response) -> int:
    directives = dict(
        part.strip().partition("=")[::2] for part in response["Cache-Control"].split(",") if "=" in part
    )
    return int(directives["s-maxage"])


def test_a_page_whose_purges_could_not_be_read_is_kept_by_shared_caches_briefly(
    pub, client, redis_cache, monkeypatch
):
    """Redis answered the lookup, then not the read of purge marks: a purge may have raced the
    render unseen. The page stays public (Varnish carries the load while Redis is away), but a
    shared cache keeps it one second, not an hour, and it is sent undated."""

    def unreadable(*args, **kwargs):
        raise ConnectionError("Redis went away")

    monkeypatch.setattr(redis_cache, "_freshness", unreadable)
    response = client.get(pub.charlie.url)
    assert response.status_code == 200 and response["Cache-Control"].startswith("public")
    assert _shared_lifetime(response) == 1 and "Last-Modified" not in response
    assert "site" in response["Surrogate-Key"].split()
    monkeypatch.undo()
    again = client.get(pub.charlie.url)  # not stored: its short lifetime is not handed on
    assert again["X-Cache"] == "MISS" and _shared_lifetime(again) == 3600
    assert client.get(pub.charlie.url)["X-Cache"] == "HIT"


def test_with_redis_unreachable_pages_stay_public_for_a_second(pub, client):
    from django.test import override_settings

    # Nothing listens on port 1. (The page_cache fixture clears the store after the test: the
    # override ends first.)
    with override_settings(MASTHEAD_CACHE_REDIS_URL="redis://127.0.0.1:1/0", MASTHEAD_CACHE_UNCHECKED_TTL=2):
        response = client.get(pub.charlie.url)
    assert response.status_code == 200 and response["Cache-Control"].startswith("public")
    assert _shared_lifetime(response) == 2 and "Last-Modified" not in response
