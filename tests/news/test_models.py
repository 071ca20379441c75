from datetime import timedelta

import pytest
from django.utils import timezone
from wagtail.contrib.redirects.models import Redirect

from masthead.news import queries
from masthead.news.models import ArticlePage


def test_article_url_is_readable_and_under_primary_section(make_section, make_article):
    world = make_section("World")
    article = make_article(world, "US Calls on Israel to End Large-Scale Ground Invasion in Gaza")
    assert article.url == "/world/us-calls-on-israel-to-end-large-scale-ground-invasion-in-gaza/"


def test_word_count_and_reading_time_are_derived_on_save(make_section, make_article):
    article = make_article(make_section("World"), paragraphs=["word " * 460], standfirst="two words")
    assert article.word_count == 462
    assert article.reading_minutes == 3  # 462 / 230 words a minute, rounded up


def test_updated_only_when_republished_later(make_section, make_article):
    article = make_article(make_section("World"))
    assert not article.was_updated  # first publish writes both times together
    ArticlePage.objects.filter(pk=article.pk).update(last_published_at=article.first_published_at + timedelta(hours=2))
    article.refresh_from_db()
    assert article.was_updated


def test_slug_change_leaves_a_redirect(make_section, make_article, client, django_capture_on_commit_callbacks):
    article = make_article(make_section("World"), "Old headline")
    old_url = article.url
    article.slug = "new-headline"
    # Wagtail creates the redirect once the publish transaction commits.
    with django_capture_on_commit_callbacks(execute=True):
        article.save_revision().publish()
    assert Redirect.objects.filter(old_path=old_url.rstrip("/")).exists()
    response = client.get(old_url)
    assert response.status_code == 301
    assert response["Location"].endswith("/world/new-headline/")


def test_section_move_leaves_a_redirect(make_section, make_article, client):
    world, politics = make_section("World"), make_section("Politics")
    article = make_article(world, "Moving story")
    old_url = article.url
    article.move(politics, pos="last-child")
    response = client.get(old_url)
    assert response.status_code == 301
    assert response["Location"].endswith("/politics/moving-story/")
    assert client.get(response["Location"]).status_code == 200


def test_section_lists_subsections_and_further_sections_newest_first(make_section, make_article):
    world, main = make_section("World"), make_section("Main Stories")
    mideast = make_section("Middle East", parent=world)
    old = make_article(world, "Old world story", days_ago=5)
    sub = make_article(mideast, "Mideast story", days_ago=2)
    flagged = make_article(make_section("Politics"), "Front page politics", further=[main], days_ago=1)
    make_article(world, "Unpublished", publish=False)
    assert [a.title for a in queries.section_articles(world)] == ["Mideast story", "Old world story"]
    assert [a.title for a in queries.section_articles(main)] == ["Front page politics"]
    assert old and sub and flagged


def test_a_sections_subsections_are_its_live_public_children_in_tree_order(desk, make_section):
    from wagtail.models import PageViewRestriction

    gulf = make_section("Gulf", parent=desk.world)
    hidden = make_section("Hidden", parent=desk.world, show_in_menus=False)  # the menu's choice only
    private = make_section("Private desk", parent=desk.world)
    PageViewRestriction.objects.create(page=private, restriction_type=PageViewRestriction.LOGIN)
    make_section("Deeper", parent=gulf)  # a grandchild
    links = queries.child_sections(desk.world)
    assert [(link.title, link.url) for link in links] == [
        ("Middle East", "/world/middle-east/"),
        ("Gulf", "/world/gulf/"),
        ("Hidden", "/world/hidden/"),
    ]
    assert hidden.pk in {link.pk for link in links}
    assert [link.title for link in queries.child_sections(HomePage_get(), menu_only=True)] == [
        "World",
        "Politics",
        "Main Stories",
    ]


