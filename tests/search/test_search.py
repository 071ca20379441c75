"""/search/: ranked full-text search on the database's own engine, on SQLite and PostgreSQL.

Every test runs on whichever database DATABASE_URL selects; the suite runs on both.
"""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext
from wagtail.models import PageViewRestriction
from wagtail.search.models import IndexEntry

from masthead.importers.service import body_from_paragraphs
from masthead.news.models import ArticleByline, ArticlePage
from masthead.search import engine, highlight

pytestmark = pytest.mark.django_db


def search(client, **params) -> BeautifulSoup:
    response = client.get("/search/", params)
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.content, "html.parser")


def titles(doc: BeautifulSoup) -> list[str]:
    return [h.get_text() for h in doc.select(".search-result .card__headline")]


def found(client, query: str, **params) -> list[str]:
    return titles(search(client, q=query, **params))


@pytest.fixture
def world(make_section):
    return make_section("World")


# --------------------------------------------------------------------------------------------
# Matching and ranking


def test_each_field_is_searchable(client, world, make_author, make_article):
    author = make_author("Ottoline Quarrington")
    make_article(
        world,
        "Harbour cranes idle as dockers strike",
        standfirst="Shipping lines divert cargo to Rotterdam.",
        paragraphs=["Negotiators met overnight without agreement.", "The zephyrine clause remains disputed."],
        authors=[author],
        tags=["Labour Unrest"],
    )
    expected = ["Harbour cranes idle as dockers strike"]
    assert found(client, "cranes") == expected  # headline
    assert found(client, "Rotterdam") == expected  # standfirst
    assert found(client, "zephyrine") == expected  # body, second paragraph
    assert found(client, "Quarrington") == expected  # author name
    assert found(client, "Ottoline Quarrington") == expected
    assert found(client, "unrest") == expected  # tag, any case
    assert found(client, "nonexistentword") == []


def test_headline_match_outranks_body_only_match(client, world, make_article):
    make_article(world, "Walrus colony returns to the fjord", paragraphs=["Counting began at dawn."], days_ago=5)
    make_article(
        world, "Coastal survey finishes early", paragraphs=["A lone walrus was seen near the pier."], days_ago=1
    )
    # The body-only match is newer, so only the ranking can put the headline match first.
    assert found(client, "walrus") == ["Walrus colony returns to the fjord", "Coastal survey finishes early"]


def test_every_word_must_match_and_order_or_case_does_not(client, world, make_article):
    make_article(world, "Glacier retreat speeds up", paragraphs=["Meltwater lakes are growing."])
    make_article(world, "Glacier tourism booms", paragraphs=["Hotels are full."])
    assert found(client, "glacier meltwater") == ["Glacier retreat speeds up"]
    assert found(client, "MELTWATER Glacier") == ["Glacier retreat speeds up"]
    assert sorted(found(client, "glacier")) == ["Glacier retreat speeds up", "Glacier tourism booms"]


def test_query_syntax_is_never_passed_to_the_engine(client, world, make_article):
    make_article(world, "Budget vote delayed", paragraphs=["The council adjourned."])
    for query in ['"budget', 'budget" OR "x', "budget AND NOT", "NEAR(budget", "budget*", "title:budget",
                  "budget & !vote", "budget | (", "'; DROP TABLE x; --", "{title}:budget", "^budget", "\\"]:  # fmt: skip
        response = client.get("/search/", {"q": query})
        assert response.status_code == 200, query
    assert found(client, 'budget" (vote') == ["Budget vote delayed"]


def test_terms_of_keeps_words_only():
    assert engine.terms_of('  "Gaza" ceasefire -- talks*  ') == ["Gaza", "ceasefire", "talks"]
    assert engine.terms_of("war War WAR") == ["war"]
    assert engine.terms_of("!!! ***") == []
    assert len(engine.terms_of(" ".join(f"w{i}" for i in range(50)))) == engine.MAX_TERMS


