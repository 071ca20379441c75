"""Each content change purges exactly the pages that show what changed, and nothing else.

Every test caches every kind of public page (tests/caching/publication.py), makes one change the
way editors, moderators or readers do, lets its transaction commit, and then checks which pages
are a MISS (purged) and that every other page is still a HIT. The purge backends registered in
MASTHEAD_CACHE_PURGERS receive the same keys (what Varnish or a CDN would be asked to ban).
"""

from __future__ import annotations

import pytest
from django.test import Client
from taggit.models import Tag

from masthead.caching.purge import purge, purge_after_commit
from masthead.comments.models import Comment
from masthead.comments.moderation import moderate, set_pick
from masthead.news.models import ArticlePage, HomeMainStory
from tests.caching.conftest import PURGED, purged_keys, status, warm
from tests.caching.publication import pages_of

pytestmark = pytest.mark.usefixtures("page_cache")

# What a change to one article purges besides the article's own page and lists.
CONTENT_WIDE = {"home", "feed", "politics feed", "sitemap", "api list", "api bravo", "404"}


@pytest.fixture
def purged_pages(pub, committed):
    """`purged_pages(change)`: cache every page, run change() and commit, return the MISSes."""

    def run(change) -> set[str]:
        client = Client()
        pages = pages_of(pub)
        warm(client, pages.values())
        PURGED.clear()
        with committed():
            change()
        missed = {name for name, url in pages.items() if status(client, url) == "MISS"}
        return missed

    return run


def republish(page, **changes):
    revision_page = page.get_latest_revision_as_object()
    for name, value in changes.items():
        setattr(revision_page, name, value)
    revision_page.save_revision().publish()


# --- articles ----------------------------------------------------------------------------------


def test_editing_a_headline_purges_every_page_showing_the_article_and_its_lists(pub, purged_pages):
    missed = purged_pages(lambda: republish(pub.bravo, title="Bravo story, updated"))
    # Bravo's page; Politics' front and Delta's "More in Politics"; Ben's page and the "vote"
    # tag's; and the site-wide lists (home, feeds, sitemaps, API, 404s).
    assert missed == {"bravo", "politics", "delta", "ben", "tag vote"} | CONTENT_WIDE
    # "Related" under Bravo is recomputed from its new headline too (r<id>, when it changes).
    assert purged_keys() - {f"r{pub.bravo.pk}"} == {
        f"a{pub.bravo.pk}", f"s{pub.politics.pk}", f"sd{pub.politics.pk}", f"au{pub.ben.pk}",
        f"t{Tag.objects.get(slug='vote').pk}",
        "home", "feeds", "sitemaps", "api", "notfound",
    }  # fmt: skip
    # One purge for the publish's transaction; "Related", recomputed after it commits, is another.
    assert [call for call in PURGED if f"r{pub.bravo.pk}" not in call] == [PURGED[0]]


def test_the_new_headline_is_served_after_the_purge(pub, page_cache, committed):
    client = Client()
    warm(client, ["/", pub.bravo.url, "/feeds/rss/"])
    with committed():
        republish(pub.bravo, title="Bravo story, updated")
    for url in ("/", pub.bravo.url, "/feeds/rss/"):
        assert "Bravo story, updated" in client.get(url).content.decode(), url


def test_editing_a_headline_shown_only_as_a_card_purges_the_pages_with_the_card(pub, purged_pages):
    # Charlie is in Middle East (below World), by Ada and Ben, tagged gaza and ceasefire, and is
    # "Related" under Alpha (gaza).
    missed = purged_pages(lambda: republish(pub.charlie, title="Charlie, updated"))
    assert missed == {"charlie", "mideast", "world", "ada", "ben", "tag gaza", "tag ceasefire", "alpha"} | CONTENT_WIDE


def test_publishing_a_new_article_purges_its_lists_only(pub, make_article, purged_pages):
    missed = purged_pages(
        lambda: make_article(pub.politics, "Echo story", authors=[pub.ben], tags=["vote"])
    )
    assert missed == {"politics", "bravo", "delta", "ben", "tag vote"} | CONTENT_WIDE


def test_unpublishing_purges_where_it_was_shown(pub, purged_pages):
    missed = purged_pages(lambda: pub.bravo.unpublish())
    assert missed == {"bravo", "politics", "delta", "ben", "tag vote"} | CONTENT_WIDE


