"""The one-query article route (masthead/news/routing.py) and the per-request view restrictions
(masthead/news/visibility.py) must answer exactly as Wagtail's own routing and `.public()` do."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from wagtail.models import Page, PageViewRestriction

from masthead.news import visibility
from masthead.news.models import ArticlePage, HomePage
from masthead.news.routing import find_article, find_section


def test_article_url_is_found_in_one_query(desk, make_article):
    article = make_article(desk.mideast, "Deep story")
    home = HomePage.objects.get()
    with CaptureQueriesContext(connection) as queries:
        found = find_article(home, ["world", "middle-east", "deep-story"])
    assert found.pk == article.pk and isinstance(found, ArticlePage)
    assert len(queries) == 1


def test_only_a_page_of_exactly_the_article_type_is_routed_here(desk, make_article):
    # A page of another type on the same row (as a subclass of ArticlePage would be) must be
    # served by Wagtail as that type: the one-query route checks the type of what it found.
    from django.contrib.contenttypes.models import ContentType

    article = make_article(desk.mideast, "Typed story")
    home = HomePage.objects.get()
    path = ["world", "middle-east", "typed-story"]
    assert find_article(home, path).pk == article.pk
    Page.objects.filter(pk=article.pk).update(content_type=ContentType.objects.get_for_model(Page))
    assert find_article(home, path) is None


def test_same_slug_in_two_sections_goes_to_the_right_one(client, desk, make_article):
    world = make_article(desk.world, "Same headline")
    politics = make_article(desk.politics, "Same headline")
    assert world.slug == politics.slug
    assert b"Same headline" in client.get("/politics/same-headline/").content
    home = HomePage.objects.get()
    assert find_article(home, ["politics", "same-headline"]).pk == politics.pk
    assert find_article(home, ["world", "same-headline"]).pk == world.pk
    # The right slug under the wrong section is not the article.
    assert find_article(home, ["main-stories", "same-headline"]) is None


@pytest.mark.parametrize(
    "path",
    ["/world/no-such-story/", "/world/middle-east/draft-story/", "/nowhere/draft-story/", "/world//"],
)
def test_unknown_and_unpublished_urls_are_404(client, desk, make_article, path):
    make_article(desk.mideast, "Draft story", publish=False)
    assert client.get(path).status_code == 404


def test_section_url_is_found_in_one_query_and_never_tried_as_an_article(desk):
    home = HomePage.objects.get()
    with CaptureQueriesContext(connection) as queries:
        assert find_article(home, ["world"]) is None  # an article always sits in a section
    assert len(queries) == 0
    with CaptureQueriesContext(connection) as queries:
        found = find_section(home, ["world", "middle-east"])
    assert found.pk == desk.mideast.pk and found.specific_class is type(found)
    assert len(queries) == 1
    # The right slug at the wrong place is not the section.
    assert find_section(home, ["politics", "middle-east"]) is None


def test_an_unpublished_section_is_404_and_its_draft_title_never_shows(client, desk, make_section):
    draft = make_section("Closed desk", parent=desk.world)
    draft.unpublish()
    assert find_section(HomePage.objects.get(), ["world", "closed-desk"]) is None
    assert client.get("/world/closed-desk/").status_code == 404
    assert b"Closed desk" not in client.get("/world/").content


def test_sections_and_subsections_still_route(client, desk, make_article):
    make_article(desk.mideast, "Story")
    assert client.get("/world/").status_code == 200
    assert client.get("/world/middle-east/").status_code == 200


def test_private_article_still_asks_for_a_login(client, desk, make_article):
    article = make_article(desk.world, "Members only")
    PageViewRestriction.objects.create(page=desk.world, restriction_type=PageViewRestriction.LOGIN)
    response = client.get(article.url)
    assert response.status_code == 302 and "login" in response["Location"]
    assert list(article.get_view_restrictions()) == list(Page.get_view_restrictions(article))
    assert article.get_view_restrictions().model is PageViewRestriction


def test_restrictions_of_an_alias_ancestor_come_from_its_source(desk, make_article):
    alias = desk.politics.create_alias(parent=desk.main, update_slug="politics-alias").specific
    under_alias = make_article(alias, "Under the alias")
    login = PageViewRestriction.LOGIN
    restriction = PageViewRestriction.objects.create(page=desk.politics, restriction_type=login)
    PageViewRestriction.objects.create(page=desk.world, restriction_type=PageViewRestriction.LOGIN)
    assert list(visibility.view_restrictions(under_alias)) == [restriction]
    assert list(visibility.view_restrictions(under_alias)) == list(Page.get_view_restrictions(under_alias))


def test_public_lists_match_wagtail_and_see_new_restrictions(client, desk, make_article):
    shown = make_article(desk.world, "Open")
    hidden = make_article(desk.politics, "Closed")
    expected = set(ArticlePage.objects.live().public().values_list("pk", flat=True))
    assert set(visibility.public(ArticlePage.objects.live()).values_list("pk", flat=True)) == expected
    assert client.get("/").status_code == 200  # a request in between must not leave a stale memo behind
    PageViewRestriction.objects.create(page=desk.politics, restriction_type=PageViewRestriction.LOGIN)
    now = set(visibility.public(ArticlePage.objects.live()).values_list("pk", flat=True))
    assert shown.pk in now and hidden.pk not in now
    assert b"Closed" not in client.get("/").content


def test_a_restriction_saved_during_a_request_is_seen_at_once(desk, make_article):
    hidden = make_article(desk.politics, "Closed")
    def shown() -> set[int]:
        return set(visibility.public(ArticlePage.objects.live()).values_list("pk", flat=True))

    visibility._start()  # as when a request begins
    try:
        assert hidden.pk in shown()
        login = PageViewRestriction.LOGIN
        restriction = PageViewRestriction.objects.create(page=desk.politics, restriction_type=login)
        assert hidden.pk not in shown()
        restriction.delete()
        assert hidden.pk in shown()
    finally:
        visibility._finish()


def test_a_public_page_s_restrictions_cost_no_sql_at_all(desk, make_article, monkeypatch):
    """With no private page anywhere, the restrictions Wagtail checks before serving are none,
    known without compiling any SQL, and still behave as a queryset."""
    from django.db.models.sql.compiler import SQLCompiler

    article = make_article(desk.world, "Open to all")
    # As in a request, where the private paths are read once (visibility's own request hooks:
    # Django's request signals would also close the test's database connection).
    visibility._start()
    try:
        visibility._restricted_paths()
        compiled = []
        execute_sql = SQLCompiler.execute_sql

        def counted(self, *args, **kwargs):
            compiled.append(self.query)
            return execute_sql(self, *args, **kwargs)

        monkeypatch.setattr(SQLCompiler, "execute_sql", counted)
        restrictions = article.get_view_restrictions()
        assert list(restrictions) == [] and not restrictions.exists() and not restrictions
        assert compiled == []
        assert list(restrictions.filter(restriction_type=PageViewRestriction.LOGIN)) == []
    finally:
        visibility._finish()