# --------------------------------------------------------------------------------------------
# Only what readers may see, kept up to date


def test_search_follows_publish_edit_and_unpublish(client, world, make_article, make_author):
    article = make_article(world, "Quokka census begins", paragraphs=["Rangers count quokkas."], publish=False)
    assert found(client, "quokka") == []  # a draft is indexed by Wagtail but never shown

    article.save_revision().publish()
    assert found(client, "quokka") == ["Quokka census begins"]

    # Edit and publish: the new headline, body, byline and tags are found, the old ones are not.
    article = ArticlePage.objects.get(pk=article.pk)
    article.title = "Numbat census begins"
    article.body = body_from_paragraphs(["Rangers count numbats."])
    article.bylines = [ArticleByline(author=make_author("Wilhelmina Brackett"))]
    article.tags.set(["Marsupials"])
    article.save_revision().publish()
    assert found(client, "quokka") == []
    assert found(client, "numbats") == ["Numbat census begins"]
    assert found(client, "Brackett") == ["Numbat census begins"]
    assert found(client, "marsupials") == ["Numbat census begins"]

    # A saved draft changes nothing readers can find until it is published.
    article = ArticlePage.objects.get(pk=article.pk)
    article.title = "Bilby census begins"
    article.save_revision()
    assert found(client, "bilby") == []
    assert found(client, "numbat") == ["Numbat census begins"]

    ArticlePage.objects.get(pk=article.pk).unpublish()
    assert found(client, "numbat") == []

    ArticlePage.objects.get(pk=article.pk).get_latest_revision().publish()
    assert found(client, "bilby") == ["Bilby census begins"]

    ArticlePage.objects.get(pk=article.pk).delete()
    assert found(client, "bilby") == []
    assert not IndexEntry.objects.filter(object_id=str(article.pk)).exists()


def test_renaming_an_author_or_tag_updates_the_index(client, world, make_article, make_author):
    author = make_author("Peregrine Fotheringay")
    article = make_article(world, "Ferry timetable changes", authors=[author], tags=["Transport Policy"])
    author.name = "Peregrine Ashworth"
    author.save()
    assert found(client, "Ashworth") == [article.title]
    assert found(client, "Fotheringay") == []
    tag = article.tags.get()
    tag.name = "Ferries"
    tag.save()
    assert found(client, "ferries") == [article.title]
    assert found(client, "transport") == []


def test_private_sections_are_not_searched(client, make_section, make_article):
    members = make_section("Members")
    make_article(members, "Members-only briefing on tariffs")
    make_article(make_section("Business"), "Tariffs rise again")
    PageViewRestriction.objects.create(page=members, restriction_type=PageViewRestriction.LOGIN)
    assert found(client, "tariffs") == ["Tariffs rise again"]


# --------------------------------------------------------------------------------------------
# Filters and pages


def test_filters_by_section_author_and_dates(client, desk, make_article):
    world, mideast, politics, ada, ben = desk.world, desk.mideast, desk.politics, desk.ada, desk.ben
    make_article(world, "Harvest report from the plains", authors=[ada], days_ago=40)
    make_article(mideast, "Harvest report from the delta", authors=[ben], days_ago=10)
    make_article(politics, "Harvest report debated in parliament", authors=[ada], further=[world], days_ago=2)
    make_article(politics, "Harvest subsidies cut", authors=[ben], days_ago=1)

    def by(**params) -> set[str]:
        return set(found(client, "harvest", **params))

    # A section includes its subsections and articles filed there as a further section.
    assert by(section=world.pk) == {
        "Harvest report from the plains", "Harvest report from the delta", "Harvest report debated in parliament"
    }  # fmt: skip
    assert by(section=mideast.pk) == {"Harvest report from the delta"}
    assert by(author="ada-reporter") == {"Harvest report from the plains", "Harvest report debated in parliament"}
    from django.utils import timezone

    today = timezone.localdate()
    assert by(**{"from": (today - timezone.timedelta(days=15)).isoformat()}) == {
        "Harvest report from the delta", "Harvest report debated in parliament", "Harvest subsidies cut"
    }  # fmt: skip
    assert by(to=(today - timezone.timedelta(days=5)).isoformat()) == {
        "Harvest report from the plains", "Harvest report from the delta"
    }  # fmt: skip
    # "to" includes that whole day.
    assert by(**{"from": (today - timezone.timedelta(days=1)).isoformat(), "to": today.isoformat()}) == {
        "Harvest subsidies cut"
    }
    assert by(section=politics.pk, author="ben-writer", to=today.isoformat()) == {"Harvest subsidies cut"}
    doc = search(client, q="harvest", section=mideast.pk, author="ada-reporter")
    assert titles(doc) == [] and "widen the filters" in doc.get_text()


