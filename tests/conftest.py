"""Shared fixtures: a small publication built through the same APIs editors and importers use."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.utils import timezone
from django.utils.text import slugify

from masthead.importers.service import body_from_paragraphs
from masthead.news.models import ArticleByline, ArticlePage, Author, HomePage, SectionPage
from tests.cli_support import migrated_dir, migrated_template  # noqa: F401 (shared fixtures)

# scripts/run-tests.sh runs the suite on SQLite and again on PostgreSQL with Redis. A module
# marked `own_data` drives real `masthead` processes on data directories of their own (SQLite,
# tests/cli_support.py: masthead_env) or touches no database at all. Its tests that ask for
# nothing of the run's own (database, cache, settings) give the same result in both passes, so
# they are marked `one_pass` here: both passes leave them out (-m "not one_pass"), and they
# run once on their own (-m one_pass).
RUN_STATE_FIXTURES = {
    "db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback",
    "client", "admin_client", "admin_user", "django_user_model", "rf", "settings", "live_server",
}  # fmt: skip


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        if (
            item.get_closest_marker("own_data")
            and not item.get_closest_marker("django_db")
            and not RUN_STATE_FIXTURES & set(item.fixturenames)
        ):
            item.add_marker(pytest.mark.one_pass)

REPO = Path(__file__).resolve().parent.parent
SEED_FILE = REPO / "masthead" / "demo" / "seed-article.txt"

_counter = itertools.count(1)


@pytest.fixture
def home(db) -> HomePage:
    return HomePage.objects.get()


@pytest.fixture
def make_section(home):
    def make(title: str, parent=None, show_in_menus: bool = True) -> SectionPage:
        section = SectionPage(title=title, slug=slugify(title), show_in_menus=show_in_menus)
        (parent or home).add_child(instance=section)
        section.save_revision().publish()
        return section

    return make


@pytest.fixture
def make_author(db):
    def make(name: str | None = None) -> Author:
        name = name or f"Author {next(_counter)}"
        return Author.objects.create(name=name, slug=slugify(name), role="Reporter", bio=f"{name} reports.")

    return make


@pytest.fixture
def make_article(db):
    def make(
        section: SectionPage,
        title: str | None = None,
        *,
        authors=(),
        tags=(),
        further=(),
        paragraphs=("A paragraph of news.",),
        standfirst: str = "",
        lead_image=None,
        days_ago: float | None = None,
        publish: bool = True,
    ) -> ArticlePage:
        title = title or f"Story number {next(_counter)}"
        article = ArticlePage(title=title, slug=slugify(title), standfirst=standfirst, lead_image=lead_image, live=False)
        article.body = body_from_paragraphs(list(paragraphs))
        section.add_child(instance=article)
        article.bylines = [ArticleByline(author=a, sort_order=i) for i, a in enumerate(authors)]
        article.tags.set(list(tags))
        article.additional_sections.set(list(further))
        revision = article.save_revision()
        if publish:
            revision.publish()
            if days_ago is not None:
                when = timezone.now() - timedelta(days=days_ago)
                ArticlePage.objects.filter(pk=article.pk).update(first_published_at=when, last_published_at=when)
        return ArticlePage.objects.get(pk=article.pk)

    return make


@pytest.fixture
def make_image(db):
    """A picture, 320x180 unless told: smaller than the renditions pages ask for, so most tests
    make no rendition files larger than the original. Pass an editor's size (say 1600x900) to
    get every rendition a page asks for."""
    from django.core.files.images import ImageFile
    from io import BytesIO
    from wagtail.images import get_image_model

    from masthead.demo.images import landscape

    def make(title: str | None = None, width: int = 320, height: int = 180):
        title = title or f"Picture {next(_counter)}"
        image = get_image_model()(title=title, description=f"A picture: {title}")
        image.file = ImageFile(BytesIO(landscape(title, width, height)), name=f"{slugify(title)}.jpg")
        image.save()
        return image

    return make


@pytest.fixture
def desk(make_section, make_author) -> SimpleNamespace:
    """The sections and bylines most page tests start from: World with Middle East below it,
    Politics and Main Stories (in that tree order), and the authors Ada Reporter and Ben Writer."""
    world = make_section("World")
    return SimpleNamespace(
        world=world,
        mideast=make_section("Middle East", parent=world),
        politics=make_section("Politics"),
        main=make_section("Main Stories"),
        ada=make_author("Ada Reporter"),
        ben=make_author("Ben Writer"),
    )


@pytest.fixture
def count_queries(client):
    """`count_queries(url)`: the queries one GET of `url` costs once warm (the first GET makes
    renditions and fills caches, which later requests do not pay for again)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(url: str) -> int:
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200, url
        return len(ctx.captured_queries)

    return count


@pytest.fixture
def calls_to(monkeypatch):
    """`calls_to(module, "name")`: a list that records the arguments of every later call of
    `module.name`, which still runs (how often a remembered query is really asked)."""

    def watch(module, name: str) -> list:
        calls: list = []
        original = getattr(module, name)

        def recorded(*args):
            calls.append(args)
            return original(*args)

        monkeypatch.setattr(module, name, recorded)
        return calls

    return watch


@pytest.fixture
def fresh_cache():
    """Renditions are cached by image id, and SQLite reuses ids once a test's transaction rolls
    back, so an earlier test's cached rendition could answer for this test's picture. The
    in-process cache is this process's alone: clear it before and after. (A shared Redis cache
    is left alone; PostgreSQL never reuses ids.) Modules that render pictures use it with
    `pytestmark = pytest.mark.usefixtures("fresh_cache")`."""
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    local = isinstance(caches["default"], LocMemCache)
    if local:
        caches["default"].clear()
    yield
    if local:
        caches["default"].clear()