def test_scheduled_expiry_purges_where_it_was_shown(pub, purged_pages):
    """publish_scheduled unpublishes expired pages through the base Page model."""
    from django.core.management import call_command
    from django.utils import timezone

    ArticlePage.objects.filter(pk=pub.bravo.pk).update(expire_at=timezone.now() - timezone.timedelta(minutes=1))
    missed = purged_pages(lambda: call_command("publish_scheduled"))
    assert not ArticlePage.objects.get(pk=pub.bravo.pk).live
    assert missed == {"bravo", "politics", "delta", "ben", "tag vote"} | CONTENT_WIDE


def test_unpublished_article_is_gone_from_every_cached_page(pub, committed):
    client = Client()
    warm(client, ["/", pub.politics.url, "/tags/vote/", "/feeds/rss/"])
    with committed():
        pub.bravo.unpublish()
    assert client.get(pub.bravo.url).status_code == 404
    for url in ("/", pub.politics.url, "/tags/vote/", "/feeds/rss/"):
        assert "Bravo story" not in client.get(url).content.decode(), url


def test_moving_purges_the_old_and_the_new_sections(pub, purged_pages):
    missed = purged_pages(lambda: ArticlePage.objects.get(pk=pub.bravo.pk).move(pub.world, pos="last-child"))
    # Old: Politics (and Delta's "More in"). New: World (and Alpha's "More in World").
    assert missed == {"bravo", "politics", "delta", "world", "alpha", "ben", "tag vote"} | CONTENT_WIDE


def test_deleting_purges_where_it_was_shown(pub, purged_pages):
    missed = purged_pages(lambda: ArticlePage.objects.get(pk=pub.bravo.pk).delete())
    assert missed == {"bravo", "politics", "delta", "ben", "tag vote"} | CONTENT_WIDE


def test_retagging_purges_the_old_tag_and_the_new(pub, purged_pages):
    def retag():
        page = pub.bravo.get_latest_revision_as_object()
        page.tags.set(["ceasefire"])
        page.save_revision().publish()

    missed = purged_pages(retag)
    # Charlie, tagged ceasefire too, now lists Bravo under "Related" (masthead.news.related).
    assert missed == {"bravo", "politics", "delta", "ben", "tag vote", "tag ceasefire", "charlie"} | CONTENT_WIDE


def test_a_draft_purges_nothing(pub, purged_pages):
    def draft():
        page = pub.bravo.get_latest_revision_as_object()
        page.title = "An unpublished idea"
        page.save_revision()

    assert purged_pages(draft) == set()
    assert PURGED == []


# --- comments ----------------------------------------------------------------------------------


@pytest.fixture
def comment_on_charlie(pub):
    def make(state: str) -> Comment:
        return Comment.objects.create(
            article=pub.charlie, author_name="Cy", author_email="cy@example.org", body="Well put.", state=state
        )

    return make


# Charlie's page, and every card of Charlie (they show its comment count), API items included;
# Alpha's page has one under "Related".
CHARLIE_CARDS = {"charlie", "home", "world", "mideast", "ada", "ben", "tag gaza", "tag ceasefire", "api list", "alpha"}


def test_approving_a_comment_purges_the_article_and_its_cards(pub, comment_on_charlie, purged_pages):
    comment = comment_on_charlie(Comment.State.PENDING)
    assert purged_pages(lambda: moderate([comment], Comment.State.APPROVED)) == CHARLIE_CARDS
    assert purged_keys() == {f"c{pub.charlie.pk}"}


def test_removing_a_comment_purges_the_same(pub, comment_on_charlie, purged_pages):
    comment = comment_on_charlie(Comment.State.APPROVED)
    assert purged_pages(lambda: moderate([comment], Comment.State.REMOVED)) == CHARLIE_CARDS


def test_unspamming_a_comment_purges_the_same(pub, comment_on_charlie, purged_pages):
    comment = comment_on_charlie(Comment.State.SPAM)
    assert purged_pages(lambda: moderate([comment], Comment.State.APPROVED)) == CHARLIE_CARDS


def test_moderating_a_comment_nobody_sees_purges_nothing(pub, comment_on_charlie, purged_pages):
    comment = comment_on_charlie(Comment.State.PENDING)
    assert purged_pages(lambda: moderate([comment], Comment.State.SPAM)) == set()
    assert purged_pages(lambda: comment_on_charlie(Comment.State.PENDING)) == set()


def test_picking_a_comment_purges_the_article(pub, comment_on_charlie, purged_pages):
    comment = comment_on_charlie(Comment.State.APPROVED)
    assert purged_pages(lambda: set_pick(comment, True)) == CHARLIE_CARDS


def test_a_trusted_readers_comment_shows_at_once_on_the_cached_page(pub, committed):
    client = Client()
    warm(client, [pub.charlie.url])
    with committed():
        Comment.objects.create(
            article=pub.charlie, author_name="Cy", author_email="cy@example.org", body="Posted and approved.",
            state=Comment.State.APPROVED,
        )  # fmt: skip
    assert "Posted and approved." in client.get(pub.charlie.url).content.decode()