def test_bad_filters_are_shown_as_form_errors(client, world, make_article):
    make_article(world, "Harvest report")
    bad = [
        {"from": "2024-13-45"},
        {"from": "2024-05-01", "to": "2024-04-01"},
        {"to": "0001-01-01"},
        {"author": "nobody"},
        {"section": "not-a-number"},
        {"section": "999999"},
        {"q": "x" * 201},
    ]
    for params in bad:
        doc = search(client, q="harvest", **params) if "q" not in params else search(client, **params)
        assert titles(doc) == [], params
        assert doc.select(".search-field__error"), params
        invalid = doc.select("[aria-invalid=true]")
        assert invalid and all(
            doc.find(id=i["aria-describedby"].split()[-1]) for i in invalid
        ), params  # each error is tied to its field
        assert "Please correct" in doc.select_one("[role=status]").get_text(), params
        for date_input in doc.select("input[type=date]"):  # only ISO dates in a date input
            assert date_input.get("value") in (None, "2024-05-01", "2024-04-01", "0001-01-01"), params
    typed = search(client, q="harvest", **{"from": "02/03/2024"})
    assert typed.select_one("#search-from")["value"] == "2024-03-02"


def test_results_are_paginated_keeping_the_query_and_filters(client, world, make_article, settings):
    settings.MASTHEAD_PAGE_SIZE = 3
    for n in range(7):
        make_article(world, f"Lighthouse keeper diary {n}", days_ago=n)
    doc = search(client, q="lighthouse", section=world.pk)
    assert len(titles(doc)) == 3
    assert "7 results for “lighthouse”" in doc.select_one("[role=status]").get_text()
    next_href = doc.select_one("a[rel=next]")["href"]
    assert "q=lighthouse" in next_href and f"section={world.pk}" in next_href and "page=2" in next_href
    seen = []
    for page in (1, 2, 3):
        seen += found(client, "lighthouse", section=world.pk, page=page)
    assert len(seen) == 7 and len(set(seen)) == 7
    assert search(client, q="lighthouse", page="abc").select_one("ol.search-results")["start"] == "1"
    assert client.get("/search/", {"q": "lighthouse", "page": 9}).status_code == 404


def test_counting_stops_at_the_limit(client, world, make_article, settings, monkeypatch):
    from masthead.search import views

    monkeypatch.setattr(views, "COUNT_LIMIT", 5)
    settings.MASTHEAD_PAGE_SIZE = 3
    for n in range(7):
        make_article(world, f"Lighthouse keeper diary {n}", days_ago=n)
    doc = search(client, q="lighthouse")
    assert doc.select_one("[role=status]").get_text().startswith("More than 5 results for “lighthouse”")
    assert "(over 5 results)" in doc.title.get_text()
    assert doc.select_one(".pagination [aria-current]").get_text() == "Page 1 of 2"
    assert len(found(client, "lighthouse", page=2)) == 2  # the first 5 results, best first
    assert client.get("/search/", {"q": "lighthouse", "page": 3}).status_code == 404


