"""The demo publication: `masthead demo` loads it once, completely, and keeps your data afterwards.

Loading takes several seconds, so the module loads it once, inside a transaction of its own that
is rolled back when the module is done; each test runs in a savepoint inside it, as usual.
"""

from __future__ import annotations

import json
from io import StringIO

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from wagtail.models import Page

from masthead.demo import loader
from masthead.importers.text_format import read
from masthead.news.models import ArticlePage, Author, HomePage, SectionPage

SEED_URL = "/world/us-calls-on-israel-to-end-large-scale-ground-invasion-in-gaza/"
SEED_HEADLINE = "US Calls on Israel to End Large-Scale Ground Invasion in Gaza"
CATALOG = json.loads((loader.CONTENT / "catalog.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("demo-data")
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            cache.clear()
            assert not ArticlePage.objects.exists(), "the test database should start without articles"
            out = StringIO()
            with override_settings(DATA_DIR=data_dir):
                call_command("demo", no_serve=True, stdout=out)
            yield {"data_dir": data_dir, "output": out.getvalue()}
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            cache.clear()


@pytest.fixture
def seed(demo, db) -> ArticlePage:
    return ArticlePage.objects.get(title=SEED_HEADLINE)


def soup(client, url: str) -> BeautifulSoup:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return BeautifulSoup(response.content, "html.parser")


def catalog_article(entry: dict) -> ArticlePage:
    headline = read((loader.CONTENT / entry["file"]).read_bytes()).headline
    return ArticlePage.objects.get(title=headline)


# --- What gets loaded -------------------------------------------------------------------------


def test_first_run_loads_and_reports(demo, db):
    out = demo["output"]
    assert "Loading demo content" in out
    assert f"Loaded {len(CATALOG['articles']) + 1} demo articles." in out
    assert "login: admin / " in out


def test_at_least_thirty_articles_besides_the_seed(demo, db):
    assert len(CATALOG["articles"]) >= 30
    assert ArticlePage.objects.live().exclude(title=SEED_HEADLINE).count() >= 30
    assert ArticlePage.objects.count() == len(CATALOG["articles"]) + 1
    # One article per file: the headlines are all different.
    assert len(set(ArticlePage.objects.values_list("title", flat=True))) == ArticlePage.objects.count()


def test_sections_top_level_and_middle_east_under_world(demo, db):
    home = HomePage.objects.get()
    top = SectionPage.objects.child_of(home).live()
    assert top.count() >= 5
    assert {"World", "Politics", "Business", "Science", "Culture", "Sport", "Main Stories"} <= set(
        top.values_list("title", flat=True)
    )
    world = top.get(title="World")
    middle_east = SectionPage.objects.get(title="Middle East")
    assert middle_east.live
    assert middle_east.get_parent().pk == world.pk
    assert middle_east.url == "/world/middle-east/"
    assert not SectionPage.objects.child_of(home).filter(title="Middle East").exists()
    for section in SectionPage.objects.all():
        assert section.intro, f"{section.title} has no intro"


def test_six_or_more_authors_each_with_a_photo(demo, db):
    authors = Author.objects.all()
    assert authors.count() >= 6
    for author in authors:
        assert author.photo is not None, author.name
        assert author.photo.file.size > 0
        assert author.bio and author.role


def test_every_article_has_a_lead_image_tags_and_bylines(demo, db):
    articles = ArticlePage.objects.prefetch_related("tags", "bylines__author").select_related("lead_image")
    assert articles
    for article in articles:
        assert article.lead_image is not None, article.title
        assert article.lead_image.file.size > 0
        assert article.tags.count() >= 1, article.title
        assert len(article.authors) >= 1, article.title
        assert isinstance(article.get_parent().specific, SectionPage)
        paragraphs = [b for b in article.body if b.block_type == "paragraph"]
        assert len(paragraphs) >= 5, article.title
        assert not any("Spread the love" in b.value.source for b in paragraphs)


def test_catalog_bylines_and_tags_are_applied(demo, db):
    for entry in CATALOG["articles"]:
        article = catalog_article(entry)
        assert [a.slug for a in article.authors] == entry["authors"], entry["file"]
        assert sorted(t.name.casefold() for t in article.tags.all()) == sorted(t.casefold() for t in entry["tags"])
        assert article.standfirst == entry["standfirst"]


# --- The seed article -------------------------------------------------------------------------


def test_seed_article_url_sections_and_body(client, seed):
    assert seed.url == SEED_URL
    assert seed.get_parent().title == "World"
    assert [s.title for s in seed.additional_sections.all()] == ["Main Stories"]
    page = soup(client, SEED_URL)
    assert page.select_one("h1.article__headline").get_text() == SEED_HEADLINE
    assert len(page.select(".article__body p")) == 14
    assert page.select_one(".article__lead img") is not None
    assert [a.get_text() for a in page.select(".bylines a[rel=author]")] == ["Samir Haddad"]
    assert "Main Stories" in page.select_one(".article__also").get_text()


def test_seed_article_is_listed_in_main_stories_and_world(client, seed):
    for url in ("/main-stories/", "/world/"):
        links = [a["href"] for a in soup(client, url).select(".card__headline a")]
        assert SEED_URL in links, url


def test_home_front_main_stories_start_with_the_seed(client, seed):
    home = HomePage.objects.get()
    assert home.main_stories.order_by("sort_order").first().article_id == seed.pk
    cards = soup(client, "/").select(".front-block--main .card")
    assert len(cards) >= 3
    assert cards[0].select_one(".card__headline a")["href"] == SEED_URL
    assert "card--lead" in cards[0]["class"]


# --- Dates ------------------------------------------------------------------------------------


def test_some_articles_show_updated_and_the_others_do_not(client, demo, db):
    updated = [e for e in CATALOG["articles"] if e.get("updated_hours_after")]
    not_updated = [e for e in CATALOG["articles"] if not e.get("updated_hours_after")]
    assert updated and not_updated
    for entry in CATALOG["articles"]:
        article = catalog_article(entry)
        assert article.was_updated == bool(entry.get("updated_hours_after")), entry["file"]
        assert article.last_published_at >= article.first_published_at

    dates = soup(client, catalog_article(updated[0]).url).select_one(".article__dates").get_text()
    assert "Updated" in dates
    dates = soup(client, catalog_article(not_updated[0]).url).select_one(".article__dates").get_text()
    assert "Published" in dates and "Updated" not in dates


def test_publication_times_follow_the_catalog(demo, db):
    by_age = sorted(CATALOG["articles"], key=lambda e: e["days_ago"])
    newest, oldest = catalog_article(by_age[0]), catalog_article(by_age[-1])
    assert newest.first_published_at > oldest.first_published_at
    spread = newest.first_published_at - oldest.first_published_at
    assert abs(spread.total_seconds() / 86400 - (by_age[-1]["days_ago"] - by_age[0]["days_ago"])) < 0.01


# --- Running `masthead demo` again --------------------------------------------------------------


def test_running_demo_again_keeps_data_and_password(demo, db, settings):
    settings.DATA_DIR = demo["data_dir"]
    password_file = demo["data_dir"] / "demo-admin-password.txt"
    password = password_file.read_text().strip()
    assert password and password in demo["output"]
    assert password_file.stat().st_mode & 0o777 == 0o600
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(password)
    hashed = admin.password
    counts = (ArticlePage.objects.count(), SectionPage.objects.count(), Author.objects.count(), Page.objects.count())
    seed_pk = ArticlePage.objects.get(title=SEED_HEADLINE).pk

    out = StringIO()
    call_command("demo", no_serve=True, stdout=out)

    assert "already present: keeping your data" in out.getvalue()
    assert "Loaded" not in out.getvalue()
    assert (ArticlePage.objects.count(), SectionPage.objects.count(), Author.objects.count(), Page.objects.count()) == counts
    assert ArticlePage.objects.get(title=SEED_HEADLINE).pk == seed_pk
    assert password_file.read_text().strip() == password
    assert f"login: admin / {password}" in out.getvalue()
    admin.refresh_from_db()
    assert admin.password == hashed and admin.check_password(password)
    assert get_user_model().objects.filter(username="admin").count() == 1
