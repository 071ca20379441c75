"""Which stories the home front shows is remembered per generation of the site's structure
(masthead.news.queries.home_front); their cards are read on every page."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from masthead.caching import config
from masthead.news import queries
from masthead.news.models import ArticlePage, HomeMainStory, HomePage

# Committed transactions, as in production: inside a test's transaction nothing is remembered.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def remembering():
    config._remembered.clear()
    yield
    config._remembered.clear()


def headlines(client) -> tuple[list[str], list[str]]:
    page = BeautifulSoup(client.get("/").content, "html.parser")
    main = [a.get_text() for a in page.select(".front-block--main .card__headline a")]
    rest = [a.get_text() for a in page.select(".front-block:not(.front-block--main) .card__headline a")]
    return main, rest


@pytest.mark.usefixtures("remembering")
def test_the_front_s_stories_are_asked_once_per_generation(client, make_section, make_article, calls_to):
    world = make_section("World")
    for n in range(7):
        make_article(world, f"Story {n}", days_ago=n + 1)
    asked = calls_to(queries, "_newest_per_section_ids")
    headlines(client)  # the site settings' rows are made on a first page: a new generation
    asked.clear()
    first = headlines(client)
    assert first == ([f"Story {n}" for n in range(5)], ["Story 5", "Story 6"])
    assert headlines(client) == first and len(asked) == 1  # the second page asked nothing

    make_article(world, "Breaking", days_ago=0)  # a publish: the next page shows it
    main, rest = headlines(client)
    assert (main, rest) == (["Breaking", *(f"Story {n}" for n in range(4))], ["Story 4", "Story 5", "Story 6"])
    home = HomePage.objects.get()
    home.main_stories = [HomeMainStory(article=ArticlePage.objects.get(title="Story 6"), sort_order=0)]
    home.save_revision().publish()  # an editor's pick: the next page shows it first
    main, rest = headlines(client)
    assert main[0] == "Story 6" and "Story 6" not in rest
    assert len(asked) == 3