def test_page_size_is_at_most_twenty(client, world, make_article, settings):
    settings.MASTHEAD_PAGE_SIZE = 50
    for n in range(22):
        make_article(world, f"Orchard bulletin {n}")
    assert len(found(client, "orchard")) == 20


# --------------------------------------------------------------------------------------------
# Snippets


def test_snippet_marks_terms_and_escapes_the_text(client, world, make_article):
    make_article(
        world,
        "Museum reopens",
        paragraphs=['Visitors saw <script>alert("x")</script> & the restored Walrus tapestry.'],
    )
    doc = search(client, q="walrus")
    snippet = doc.select_one(".search-result__snippet")
    assert [m.get_text() for m in snippet.find_all("mark")] == ["Walrus"]
    assert not snippet.find("script")
    raw = str(snippet)
    assert "&lt;script&gt;" in raw and "&amp; the restored <mark>Walrus</mark>" in raw


def test_snippet_window_and_word_forms():
    text = "Opening words. " + "filler " * 80 + "The elections were held; Election officials counted. " + "tail " * 80
    result = str(highlight.snippet(text, ["elections"]))
    assert "<mark>elections</mark>" in result and "<mark>Election</mark>" in result
    assert result.startswith("…") and result.endswith("…") and len(result) < highlight.WIDTH + 80
    # "a" or "war" must not mark every word that starts like them.
    assert "<mark>" not in str(highlight.snippet("An award was given.", ["a", "war"]))
    # No match (the hit was in a tag or a byline): the start of the text.
    assert str(highlight.snippet("First sentence here. Second one.", ["zzz"])) == "First sentence here. Second one."
    assert str(highlight.snippet("<b>&", ["b"])) == "&lt;<mark>b</mark>&gt;&amp;"


# --------------------------------------------------------------------------------------------
# The page: friendly when empty, accessible, a fixed number of queries


def test_empty_search_is_a_friendly_page_with_the_form(client, world):
    doc = search(client)
    assert len(doc.find_all("h1")) == 1
    form = doc.select_one("main form[role=search]")  # the page's own, not the header's box
    assert form and form["method"] == "get"
    for field in form.find_all(["input", "select"]):
        assert form.find("label", attrs={"for": field["id"]}), field
    assert {f["name"] for f in form.find_all(["input", "select"])} == {"q", "section", "author", "from", "to"}
    assert "Search every article" in doc.get_text()
    assert doc.find("meta", attrs={"name": "robots"})["content"] == "noindex, follow"
    doc = search(client, q="  !!!  ")
    assert "type some words" in doc.select_one("[role=status]").get_text()


def test_results_page_announces_the_count(client, world, make_article):
    make_article(world, "Comet visible tonight")
    doc = search(client, q="comet")
    assert len(doc.find_all("h1")) == 1
    assert doc.select_one("[role=status]").get_text().strip() == "1 result for “comet”."
    assert "Search: comet (1 result)" in doc.title.get_text()
    assert doc.select_one("#search-q")["value"] == "comet"
    card = doc.select_one(".search-result article.card")
    assert card.select_one(".card__section").get_text() == "World"
    doc = search(client, q="asteroid")
    assert "0 results" in doc.select_one("[role=status]").get_text()
    assert "Nothing matched" in doc.get_text()


def query_count(client, params) -> int:
    client.get("/search/", params)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/search/", params).status_code == 200
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_results(client, make_section, make_author, make_article, make_image):
    world = make_section("World")
    author = make_author("Ada Reporter")

    def add(count: int, offset: int) -> None:
        for n in range(offset, offset + count):
            make_article(
                world, f"Volcano update {n}", authors=[author, make_author()], tags=["Volcanoes", f"t{n}"],
                lead_image=make_image(), days_ago=n,
            )  # fmt: skip

    add(5, 0)
    params = {"q": "volcano", "section": world.pk, "author": "ada-reporter"}
    before = query_count(client, params)
    add(45, 5)
    assert query_count(client, params) == before
    assert query_count(client, {"q": "volcano", "page": 2}) <= before