# --- authors, sections, tags, the home front ---------------------------------------------------


def test_editing_an_author_purges_their_bylines_and_page(pub, purged_pages):
    def rename():
        pub.ada.name = "Ada Renamed"
        pub.ada.save()

    missed = purged_pages(rename)
    # Ada writes Alpha and Charlie: their pages, every list with their cards (Ben's page has
    # Charlie's), the feed items (not the Politics feed: Bravo and Delta are Ben's alone), the API,
    # sitemaps, 404s.
    assert missed == {
        "ada", "ben", "alpha", "charlie", "home", "world", "mideast", "main", "tag gaza", "tag ceasefire",
        "feed", "sitemap", "api list", "api bravo", "404",
    }  # fmt: skip
    assert purged_keys() == {f"an{pub.ada.pk}", "sitemaps", "api", "notfound"}


def test_editing_a_section_purges_where_its_name_and_address_show(pub, purged_pages):
    # Middle East is not in the menu (it is below World): its front, World's list of subsections,
    # Charlie's breadcrumb, and every card of Charlie (cards link into the section; Alpha's page
    # has one under "Related").
    missed = purged_pages(lambda: republish(pub.mideast, title="Mideast"))
    assert missed == {
        "mideast", "world", "charlie", "home", "alpha", "ada", "ben", "tag gaza", "tag ceasefire",
        "feed", "sitemap", "api list", "api bravo", "404",
    }  # fmt: skip


def test_editing_a_section_in_the_menu_purges_every_page_with_the_menu(pub, purged_pages):
    missed = purged_pages(lambda: republish(pub.politics, title="Politics and power"))
    html_pages = {name for name in pages_of(pub) if not name.startswith(("feed", "politics feed", "api", "sitemap", "robots"))}
    assert missed == html_pages | {"politics feed", "feed", "sitemap", "api list", "api bravo"}


def test_renaming_a_sections_slug_purges_the_addresses_below_it(pub, purged_pages):
    missed = purged_pages(lambda: republish(pub.mideast, slug="mideast"))
    assert {"mideast", "charlie", "world", "home"} <= missed
    assert {"bravo", "delta", "politics", "tag vote", "robots"}.isdisjoint(missed)


def test_editing_a_tag_purges_the_pages_that_name_it(pub, purged_pages):
    def rename():
        tag = Tag.objects.get(slug="vote")
        tag.name = "Votes"
        tag.save()

    missed = purged_pages(rename)
    # Its page, the articles listing it as a topic, the feed items with it as a category.
    assert missed == {"tag vote", "bravo", "delta", "feed", "politics feed", "sitemap", "api list", "api bravo", "404"}


def test_editing_the_home_front_purges_the_home_front_only(pub, purged_pages):
    def pick():
        home = pub.world.get_parent().specific.get_latest_revision_as_object()
        home.main_stories = [HomeMainStory(article=pub.delta)]
        home.save_revision().publish()

    assert purged_pages(pick) == {"home"}


def test_site_settings_purge_every_page(pub, purged_pages):
    from masthead.distribution.models import PublicationSettings
    from wagtail.models import Site

    def change():
        settings = PublicationSettings.for_site(Site.objects.get(is_default_site=True))
        settings.description = "A new description."
        settings.save()

    assert purged_pages(change) == set(pages_of(pub))


# --- the purge itself --------------------------------------------------------------------------


def test_purge_is_by_key_and_calls_every_backend(pub, page_cache, settings):
    settings.MASTHEAD_CACHE_PURGERS = [
        "tests.caching.conftest.record",
        "tests.caching.test_invalidation.failing_backend",
        "tests.caching.test_invalidation.failing_backend",
    ]
    client = Client()
    warm(client, [pub.bravo.url, pub.alpha.url])
    assert purge([f"a{pub.bravo.pk}", "Not A Key!", ""], "test") == [f"a{pub.bravo.pk}"]
    assert PURGED == [[f"a{pub.bravo.pk}"]]  # the failing backends were logged, not raised
    assert status(client, pub.bravo.url) == "MISS" and status(client, pub.alpha.url) == "HIT"


def failing_backend(keys):
    raise ConnectionError("Varnish is down")


def test_a_rolled_back_change_purges_nothing(pub, committed):
    from django.db import transaction

    with committed():
        try:
            with transaction.atomic():
                purge_after_commit(["a1"], "doomed")
                raise RuntimeError
        except RuntimeError:
            pass
        purge_after_commit(["a2"], "kept")
    assert PURGED == [["a2"]]
