"""The reader's "Who is quoted" box: from the live revision's stored report, never analysed."""

from __future__ import annotations

from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

import masthead.sourcing
from masthead.importers.service import import_files
from masthead.news.models import ArticlePage
from tests.conftest import SEED_FILE

from .conftest import FLOOD, save_new_version


def box_of(client, article):
    response = client.get(article.url)
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser").select_one("aside.who-quoted")


def entries(box, heading: str) -> list[str]:
    title = box.find("h3", string=heading)
    return (
        [li.get_text(" ", strip=True) for li in title.find_next_sibling("ul").find_all("li")] if title else []
    )


def test_box_lists_people_organisations_and_anonymous_sources(client, flood_article):
    box = box_of(client, flood_article())
    assert box is not None
    heading = box.find(id=box["aria-labelledby"])
    assert heading.name == "h2" and heading.get_text() == "Who is quoted"
    assert entries(box, "People") == ["Ada Lovelace (2 quotes)"]
    assert entries(box, "Organisations and groups") == ["The Environment Agency (1 quote)"]
    assert box.select_one(".who-quoted__anonymous").get_text(strip=True) == "1 anonymous source"
    # The unattributed quote is nobody's: it is not listed.
    assert "resident" not in box.get_text()


def test_box_follows_the_per_article_switch(client, flood_article):
    article = flood_article()
    assert ArticlePage._meta.get_field("show_who_is_quoted").default is True
    assert box_of(client, article) is not None
    article, _ = save_new_version(article, FLOOD, publish=True, show_who_is_quoted=False)
    assert box_of(client, article) is None


def test_no_box_without_quotes(client, make_section, make_article, script):
    article = make_article(make_section("Local"), "Council meets", paragraphs=["The council met on Monday."])
    assert box_of(client, article) is None
    assert "Who is quoted" not in client.get(article.url).content.decode()


def test_box_shows_the_live_revision_not_a_newer_draft(client, flood_article, flood_script):
    article = flood_article()
    flood_script.quote("“Traffic is moving again,”", "Grace Hopper")
    article, _ = save_new_version(article, ["“Traffic is moving again,” Grace Hopper said."])
    assert entries(box_of(client, article), "People") == ["Ada Lovelace (2 quotes)"]
    article, _ = save_new_version(article, ["“Traffic is moving again,” Grace Hopper said."], publish=True)
    box = box_of(client, article)
    assert entries(box, "People") == ["Grace Hopper (1 quote)"] and not box.select(".who-quoted__anonymous")


def test_reading_an_article_never_runs_the_analyser(client, flood_article, monkeypatch):
    article = flood_article()
    calls = []

    def must_not_run(text, language="en"):
        calls.append(text)
        raise AssertionError("the analyser ran on a reader's request")

    monkeypatch.setattr(masthead.sourcing, "analyse", must_not_run)
    monkeypatch.setattr(masthead.sourcing.analyser, "analyse", must_not_run)
    box = box_of(client, article)
    assert calls == []
    assert entries(box, "People") == ["Ada Lovelace (2 quotes)"]  # from the stored report


def test_the_box_costs_one_query(client, flood_article):
    def queries() -> list[str]:
        client.get(article.url)  # warm
        with CaptureQueriesContext(connection) as ctx:
            client.get(article.url)
        return [query["sql"] for query in ctx.captured_queries]  # read now: the log is a bounded deque

    article = flood_article()
    on = queries()
    ArticlePage.objects.filter(pk=article.pk).update(show_who_is_quoted=False)
    off = queries()
    assert len(on) - len(off) == 1
    assert [sql for sql in on if sql not in off] == [
        next(sql for sql in on if "sourcing_quotedsource" in sql)
    ]


def test_editor_preview_shows_the_box_of_unsaved_changes(client, flood_article, flood_script, superuser):
    from .test_panel import form_data

    article = flood_article()
    client.force_login(superuser)
    flood_script.quote("“Traffic is moving again,”", "Grace Hopper")
    preview_url = reverse("wagtailadmin_pages:preview_on_edit", args=(article.pk,))
    data = form_data(article, ["“Traffic is moving again,” Grace Hopper said."])
    assert client.post(preview_url, data).json()["is_valid"]
    doc = BeautifulSoup(client.get(preview_url).content, "html.parser")
    assert "Grace Hopper (1 quote)" in doc.select_one("aside.who-quoted").get_text(" ", strip=True)


# --- With the real analyser ----------------------------------------------------------------------


def test_real_analyser_seed_article_box(client, db):
    [result] = import_files([SEED_FILE])
    box = box_of(client, ArticlePage.objects.get(pk=result.article.pk))
    assert box is not None
    people = entries(box, "People")
    assert people[0].startswith("Joe Biden (") and any(p.startswith("John Kirby (") for p in people)
    assert "US officials" in " ".join(entries(box, "Organisations and groups"))
    assert box.select_one(".who-quoted__anonymous").get_text(strip=True) == "2 anonymous sources"
