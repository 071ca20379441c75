"""Nothing personal is ever cached: sessions, CSRF tokens, comment tickets, editors' drafts."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from wagtail.models import PageViewRestriction

from tests.caching.conftest import status, warm
from tests.caching.publication import pages_of

pytestmark = pytest.mark.usefixtures("page_cache")


@pytest.fixture
def editor(db) -> Client:
    user = get_user_model().objects.create_superuser("editor", "editor@example.org", "a-password-0123")
    client = Client()
    client.force_login(user)
    return client


def leaks(response, *secrets: str) -> list[str]:
    text = response.content.decode("utf-8", "replace") + repr(sorted(response.items()))
    return [secret for secret in secrets if secret and secret in text]


def test_logged_in_editors_bypass_the_cache_and_are_never_stored(pub, editor):
    reader = Client()
    for name, url in pages_of(pub).items():
        response = editor.get(url)
        assert response["X-Cache"] == "BYPASS", name
        assert "private" in response["Cache-Control"] and "no-cache" in response["Cache-Control"], name
        assert "public" not in response["Cache-Control"] and "Surrogate-Key" not in response, name
        assert "Cookie" in response["Vary"], name
        # The editor's response was not stored: the first anonymous reader renders afresh.
        assert status(reader, url) == "MISS", name


def test_editors_see_fresh_pages_while_readers_get_the_cache(pub, editor):
    reader = Client()
    warm(reader, [pub.alpha.url])
    assert status(editor, pub.alpha.url) == "BYPASS"


def test_no_cached_page_carries_a_session_or_the_editors_name(pub, editor):
    session = editor.cookies["sessionid"].value
    for url in pages_of(pub).values():
        editor.get(url)
    reader = Client()
    for name, url in pages_of(pub).items():
        reader.get(url)
        hit = reader.get(url)
        assert hit["X-Cache"] == "HIT", name
        assert not hit.cookies and not leaks(hit, session, "sessionid", "editor@example.org"), name


def test_a_message_pending_bypasses_the_cache(pub):
    reader = Client()
    warm(reader, [pub.alpha.url])
    reader.cookies["messages"] = "a-pending-message"
    assert status(reader, pub.alpha.url) == "BYPASS"


def test_authorization_bypasses_the_cache(pub):
    reader = Client()
    warm(reader, [pub.alpha.url])
    assert status(reader, pub.alpha.url, HTTP_AUTHORIZATION="Bearer something") == "BYPASS"


def test_a_readers_csrf_token_never_reaches_another_reader(pub):
    one, two = Client(), Client()
    ticket = one.get(f"/comments/ticket/{pub.charlie.pk}/")
    token, cookie = ticket.json()["csrf_token"], one.cookies["csrftoken"].value
    first = one.get(pub.charlie.url)  # with their CSRF cookie: cached all the same
    assert first["X-Cache"] == "MISS" and not first.cookies
    assert b"csrfmiddlewaretoken" not in first.content and b'id="comment-form"' in first.content
    second = two.get(pub.charlie.url)
    assert second["X-Cache"] == "HIT" and not leaks(second, token, cookie, "csrfmiddlewaretoken")


def test_the_comment_ticket_is_never_cached(pub):
    reader = Client()
    url = f"/comments/ticket/{pub.charlie.pk}/"
    first, second = reader.get(url), reader.get(url)
    assert first.json()["ticket"] != second.json()["ticket"]
    assert second["X-Cache"] == "BYPASS" and "no-store" in second["Cache-Control"]
    assert "Surrogate-Key" not in second


def test_the_check_and_post_step_is_never_cached(pub):
    reader = Client()
    data = {"name": "Cy", "email": "cy@example.org", "body": "My own words, with my ticket.", "ticket": ""}
    confirm = reader.post(f"/comments/post/{pub.charlie.pk}/", data)
    assert confirm.status_code == 200 and b"csrfmiddlewaretoken" in confirm.content
    ticket = re.search(rb'name="ticket" value="([^"]+)"', confirm.content).group(1).decode()
    page = Client().get(pub.charlie.url)
    assert not leaks(page, ticket, "My own words"), "the confirmation leaked into the article page"


def test_a_page_that_sets_a_cookie_or_uses_a_csrf_token_is_not_stored(pub):
    PageViewRestriction.objects.create(page=pub.bravo, restriction_type=PageViewRestriction.PASSWORD, password="pw")
    with_cookie = Client()
    with_cookie.get(f"/comments/ticket/{pub.charlie.pk}/")  # now has a CSRF cookie
    form = with_cookie.get(pub.bravo.url)  # Wagtail's password form, with this reader's token
    assert form.status_code == 200 and b"csrfmiddlewaretoken" in form.content
    assert "private" in form["Cache-Control"] and form["X-Cache"] == "MISS"
    other = Client().get(pub.bravo.url)
    assert other["X-Cache"] == "MISS" and not leaks(other, with_cookie.cookies["csrftoken"].value)


def test_an_editors_draft_and_preview_never_reach_readers(pub, editor):
    reader = Client()
    warm(reader, [pub.alpha.url, "/"])
    draft = pub.alpha.get_latest_revision_as_object()
    draft.title = "SECRET DRAFT HEADLINE"
    draft.save_revision()
    view_draft = editor.get(f"/admin/pages/{pub.alpha.pk}/view_draft/")
    assert view_draft.status_code == 200 and b"SECRET DRAFT HEADLINE" in view_draft.content
    assert view_draft["X-Cache"] == "BYPASS"
    for url in (pub.alpha.url, "/"):
        assert status(reader, url) == "HIT", url
        assert b"SECRET DRAFT" not in reader.get(url).content, url
        assert b"SECRET DRAFT" not in Client().get(url, HTTP_IF_NONE_MATCH="x").content, url


def test_search_is_not_stored(pub):
    reader = Client()
    response = reader.get("/search/?q=alpha")
    assert response.status_code == 200 and response["X-Cache"] == "BYPASS"
    assert "private" in response["Cache-Control"]
    assert status(reader, "/search/?q=alpha") == "BYPASS"


def test_posts_are_never_cached(pub):
    reader = Client()
    warm(reader, [pub.alpha.url])
    response = reader.post(pub.alpha.url, {})
    assert "X-Cache" not in response or response["X-Cache"] != "HIT"
