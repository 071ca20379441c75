"""The per-section sourcing summary for editors: numbers, scope, cost and permissions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from masthead.news.models import ArticlePage
from masthead.sourcing.summary import section_summaries

from .conftest import save_new_version

URL = "/admin/sourcing/summary/"


def this_month():
    return timezone.localtime().replace(day=1, hour=12, minute=0, second=0, microsecond=0)


def months_ago(n: int):
    moment = this_month()
    for _ in range(n):
        moment = (moment - timedelta(days=1)).replace(day=15)
    return moment


@pytest.fixture
def newsroom(make_section, make_article, script):
    """Five articles with scripted quotes, in World (› Middle East), Politics and Main Stories."""
    world = make_section("World")
    mideast = make_section("Middle East", parent=world)
    politics = make_section("Politics")
    main = make_section("Main Stories")
    for words, speaker, kind in [
        ("“a1”", "Ada Lovelace", "named"),
        ("“a2”", "Ada Lovelace", "named"),
        ("“a3”", "an aide", "anonymous"),
        ("“b1”", "Ada Lovelace", "named"),
        ("“b2”", "Ben Okri", "named"),
        ("“b3”", "a diplomat", "anonymous"),
        ("“b4”", "two officials", "anonymous"),
        ("“c1”", "Cy Twombly", "named"),
        ("“c2”", "The ministry", "institutional"),
        ("“d1”", "Dora Maar", "named"),
        ("“e1”", "Eve Arnold", "named"),
        ("“e2”", "Eve Arnold", "named"),
        ("“e9”", "Ezra Pound", "named"),
    ]:
        script.quote(words, speaker, kind)

    def article(section, title, quotes, when, further=(), publish=True):
        page = make_article(
            section,
            title,
            paragraphs=[f"{q} someone said." for q in quotes],
            further=further,
            publish=publish,
        )
        if publish:
            ArticlePage.objects.filter(pk=page.pk).update(first_published_at=when)
        return ArticlePage.objects.get(pk=page.pk)

    article(world, "Old world story", ["“a1”", "“a2”", "“a3”"], months_ago(2))
    article(mideast, "Middle East story", ["“b1”", "“b2”", "“b3”", "“b4”"], this_month())
    article(politics, "Politics story", ["“c1”", "“c2”"], this_month(), further=[main])
    article(politics, "Unpublished story", ["“d1”"], this_month(), publish=False)
    live = article(world, "Live world story", ["“e1”", "“e2”"], this_month())
    save_new_version(live, ["“e9” someone said."])  # a newer draft: not what readers see
    return {"world": world, "mideast": mideast, "politics": politics, "main": main}


def by_title(summaries):
    return {summary.title: summary for summary in summaries}


def test_numbers_per_section_and_month_from_live_revisions(newsroom):
    summaries = by_title(section_summaries())
    assert list(summaries) == ["Whole publication", "World", "Middle East", "Politics", "Main Stories"]
    assert summaries["Middle East"].trail == "World › Middle East"

    world = summaries["World"]  # includes Middle East; the draft's Ezra Pound does not count
    assert [m.month for m in world.months] == [this_month().date(), months_ago(2).date().replace(day=1)]
    now, old = world.months[0].tally, world.months[1].tally
    assert (now.articles, now.quotes, now.anonymous) == (2, 6, 2)
    assert now.anonymous_percent == "33%"
    assert now.top_people == [("Eve Arnold", 2), ("Ada Lovelace", 1), ("Ben Okri", 1)]
    assert (old.articles, old.quotes, old.anonymous, old.top_people) == (1, 3, 1, [("Ada Lovelace", 2)])
    assert (world.total.quotes, world.total.anonymous) == (9, 3)
    assert world.total.top_people[0] == ("Ada Lovelace", 3)

    mideast = summaries["Middle East"].months[0].tally
    assert (mideast.articles, mideast.quotes, mideast.anonymous) == (1, 4, 2)
    assert mideast.anonymous_percent == "50%"

    # The politics story counts in Main Stories, its further section; the unpublished one nowhere.
    for title in ("Politics", "Main Stories"):
        [month] = summaries[title].months
        assert (month.tally.articles, month.tally.quotes, month.tally.anonymous) == (1, 2, 0)
        assert month.tally.top_people == [("Cy Twombly", 1)]  # people only: not the ministry

    whole = summaries["Whole publication"].total
    assert (whole.articles, whole.quotes, whole.anonymous) == (4, 11, 3)
    assert "Dora Maar" not in whole.people and "Ezra Pound" not in whole.people


def test_top_five_people_most_quoted_first(make_section, make_article, script):
    names = ["Fay", "Gus", "Hal", "Ivy", "Jo", "Kit", "Lu"]
    paragraphs = []
    for rank, name in enumerate(names):
        for n in range(len(names) - rank):
            script.quote(f"“{name} {n}”", name)
            paragraphs.append(f"“{name} {n}” said {name}.")
    make_article(make_section("Sport"), "Many voices", paragraphs=paragraphs)
    [sport] = [s for s in section_summaries() if s.title == "Sport"]
    assert sport.total.top_people == [("Fay", 7), ("Gus", 6), ("Hal", 5), ("Ivy", 4), ("Jo", 3)]
    assert sport.total.anonymous_percent == "0%"


def test_a_fixed_number_of_queries_however_many_articles(newsroom, make_article):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            section_summaries()
        return len(ctx.captured_queries)

    before = count()
    for n in range(6):
        make_article(
            newsroom["mideast"], f"More news {n}", paragraphs=["“b1” said Ada."], further=[newsroom["main"]]
        )
    assert count() == before <= 4


@pytest.fixture
def summary_page(client, newsroom):
    def get(user, query=""):
        if user is not None:
            client.force_login(user)
        return client.get(URL + query)

    return get


def test_editors_see_the_summary_page(summary_page, editor_user):
    response = summary_page(editor_user)
    assert response.status_code == 200
    doc = BeautifulSoup(response.content, "html.parser")
    assert doc.h1 and "Sourcing by section" in doc.h1.get_text()
    middle_east = doc.select_one("[data-summary-section='Middle East']")
    assert middle_east.h2.get_text() == "World › Middle East"
    row = middle_east.select_one(f"tbody tr[data-month='{this_month():%Y-%m}']")
    assert row.th.get_text() == f"{this_month():%B %Y}"
    assert row.select_one("[data-quotes]").get_text() == "4"
    assert row.select_one("[data-anonymous]").get_text(" ", strip=True) == "50% (2 of 4)"
    assert [li.get_text() for li in row.select("[data-people] li")] == [
        "Ada Lovelace (1 quote)",
        "Ben Okri (1 quote)",
    ]
    assert [th.get_text() for th in middle_east.select("thead th")] == [
        "Month",
        "Articles",
        "Quotes",
        "From anonymous sources",
        "Most quoted people",
    ]


def test_summary_can_be_narrowed_to_a_section_and_a_period(summary_page, editor_user, newsroom):
    doc = BeautifulSoup(
        summary_page(editor_user, f"?section={newsroom['world'].pk}&months=3").content, "html.parser"
    )
    sections = [s["data-summary-section"] for s in doc.select("[data-summary-section]")]
    assert sections == ["World"]
    assert len(doc.select("[data-summary-section='World'] tbody tr")) == 2
    doc = BeautifulSoup(
        summary_page(editor_user, f"?section={newsroom['world'].pk}&months=1").content, "html.parser"
    )
    assert len(doc.select("[data-summary-section='World'] tbody tr")) == 1  # this month only
    assert summary_page(editor_user, "?section=x&months=y").status_code == 200  # bad input: defaults


def test_only_people_who_can_edit_pages_see_the_summary(client, summary_page, outsider_user, editor_user):
    assert summary_page(None).status_code == 302  # to the admin's login
    assert summary_page(outsider_user).status_code == 403
    dashboard = client.get("/admin/").content.decode()
    assert URL not in dashboard  # and no menu item
    client.force_login(editor_user)
    assert URL in client.get("/admin/").content.decode()  # Reports › Sourcing by section
