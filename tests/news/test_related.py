"""Related reading: "Related" (computed on publish, stored) and "More in <section>" (one query)."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext

from masthead.news import queries, related
from masthead.news.models import ArticlePage

pytestmark = pytest.mark.django_db


def fresh(article) -> ArticlePage:
    return ArticlePage.objects.get(pk=article.pk)


def titles_of(ids) -> list[str]:
    by_pk = {a.pk: a.title for a in ArticlePage.objects.filter(pk__in=ids)}
    return [by_pk[pk] for pk in ids]


def reading_of(article) -> dict:
    article = fresh(article)
    trail = queries.section_trail(article)
    return related.reading(article, section=trail[-1] if trail else None)


@pytest.fixture
def sections(make_section):
    world = make_section("World")
    return {"world": world, "mideast": make_section("Middle East", parent=world), "sport": make_section("Sport")}


def test_shared_tags_weighted_by_rarity_then_recency(sections, make_article):
    world, sport = sections["world"], sections["sport"]
    # "Common" is on many articles, so sharing it says less than sharing the rare "Aquifers".
    for n in range(6):
        make_article(sport, f"Filler {n}", tags=["Common"], days_ago=50 + n)
    both = make_article(world, "Shares both tags", tags=["Aquifers", "Common"], days_ago=30)
    rare_old = make_article(sport, "Shares the rare tag, older", tags=["Aquifers"], days_ago=20)
    rare_new = make_article(sport, "Shares the rare tag, newer", tags=["Aquifers"], days_ago=10)
    common_new = make_article(world, "Shares the common tag, newest", tags=["Common"], days_ago=1)
    make_article(world, "Shares nothing", tags=["Unrelated"], days_ago=0)
    article = make_article(world, "The story", tags=["Aquifers", "Common"], days_ago=5)

    ids = related.compute_related_ids(article)
    assert titles_of(ids[:4]) == [both.title, rare_new.title, rare_old.title, common_new.title]
    assert len(ids) == related.STORED
    assert article.pk not in ids and "Shares nothing" not in titles_of(ids)


def test_without_shared_tags_similar_text_in_its_sections_fills_the_list(sections, make_article):
    world, sport = sections["world"], sections["sport"]
    similar = make_article(world, "Drought empties reservoirs across the south", days_ago=9)
    less = make_article(sections["mideast"], "Reservoirs and rainfall: a guide", days_ago=1)
    make_article(world, "Parliament debates the budget", days_ago=1)  # same section, no shared words
    make_article(sport, "Drought reservoirs south empties", days_ago=1)  # similar, but another section
    article = make_article(world, "Drought: reservoirs in the south are empty", standfirst="Farmers fear the drought.")
    ids = related.compute_related_ids(article)
    assert titles_of(ids) == [similar.title, less.title]


def test_related_is_computed_when_published_and_refreshes_the_listed_articles(
    sections, make_article, django_capture_on_commit_callbacks
):
    world = sections["world"]
    with django_capture_on_commit_callbacks(execute=True):
        older = make_article(world, "Older story on tidal power", tags=["Tidal Power"], days_ago=3)
    assert fresh(older).related_ids == []
    with django_capture_on_commit_callbacks(execute=True):
        newer = make_article(world, "New tidal power plant opens", tags=["Tidal Power"], days_ago=0)
    assert fresh(newer).related_ids == [older.pk]
    assert fresh(older).related_ids == [newer.pk]  # the listed article now points back


def test_publishing_keeps_working_when_related_reading_fails(
    sections, make_article, django_capture_on_commit_callbacks, monkeypatch
):
    def broken(article):
        raise RuntimeError("boom")

    monkeypatch.setattr(related, "compute_related_ids", broken)
    with django_capture_on_commit_callbacks(execute=True):
        article = make_article(sections["world"], "Still published")
    assert fresh(article).live


def test_related_ids_survive_a_revision(sections, make_article, django_capture_on_commit_callbacks):
    world = sections["world"]
    other = make_article(world, "Other", tags=["Bees"])
    article = make_article(world, "Story", tags=["Bees"])
    ArticlePage.objects.filter(pk=article.pk).update(related_ids=[other.pk])
    # Publishing an old revision (captured before related_ids was set) does not bring back [].
    revision = fresh(article).get_latest_revision()
    revision.publish()
    assert fresh(article).related_ids == [other.pk]


def test_unpublished_and_deleted_articles_drop_out(sections, make_article):
    world = sections["world"]
    a = make_article(world, "Related A", tags=["Bees"], days_ago=3)
    b = make_article(world, "Related B", tags=["Bees"], days_ago=2)
    c = make_article(world, "Related C", tags=["Bees"], days_ago=1)
    article = make_article(world, "The story", tags=["Bees"])
    related.update_related(article, refresh_listed=False)
    assert [x.title for x in reading_of(article)["related_articles"]] == ["Related C", "Related B", "Related A"]
    fresh(b).unpublish()
    fresh(c).delete()
    assert [x.title for x in reading_of(article)["related_articles"]] == ["Related A"]
    assert fresh(a).live


def test_more_in_section_is_the_newest_of_the_primary_section(sections, make_article):
    world, mideast = sections["world"], sections["mideast"]
    for n in range(6):
        make_article(world, f"World dispatch {n}", days_ago=n + 1)
    make_article(mideast, "In a subsection", days_ago=0)  # only the primary section's own articles
    make_article(sections["sport"], "In another section", days_ago=0)
    make_article(world, "A draft", publish=False)
    shown_as_related = make_article(world, "Shown as related", tags=["Bees"], days_ago=0.5)
    article = make_article(world, "Beekeepers count hives", tags=["Bees"], days_ago=3.5)
    related.update_related(article, refresh_listed=False)

    reading = reading_of(article)
    assert [a.title for a in reading["related_articles"]] == ["Shown as related"]
    # Newest first, not the article itself, not what "Related" already shows.
    assert [a.title for a in reading["more_in_section"]] == [f"World dispatch {n}" for n in range(4)]
    assert reading["primary_section"].pk == world.pk
    assert shown_as_related.pk not in {a.pk for a in reading["more_in_section"]}


def test_article_page_shows_both_lists_before_comments(client, sections, make_article):
    world = sections["world"]
    other = make_article(world, "Bees return to the city", tags=["Bees"], days_ago=1)
    make_article(world, "Second world story", days_ago=2)
    article = make_article(world, "Beekeepers count hives", tags=["Bees"], days_ago=3)
    related.update_related(article, refresh_listed=False)
    doc = BeautifulSoup(client.get(fresh(article).url).content, "html.parser")
    aside = doc.select_one("article aside.related-reading")
    assert aside["aria-label"] == "Further reading"
    headings = [h.get_text() for h in aside.find_all("h2")]
    assert headings == ["Related", "More in World"]
    assert [h.get_text() for h in aside.select("section:nth-of-type(1) .card__headline")] == [other.title]
    assert [h.get_text() for h in aside.select("section:nth-of-type(2) .card__headline")] == ["Second world story"]
    assert aside.select_one("#more-title a")["href"] == world.url
    assert len(doc.find_all("h1")) == 1
    comments = doc.select_one("#comments")
    if comments is not None:  # the comments section comes after the related reading
        assert str(doc).index("related-reading") < str(doc).index('id="comments"')


def test_preview_of_an_unsaved_article_has_no_related_reading(sections):
    article = ArticlePage(title="Not saved yet", slug="not-saved")
    assert related.reading(article, section=sections["world"]) == {
        "related_articles": [], "more_in_section": [], "primary_section": None
    }  # fmt: skip


def test_fixed_queries_for_5_and_50_articles(client, sections, make_article, make_author, make_image):
    world = sections["world"]
    state = {"n": 0}

    def add(count: int) -> None:
        for _ in range(count):
            state["n"] += 1
            make_article(
                world, f"Story {state['n']}", authors=[make_author()], tags=["Bees", f"t{state['n']}"],
                lead_image=make_image(), days_ago=state["n"],
            )  # fmt: skip

    add(5)
    article = make_article(world, "The story", tags=["Bees"], lead_image=make_image(), days_ago=0)

    def count() -> tuple[int, int]:
        related.update_related(fresh(article), refresh_listed=False)
        reading_of(article)  # a first page fills caches that later ones find filled
        with CaptureQueriesContext(connection) as ctx:
            reading = reading_of(article)
        assert len(reading["related_articles"]) == related.SHOWN and reading["more_in_section"]
        with CaptureQueriesContext(connection) as on_publish:
            related.compute_related_ids(fresh(article))
        return len(ctx.captured_queries), len(on_publish.captured_queries)

    before = count()
    add(45)
    after = count()
    assert after[0] == before[0]  # the page: the same queries for 5 and 50 articles
    # On publish: at most two fixed sets (with or without the similar-text fill), never per article.
    assert before[1] <= 10 and after[1] <= 10
    # One query of the page: the newest of the section by an index range on the tree path, limited.
    with CaptureQueriesContext(connection) as ctx:
        reading_of(article)
    more = [q["sql"] for q in ctx.captured_queries if "LIMIT" in q["sql"] and '"path" >' in q["sql"]]
    assert len(more) == 1 and '"depth" =' in more[0]
    assert '"first_published_at" DESC' in more[0].split("ORDER BY")[1]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_more_in_section_ids_are_remembered_until_a_page_changes(client, make_section, make_article, calls_to):
    """The newest ids of a section are site structure (related.newest_in_section): asked once per
    generation, and a publish or unpublish anywhere shows at once on the next page."""
    from masthead.caching import config

    config._remembered.clear()
    world = make_section("World")
    for n in range(3):
        make_article(world, f"World dispatch {n}", days_ago=n + 1)
    article = make_article(world, "The story read", days_ago=10)
    asked = calls_to(related, "_newest_in_section")

    def more_in_section() -> list[str]:
        page = BeautifulSoup(client.get(article.url).content, "html.parser")
        return [a.get_text() for a in page.select("#more-title ~ .card-grid .card__headline a")]

    dispatches = [f"World dispatch {n}" for n in range(3)]
    assert more_in_section() == dispatches  # (its site settings' rows are made: a new generation)
    asked.clear()
    assert more_in_section() == dispatches
    assert more_in_section() == dispatches
    assert len(asked) == 1  # the second page asked nothing
    make_article(world, "Breaking", days_ago=0)
    assert more_in_section() == ["Breaking", *dispatches]
    ArticlePage.objects.get(title="World dispatch 0").unpublish()
    assert more_in_section() == ["Breaking", *dispatches[1:]]
    assert len(asked) == 3
    config._remembered.clear()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_trail_and_further_sections_are_remembered_links_that_follow_a_rename(
    client, make_section, make_article
):
    """An article's breadcrumb, "Also in" and "More in" name live sections from the map kept per
    generation (cards.live_sections): a renamed or unpublished section shows on the next page."""
    from masthead.caching import config

    config._remembered.clear()
    world, sport = make_section("World"), make_section("Sport")
    make_article(world, "Weather front moves east", days_ago=1)
    article = make_article(world, "Beekeepers count hives", further=[sport], days_ago=2)

    def shown() -> tuple[list[str], list[str], str]:
        page = BeautifulSoup(client.get(article.url).content, "html.parser")
        trail = [(a.get_text(), a["href"]) for a in page.select("nav.breadcrumb a")]
        also = [(a.get_text(), a["href"]) for a in page.select(".article__also a")]
        return trail, also, page.select_one("#more-title a").get_text()

    client.get(article.url)  # its site settings' rows are made: a new generation
    assert shown() == ([("Home", "/"), ("World", "/world/")], [("Sport", "/sport/")], "World")
    with CaptureQueriesContext(connection) as ctx:
        shown()
    assert not [q for q in ctx.captured_queries if 'FROM "news_sectionpage"' in q["sql"]]
    world.title = "The World"
    world.save_revision().publish()
    sport.unpublish()
    assert shown() == ([("Home", "/"), ("The World", "/world/")], [], "The World")
    config._remembered.clear()