def test_home_front_main_stories_ordered_by_editor_then_newest(home, make_section, make_article):
    from masthead.news.models import HomeMainStory

    world = make_section("World")
    a = make_article(world, "A", days_ago=3)
    b = make_article(world, "B", days_ago=2)
    c = make_article(world, "C", days_ago=1)
    home.main_stories = [HomeMainStory(article=a, sort_order=0)]
    home.save_revision().publish()
    front = queries.home_front(HomePage_get())
    assert [x.title for x in front["main_stories"]][:3] == ["A", "C", "B"]


def HomePage_get():
    from masthead.news.models import HomePage

    return HomePage.objects.get()


def test_home_front_latest_per_section_excludes_main_stories(make_section, make_article):
    world, sport = make_section("World"), make_section("Sport")
    for i in range(8):
        make_article(world, f"World {i}", days_ago=i)
        make_article(sport, f"Sport {i}", days_ago=i + 0.5)
    front = queries.home_front(HomePage_get())
    main_titles = {a.title for a in front["main_stories"]}
    blocks = {b["section"].title: [a.title for a in b["articles"]] for b in front["section_blocks"]}
    assert len(main_titles) == queries.MAIN_STORIES
    assert set(blocks) == {"World", "Sport"}
    for titles in blocks.values():
        assert len(titles) == queries.PER_SECTION
        assert not main_titles & set(titles)
    assert blocks["World"] == sorted(blocks["World"], key=lambda t: int(t.split()[-1]))


def test_home_front_blocks_take_subsections_and_leave_out_private_sections(make_section, make_article):
    from wagtail.models import PageViewRestriction

    world, desk = make_section("World"), make_section("Desk")
    mideast = make_section("Middle East", parent=world)
    for i in range(queries.MAIN_STORIES):  # the newest stories fill the main stories
        make_article(make_section(f"Filler {i}", show_in_menus=False), f"Filler {i}", days_ago=i / 10)
    make_article(world, "World story", days_ago=3)
    make_article(mideast, "Mideast story", days_ago=2)
    make_article(desk, "Desk memo", days_ago=1)
    PageViewRestriction.objects.create(page=desk, restriction_type=PageViewRestriction.LOGIN)
    front = queries.home_front(HomePage_get())
    blocks = {b["section"].title: [a.title for a in b["articles"]] for b in front["section_blocks"]}
    assert blocks == {"World": ["Mideast story", "World story"]}
    assert front["section_blocks"][0]["section"].url == "/world/"


def test_a_story_picked_twice_is_shown_once_and_the_front_still_filled(home, make_section, make_article):
    from masthead.news.models import HomeMainStory

    world = make_section("World")
    stories = [make_article(world, f"S{i}", days_ago=i) for i in range(7)]
    home.main_stories = [HomeMainStory(article=stories[6], sort_order=n) for n in range(2)]
    home.save_revision().publish()
    titles = [card.title for card in queries.home_front(HomePage_get())["main_stories"]]
    assert titles == ["S6", "S0", "S1", "S2", "S3"]


def test_home_front_preview_shows_picks_not_saved_yet(home, make_section, make_article):
    from masthead.news.models import HomeMainStory

    world = make_section("World")
    old = make_article(world, "Old pick", days_ago=9)
    make_article(world, "Newest", days_ago=0)
    home.main_stories = [HomeMainStory(article=old, sort_order=0)]  # in memory, as a preview holds it
    assert [card.title for card in queries.home_front(home)["main_stories"]] == ["Old pick", "Newest"]
    saved = queries.home_front(HomePage_get())["main_stories"]
    assert [card.title for card in saved] == ["Newest", "Old pick"]


@pytest.mark.parametrize("days", [0, 10])
def test_published_articles_excludes_future_drafts(make_section, make_article, days):
    world = make_section("World")
    make_article(world, "Draft", publish=False)
    live = make_article(world, "Live", days_ago=days)
    assert list(queries.published_articles()) == [live]
    assert timezone.now() > live.first_published_at
