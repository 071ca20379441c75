"""gzip from masthead itself: compressed once per stored page, its own ETag, personal responses apart."""

from __future__ import annotations

import gzip

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from masthead.caching import headers as caching_headers
from masthead.caching.store import Entry
from tests.caching.publication import pages_of

GZIP = {"HTTP_ACCEPT_ENCODING": "gzip, deflate, br"}


@pytest.fixture(params=["local", "redis"])
def store(request):
    """Both stores: the gzipped body must survive Redis's encoding too."""
    return request.getfixturevalue(f"{request.param}_cache")


def vary(response) -> set[str]:
    return {part.strip().lower() for part in response.get("Vary", "").split(",") if part.strip()}


def test_every_kind_of_text_page_is_gzipped_for_clients_that_take_it(pub, client, store):
    for name, url in pages_of(pub).items():
        plain = client.get(url)
        zipped = client.get(url, **GZIP)
        assert zipped.status_code == plain.status_code, name
        assert "Content-Encoding" not in plain, name
        if len(plain.content) < caching_headers.MIN_COMPRESS_BYTES:
            assert "Content-Encoding" not in zipped and zipped.content == plain.content, name
            continue
        assert zipped["Content-Encoding"] == "gzip", name
        assert gzip.decompress(zipped.content) == plain.content, name
        assert len(zipped.content) < len(plain.content), name
        assert int(zipped["Content-Length"]) == len(zipped.content), name
        assert "accept-encoding" in vary(plain) and "accept-encoding" in vary(zipped), name
        if plain.has_header("ETag"):
            assert zipped["ETag"] == caching_headers.gzip_etag(plain["ETag"]) != plain["ETag"], name
        # Everything else is the same: what caches may do with it, what purges it.
        for header in ("Cache-Control", "Surrogate-Key", "Last-Modified", "Content-Type"):
            assert zipped.get(header) == plain.get(header), (name, header)


def test_a_page_is_compressed_once_when_stored_and_never_on_a_hit(pub, client, store, monkeypatch):
    calls = []
    real = caching_headers.gzip_body
    monkeypatch.setattr(caching_headers, "gzip_body", lambda content: calls.append(1) or real(content))
    first = client.get(pub.alpha.url, **GZIP)
    assert first["X-Cache"] == "MISS" and len(calls) == 1
    entry, _ = store.lookup(f"http://testserver{pub.alpha.url}")
    assert entry is not None and entry.gzipped == first.content
    for _ in range(3):
        hit = client.get(pub.alpha.url, **GZIP)
        assert hit["X-Cache"] == "HIT" and hit.content == first.content
        assert hit["ETag"] == first["ETag"] and hit["Content-Length"] == first["Content-Length"]
    plain = client.get(pub.alpha.url)
    assert plain["X-Cache"] == "HIT" and gzip.decompress(first.content) == plain.content
    assert len(calls) == 1
    # A plain reader first: the gzipped version is made (once) then too, for the readers after.
    client.get(pub.bravo.url)
    assert len(calls) == 2
    assert client.get(pub.bravo.url, **GZIP)["Content-Encoding"] == "gzip" and len(calls) == 2


def test_each_version_answers_304_against_its_own_etag(pub, client, store):
    url = pub.charlie.url
    plain = client.get(url)
    zipped = client.get(url, **GZIP)
    for _ in range(2):  # from a hit and again
        answer = client.get(url, HTTP_IF_NONE_MATCH=zipped["ETag"], **GZIP)
        assert answer.status_code == 304 and answer.content == b"" and answer["X-Cache"] == "HIT"
        assert answer["ETag"] == zipped["ETag"]
        answer = client.get(url, HTTP_IF_NONE_MATCH=plain["ETag"])
        assert answer.status_code == 304 and answer["ETag"] == plain["ETag"]
    # Another representation's tag is not a match: the client gets the body it asked for.
    answer = client.get(url, HTTP_IF_NONE_MATCH=plain["ETag"], **GZIP)
    assert answer.status_code == 200 and answer["Content-Encoding"] == "gzip"
    # Varnish gunzips for its plain copy and weakens the tag; its refetch still gets a 304.
    answer = client.get(url, HTTP_IF_NONE_MATCH="W/" + zipped["ETag"], **GZIP)
    assert answer.status_code == 304
    # A miss answers a gzipped 304 too.
    store.clear()
    answer = client.get(url, HTTP_IF_NONE_MATCH=zipped["ETag"], **GZIP)
    assert answer.status_code == 304 and answer["X-Cache"] == "MISS"


