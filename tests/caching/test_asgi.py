"""Cache hits answered in the event loop (masthead/caching/asgi.py) must be the middleware's
answers exactly, and everything that is not a public hit must reach the application."""

from __future__ import annotations

import asyncio
import gzip

import pytest
from django.test import Client

from masthead.caching.asgi import HitsInLoop
from masthead.caching.store import get_store


def scope_for(path: str, *, method: str = "GET", headers: dict[str, str] | None = None, query: str = "") -> dict:
    fields = [(b"host", b"testserver")] + [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": fields,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


def call(scope: dict) -> tuple[list[dict], int]:
    """Run HitsInLoop over `scope`; returns what it sent and how often it passed the request on."""
    sent: list[dict] = []
    passed = []

    async def app(scope, receive, send):
        passed.append(scope)
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b"from the application"})

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(HitsInLoop(app)(scope, receive, send))
    return sent, len(passed)


def headers_of(start: dict) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in start["headers"]}


@pytest.fixture
def stored_home(page_cache, home, settings):
    """The home page, rendered once through Django so that the middleware stored it (in the
    in-process store: a Redis store is never read from the loop, see the last test)."""
    settings.MASTHEAD_CACHE_REDIS_URL = ""
    get_store().clear()
    response = Client().get("/")
    assert response.status_code == 200 and response["X-Cache"] == "MISS"
    return response


def test_a_stored_page_is_sent_without_the_application(stored_home):
    sent, passed = call(scope_for("/"))
    assert passed == 0
    start, body = sent
    assert start["status"] == 200 and body["body"] == stored_home.content
    got = headers_of(start)
    assert got["X-Cache"] == "HIT" and got["ETag"] == stored_home["ETag"]
    assert got["Content-Length"] == str(len(stored_home.content))
    assert got["Surrogate-Key"] == stored_home["Surrogate-Key"]


def test_the_loop_answers_as_the_middleware_does(stored_home):
    by_django = Client().get("/", HTTP_ACCEPT_ENCODING="gzip")
    sent, passed = call(scope_for("/", headers={"Accept-Encoding": "gzip"}))
    start, body = sent
    assert passed == 0 and by_django["X-Cache"] == "HIT"
    assert body["body"] == by_django.content and gzip.decompress(body["body"]) == stored_home.content
    got = headers_of(start)
    for name in ("Content-Encoding", "ETag", "Vary", "Cache-Control", "Last-Modified", "Surrogate-Key"):
        assert got[name] == by_django[name], name


def test_revalidation_and_head(stored_home):
    sent, passed = call(scope_for("/", headers={"If-None-Match": stored_home["ETag"]}))
    assert passed == 0 and sent[0]["status"] == 304 and sent[1]["body"] == b""
    sent, passed = call(scope_for("/", method="HEAD"))
    assert passed == 0 and sent[0]["status"] == 200 and sent[1]["body"] == b""
    assert headers_of(sent[0])["Content-Length"] == str(len(stored_home.content))


@pytest.mark.parametrize(
    "scope",
    [
        scope_for("/", headers={"Cookie": "sessionid=abc"}),  # an editor or a reader with a session
        scope_for("/", headers={"Authorization": "Basic eDp5"}),
        scope_for("/", method="POST"),
        scope_for("/", query="page=2"),  # not stored yet
        scope_for("/admin/"),
        scope_for("/", headers={"Host": "evil.example"}),
    ],
    ids=["session", "authorization", "post", "miss", "admin", "bad-host"],
)
def test_everything_else_goes_to_the_application(stored_home, scope):
    if any(k == b"host" and v == b"evil.example" for k, v in scope["headers"]):
        scope["headers"] = [(k, v) for k, v in scope["headers"] if not (k == b"host" and v == b"testserver")]
    sent, passed = call(scope)
    assert passed == 1 and sent[0]["status"] == 299


def test_nothing_is_answered_from_the_loop_when_the_purge_log_is_due(stored_home, settings):
    settings.MASTHEAD_CACHE_POLL_SECONDS = 0  # always due: the middleware must read it first
    sent, passed = call(scope_for("/"))
    assert passed == 1


def test_off_without_the_page_cache_middleware_first(stored_home, settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "caching" not in m]
    sent, passed = call(scope_for("/"))
    assert passed == 1


def test_a_shared_store_is_never_read_from_the_loop(stored_home, settings):
    """Redis lookups are network calls: they must not block the event loop."""
    from tests.caching.conftest import need_redis

    settings.MASTHEAD_CACHE_REDIS_URL = need_redis()
    assert get_store().shared
    Client().get("/")  # stored in Redis now
    sent, passed = call(scope_for("/"))
    assert passed == 1
