"""What each process remembers of the site's structure (masthead.caching.config), and that any
change to it, in any process, makes every process forget."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.core.signals import request_finished, request_started
from django.db import connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from wagtail.models import Page, PageViewRestriction, Site

from masthead.caching import config
from masthead.caching.models import ConfigGeneration
from masthead.news.models import HomePage


@contextmanager
def a_request():
    """What Django does around each request: the signals that scope the generation read."""
    request_started.send(sender=None)
    try:
        yield
    finally:
        request_finished.send(sender=None)


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        return self.calls


# Committed transactions, as in production (inside a test's transaction nothing is remembered);
# serialized_rollback brings back the home page and the generation row the migrations made.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def counter():
    config._remembered.clear()
    yield Counter()
    config._remembered.clear()


def test_remembered_across_requests_until_a_page_changes(counter, make_section):
    section = make_section("World")
    for _ in range(3):
        with a_request():
            assert config.remembered("x", counter) == 1
    section.title = "The World"
    section.save_revision().publish()
    with a_request():
        assert config.remembered("x", counter) == 2
        assert config.remembered("x", counter) == 2  # and again within the same generation
    assert counter.calls == 2


@pytest.mark.parametrize("change", ["site", "restriction", "move", "delete"])
def test_every_structural_change_makes_processes_forget(counter, make_section, change):
    world, politics = make_section("World"), make_section("Politics")
    with a_request():
        config.remembered("x", counter)
    before = ConfigGeneration.objects.get(pk=1).n
    if change == "site":
        site = Site.objects.get()
        site.site_name = "Renamed"
        site.save()
    elif change == "restriction":
        PageViewRestriction.objects.create(page=world, restriction_type=PageViewRestriction.LOGIN)
    elif change == "move":
        politics.move(world, pos="last-child")
    else:
        politics.delete()
    assert ConfigGeneration.objects.get(pk=1).n != before
    with a_request():
        assert config.remembered("x", counter) == 2


def test_another_process_change_is_seen_through_the_database(counter):
    """A change made elsewhere is only a new number in the row: nothing local is cleared."""
    with a_request():
        config.remembered("x", counter)
    ConfigGeneration.objects.filter(pk=1).update(n=ConfigGeneration.new_number())
    with a_request():
        assert config.remembered("x", counter) == 2


def test_nothing_remembered_outside_a_request_or_inside_a_transaction(counter):
    assert config.remembered("x", counter) == 1
    assert config.remembered("x", counter) == 2  # outside a request: always afresh
    with a_request(), transaction.atomic():
        assert config.remembered("x", counter) == 3
        assert config.remembered("x", counter) == 4  # might yet be rolled back: not kept


def test_nothing_remembered_without_the_row(counter):
    """A database emptied under a running process (a test flush) has no row: read afresh."""
    ConfigGeneration.objects.all().delete()
    with a_request():
        assert config.remembered("x", counter) == 1
        assert config.remembered("x", counter) == 2


def test_site_lookup_is_remembered_and_follows_an_edit(home):
    config._remembered.clear()
    factory = RequestFactory()
    with a_request():
        assert Site.find_for_request(factory.get("/")).site_name != "Renamed"
    with a_request(), CaptureQueriesContext(connection) as queries:
        first = Site.find_for_request(factory.get("/"))
        second = Site.find_for_request(factory.get("/"))
    assert not [q for q in queries.captured_queries if "wagtailcore_site" in q["sql"]]
    assert first == second and first is not second  # one row, an instance per request
    # The root comes as the home front itself, so routing does not fetch it: no query, and a
    # page object of its own for each request.
    with a_request(), CaptureQueriesContext(connection) as queries:
        root = Site.find_for_request(factory.get("/")).root_page
        assert type(root) is HomePage and root.specific is root and root.title == home.title
    assert len(queries.captured_queries) == 1  # the generation, read once per request
    assert root is not first.root_page
    # Outside a request nothing is remembered, and nothing more than the plain root is read.
    with CaptureQueriesContext(connection) as queries:
        assert type(Site.find_for_request(factory.get("/")).root_page) is Page
    assert len(queries.captured_queries) == 1
    site = Site.objects.get()
    site.site_name = "Renamed"
    site.save()
    with a_request():
        assert Site.find_for_request(factory.get("/")).site_name == "Renamed"


def test_the_menu_follows_a_renamed_section(client, make_section, make_article):
    config._remembered.clear()
    world = make_section("World")
    make_article(world, "A story")
    assert ">World</a></li>" in client.get("/").content.decode()
    world.title = "Planet"
    world.save_revision().publish()
    page = client.get("/").content.decode()
    assert ">Planet</a></li>" in page and ">World</a></li>" not in page


def test_the_home_fronts_blocks_and_a_sections_subsections_follow_renamed_sections(
    client, make_section, make_article
):
    config._remembered.clear()
    world = make_section("World")
    gulf = make_section("Gulf", parent=world)
    for n in range(6):  # five fill the main stories, the sixth World's block
        make_article(gulf, f"Story {n}", days_ago=n)
    for _ in range(2):  # the second request reads what the first remembered
        home, front = client.get("/").content.decode(), client.get("/world/").content.decode()
    assert '<a href="/world/">World</a></h2>' in home and '<a href="/world/gulf/">Gulf</a></li>' in front
    world.title, gulf.title = "Planet", "Gulf states"
    world.save_revision().publish()
    gulf.save_revision().publish()
    home, front = client.get("/").content.decode(), client.get("/world/").content.decode()
    assert '<a href="/world/">Planet</a></h2>' in home and ">World</a>" not in home
    assert '<a href="/world/gulf/">Gulf states</a></li>' in front


def test_the_menu_is_remembered_per_mount_point(make_section):
    from django.urls import get_script_prefix, set_script_prefix

    from masthead.news import queries

    config._remembered.clear()
    make_section("World")
    request, home = RequestFactory().get("/"), HomePage.objects.get()
    before = get_script_prefix()
    try:
        with a_request():
            assert [link.url for link in queries.menu(home, request)] == ["/world/"]
            set_script_prefix("/news/")
            assert [link.url for link in queries.menu(home, request)] == ["/news/world/"]
    finally:
        set_script_prefix(before)


def test_a_draft_does_not_make_processes_forget(counter, make_section):
    """Saving a draft touches only what editors see; bumping would also queue every editor's
    save behind the one generation row."""
    section = make_section("World")
    before = ConfigGeneration.objects.get(pk=1).n
    section.title = "A draft title"
    section.save_revision()
    assert ConfigGeneration.objects.get(pk=1).n == before


def test_an_unreadable_generation_fails_nothing(counter, monkeypatch):
    """Code deployed before its migration ran: nothing is remembered, and nothing fails."""
    monkeypatch.setattr(config, "_table", lambda: "no_such_table")
    with a_request():
        assert config.remembered("x", counter) == 1
        assert config.remembered("x", counter) == 2


def test_a_full_memory_forgets_one_name_not_all(counter):
    with a_request():
        config.remembered("site", counter)
        for n in range(config.MAX_ENTRIES):
            config.remembered(f"host-{n}", counter)
        assert "site" not in config._remembered and f"host-{config.MAX_ENTRIES - 1}" in config._remembered
        assert len(config._remembered) == config.MAX_ENTRIES


def test_site_settings_are_read_once_and_follow_an_edit(client, make_section, make_article):
    """Every page shows the publication's settings and every article the comment policy: read
    once per generation, and seen on the next request after an editor saves them."""
    from masthead.comments.models import CommentPolicy
    from masthead.distribution.models import PublicationSettings

    config._remembered.clear()
    article = make_article(make_section("World"), "A story")
    url = article.url
    for _ in range(2):  # the first request makes the settings' rows, which starts a generation
        assert "switched off" not in client.get(url).content.decode()
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url).content.decode()
    read = [q["sql"] for q in queries.captured_queries]
    assert not [sql for sql in read if "comments_commentpolicy" in sql or "distribution_publicationsettings" in sql]
    assert "switched off" not in page

    site = Site.objects.get(is_default_site=True)
    policy = CommentPolicy.for_site(site)
    policy.comments_enabled = False
    policy.save()
    assert "Comments are switched off on this site." in client.get(url).content.decode()

    publication = PublicationSettings.for_site(site)
    publication.description = "News you can check"
    publication.save()
    assert '<meta name="description" content="News you can check">' in client.get("/").content.decode()


def test_card_section_labels_follow_a_renamed_section(client, make_section, make_article):
    """Cards take their section's name and address from the remembered site structure: one
    query fewer per list, and the next page after a rename shows the new name."""
    config._remembered.clear()
    world = make_section("World")
    make_article(world, "A story")
    label = 'class="card__section"><a href="/world/">World</a>'
    for _ in range(2):
        assert label in client.get("/").content.decode()
    with CaptureQueriesContext(connection) as queries:
        client.get("/")
    assert not [q for q in queries.captured_queries if q["sql"].startswith('SELECT "news_sectionpage"."page_ptr_id"')]
    world.title = "Planet"
    world.slug = "planet"
    world.save_revision().publish()
    page = client.get("/").content.decode()
    assert 'class="card__section"><a href="/planet/">Planet</a>' in page and label not in page


def test_images_make_processes_forget_but_not_their_lazily_filled_size(counter, make_image):
    """The publisher's logo is remembered with the publication's settings: replacing or deleting
    an image must be seen; Wagtail filling in an image's size on a reader's request must not
    make every process forget."""
    image = make_image("Logo")
    with a_request():
        assert config.remembered("x", counter) == 1
    image.file_size = None
    image.get_file_size()  # saves with update_fields=["file_size"]
    with a_request():
        assert config.remembered("x", counter) == 1
    image.title = "New logo"
    image.save()
    with a_request():
        assert config.remembered("x", counter) == 2
    image.delete()
    with a_request():
        assert config.remembered("x", counter) == 3


def test_a_new_generation_drops_this_process_copy_of_wagtails_site_root_paths(home):
    """Another process's Site save clears Wagtail's cached root paths only in that process;
    seeing the new generation clears them here too."""
    from django.core.cache import cache
    from wagtail.models.sites import SITE_ROOT_PATHS_CACHE_KEY, SITE_ROOT_PATHS_CACHE_VERSION

    with a_request():
        config.generation()
    Site.get_site_root_paths()
    assert cache.get(SITE_ROOT_PATHS_CACHE_KEY, version=SITE_ROOT_PATHS_CACHE_VERSION) is not None
    ConfigGeneration.objects.filter(pk=1).update(n=ConfigGeneration.new_number())  # as another process
    with a_request():
        config.generation()
    assert cache.get(SITE_ROOT_PATHS_CACHE_KEY, version=SITE_ROOT_PATHS_CACHE_VERSION) is None


def test_card_urls_are_remembered_per_site_and_follow_a_moved_section(home, make_section, make_article):
    """Cards' URLs (news.cards.page_url) are kept per site and generation: relative on the
    reader's own site, absolute on another, and new after the story's section moves."""
    from masthead.news.cards import page_url

    world = make_section("World")
    story = make_article(world, "A story")
    other_root = Page.objects.get(pk=home.pk).get_parent().add_child(title="Other", slug="other-home")
    other = Site.objects.create(hostname="other.example", port=80, root_page=other_root)
    factory = RequestFactory()
    try:
        with a_request():
            here = page_url(story.url_path, factory.get("/", HTTP_HOST="localhost"))
            there = page_url(story.url_path, factory.get("/", HTTP_HOST="other.example"))
            assert here == "/world/a-story/" and there == "http://localhost/world/a-story/"
            with CaptureQueriesContext(connection) as queries:
                assert page_url(story.url_path, factory.get("/", HTTP_HOST="localhost")) == here
            assert not [q for q in queries.captured_queries if "generation" not in q["sql"]]
    finally:
        # Deleting it (not the flush after the test) clears Wagtail's cached site root paths,
        # which live in Redis on the PostgreSQL run and would give later tests two sites.
        other.delete()
    world.title, world.slug = "Globe", "globe"
    world.save_revision().publish()
    story.refresh_from_db()
    with a_request():
        assert page_url(story.url_path, factory.get("/", HTTP_HOST="localhost")) == "/globe/a-story/"


def test_items_are_remembered_per_key_until_a_page_changes(counter, make_section):
    """remembered_item keeps one value per key of a map, for the generation."""
    section = make_section("World")
    for _ in range(2):
        with a_request():
            assert config.remembered_item("m", "a", counter) == 1
            assert config.remembered_item("m", "b", counter) == 2
    section.title = "The World"
    section.save_revision().publish()
    with a_request():
        assert config.remembered_item("m", "a", counter) == 3
    assert counter.calls == 3
