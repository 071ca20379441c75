"""masthead/templating.py: the Jinja2 environment of the public pages."""

from __future__ import annotations

import datetime

import pytest
from django.template import engines
from django.template.loader import get_template
from django.test import RequestFactory
from django.utils import timezone
from django.utils.safestring import mark_safe


def render(source: str, **context) -> str:
    return engines["jinja2"].from_string(source).render(context)


def test_values_are_escaped_unless_marked_safe():
    assert render("{{ x }}", x='<script>"&') == "&lt;script&gt;&#34;&amp;"
    assert render("{{ x }}", x=mark_safe("<b>kept</b>")) == "<b>kept</b>"


def test_a_missing_variable_or_attribute_renders_as_nothing():
    """As in Django's engine: the 404 page has no `page`, and base.html asks for page.title."""
    assert render("[{{ page.title }}]{% if page.seo_title %}x{% endif %}") == "[]"


def test_dates_are_shown_in_the_active_time_zone():
    """As Django's engine shows them: the database's UTC time, converted before formatting."""
    moment = datetime.datetime(2026, 1, 15, 23, 30, tzinfo=datetime.UTC)
    with timezone.override("Europe/Paris"):
        assert render("{{ t|date('Y-m-d H:i O') }}", t=moment) == "2026-01-16 00:30 +0100"
    with timezone.override("UTC"):
        assert render("{{ t|date('j F Y, H:i') }}", t=moment) == "15 January 2026, 23:30"


def test_public_pages_are_jinja2_and_the_admin_stays_django():
    assert get_template("news/article_page.html").backend.name == "jinja2"
    assert get_template("base.html").backend.name == "jinja2"
    assert get_template("comments/admin/moderate.html").backend.name == "django"


def test_querystring_changes_and_removes_keys_of_the_request():
    request = RequestFactory().get("/search/", {"q": "gaza", "page": "2", "section": "3"})
    source = "{{ querystring(page=3, section=None) }}"
    assert render(source, request=request) == "?q=gaza&amp;page=3"
    assert render("{{ querystring(page=None) }}", request=RequestFactory().get("/search/")) == ""


@pytest.mark.django_db
def test_url_reverses_with_arguments():
    assert render("{{ url('comments:post', 7) }}") == "/comments/post/7/"
    assert render("{{ url('search:search') }}") == "/search/"


def test_url_is_remembered_by_what_reverse_depends_on():
    """url() keeps what reverse() gave per name, values, mount point and URLconf
    (masthead/templating.py): a site mounted elsewhere gets its own URLs."""
    from django.urls import set_script_prefix

    assert render("{{ url('comments:post', 7) }}") == "/comments/post/7/"
    assert render("{{ url('comments:post', 8) }}") == "/comments/post/8/"
    set_script_prefix("/news/")
    try:
        assert render("{{ url('comments:post', 7) }}") == "/news/comments/post/7/"
    finally:
        set_script_prefix("/")
    assert render("{{ url('comments:post', 7) }}") == "/comments/post/7/"


def test_static_follows_a_change_of_settings(settings):
    before = render("{{ static('masthead/favicon.svg') }}")
    assert before.endswith("favicon.svg") or "favicon." in before
    settings.STATIC_URL = "/elsewhere/"
    assert render("{{ static('masthead/favicon.svg') }}").startswith("/elsewhere/")


@pytest.mark.django_db
def test_fullpageurl_is_wagtails_remembered(make_section):
    """fullpageurl() gives what Wagtail's gives (masthead.news.cards.full_page_url remembers it
    by the page's path), and still refuses what is not a page."""
    from wagtail.models import Page

    world = make_section("World")
    request = RequestFactory(HTTP_HOST="localhost").get("/")
    assert render("{{ fullpageurl(page) }}", page=world, request=request) == world.get_full_url(request)
    orphan = Page(title="Nowhere", slug="nowhere", url_path="/nowhere/", path="9999", depth=1)
    assert orphan.get_full_url(request) is None
    assert render("{{ fullpageurl(page) }}", page=orphan, request=request) == "None"
    with pytest.raises(ValueError):
        render("{{ fullpageurl(page) }}", page="not a page", request=request)