@pytest.mark.parametrize("accept", ["", "identity", "br", "gzip;q=0", "br, gzip;q=0, *;q=1"])
def test_clients_that_refuse_gzip_get_plain(pub, client, page_cache, accept):
    client.get(pub.alpha.url, **GZIP)  # stored with its gzipped version
    response = client.get(pub.alpha.url, HTTP_ACCEPT_ENCODING=accept)
    assert response["X-Cache"] == "HIT" and "Content-Encoding" not in response
    assert response.content.lstrip().startswith(b"<!DOCTYPE html") or b"<html" in response.content[:500]


@pytest.mark.parametrize("accept", ["gzip", "GZIP", "x-gzip", "*", "deflate, gzip;q=0.5"])
def test_every_way_of_accepting_gzip_is_understood(pub, client, page_cache, accept):
    assert client.get(pub.alpha.url, HTTP_ACCEPT_ENCODING=accept)["Content-Encoding"] == "gzip"


def test_without_the_page_cache_pages_are_still_gzipped(pub, client, settings):
    settings.MASTHEAD_PAGE_CACHE = False
    plain = client.get(pub.alpha.url)
    zipped = client.get(pub.alpha.url, **GZIP)
    assert zipped["Content-Encoding"] == "gzip" and gzip.decompress(zipped.content) == plain.content
    assert zipped["ETag"] == caching_headers.gzip_etag(plain["ETag"])


def test_static_files_and_media_are_left_to_their_own_handlers(pub, client, page_cache):
    response = client.get("/favicon.ico", **GZIP)
    assert "Content-Encoding" not in response


def test_personal_responses_are_gzipped_by_django_with_random_padding(pub, page_cache):
    user = get_user_model().objects.create_superuser("editor", "editor@example.org", "a-password-0123")
    editor = Client()
    editor.force_login(user)
    bodies = []
    for _ in range(4):
        response = editor.get(pub.alpha.url, **GZIP)
        assert response["X-Cache"] == "BYPASS" and response["Content-Encoding"] == "gzip"
        assert "private" in response["Cache-Control"] and "accept-encoding" in vary(response)
        assert response.content[3] & gzip.FNAME, "no Heal-The-Breach padding (GZipMiddleware's random name)"
        bodies.append(response.content)
    assert len({gzip.decompress(body) for body in bodies}) >= 1
    assert len(set(bodies)) > 1, "every personal response is padded afresh"
    # The admin, with its CSRF token, too.
    response = editor.get("/admin/", **GZIP)
    assert response.status_code == 200 and response["Content-Encoding"] == "gzip"


def test_a_page_that_used_the_csrf_token_is_gzipped_as_personal(pub, client, page_cache):
    response = client.get("/admin/login/", **GZIP)
    assert response.status_code == 200 and response["Content-Encoding"] == "gzip"
    assert response.content[3] & gzip.FNAME
    assert b"csrfmiddlewaretoken" in gzip.decompress(response.content)


def test_entries_encode_with_and_without_a_gzipped_body():
    plain = Entry(200, [("Content-Type", "text/html")], b"<p>hello</p>")
    assert Entry.decode(plain.encode()) == plain
    zipped = Entry(200, [("Content-Type", "text/html"), ("ETag", '"ab"')], b"<p>hello</p>", gzip.compress(b"<p>hello</p>"))
    again = Entry.decode(zipped.encode())
    assert again == zipped and again.gzip_header_store()["etag"] == ("ETag", '"ab-gzip"')
    assert again.gzip_header_store()["content-length"] == ("Content-Length", str(len(zipped.gzipped)))
    assert zipped.size == plain.size + len(zipped.gzipped) + len("ETag") + len('"ab"')
