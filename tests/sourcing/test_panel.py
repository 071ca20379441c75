"""The editor's "Sources" tab, its reload URL, and the warning message when publishing."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.contrib.messages import get_messages
from django.urls import reverse
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

from masthead.importers.service import import_files
from masthead.news.models import ArticlePage
from tests.conftest import SEED_FILE

from .conftest import FLOOD


def soup(response) -> BeautifulSoup:
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.content, "html.parser")


def sources_tab(doc: BeautifulSoup):
    tab = doc.select_one("a[role=tab]#tab-label-sources")
    assert tab is not None and tab.get_text(" ", strip=True).startswith("Sources"), "no Sources tab"
    panel = doc.find(id=tab["href"][1:])
    assert panel is not None and panel.select_one("[data-sourcing-panel]") is not None
    return panel


def edit_url(page) -> str:
    return reverse("wagtailadmin_pages:edit", args=(page.pk,))


def form_data(page: ArticlePage, paragraphs, **extra) -> dict:
    data = nested_form_data(
        {
            "title": page.title,
            "slug": page.slug,
            "standfirst": page.standfirst,
            "bylines": {"TOTAL_FORMS": 0, "INITIAL_FORMS": 0, "MIN_NUM_FORMS": 0, "MAX_NUM_FORMS": 1000},
            "lead_image": "",
            "lead_image_caption": "",
            "lead_image_credit": "",
            "body": streamfield([("paragraph", rich_text(f"<p>{text}</p>")) for text in paragraphs]),
            "tags": "",
            "seo_title": "",
            "search_description": "",
            "go_live_at": "",
            "expire_at": "",
            "comments_open": "on",
            "show_who_is_quoted": "on",
        }
    )
    data.update(extra)
    return data


@pytest.fixture
def admin(client, superuser):
    client.force_login(superuser)
    return client


def test_panel_lists_warnings_first_then_quotes_sources_and_figures(admin, flood_article):
    article = flood_article(publish=False)
    panel = sources_tab(soup(admin.get(edit_url(article))))
    headings = [h.get_text(" ", strip=True) for h in panel.select("[data-sourcing-panel] h3")]
    assert headings == ["Warnings (2)", "Quotes (5)", "Sources (3)", "Figures (2)", "The analysed text"]

    warnings = panel.select("[data-sourcing-warning]")
    assert [w["data-sourcing-warning"] for w in warnings] == ["unsourced-figure", "unattributed-quote"]
    first = warnings[0].get_text(" ", strip=True)
    assert first.startswith("Warning W1: Unsourced figure — No source is given for this figure.")
    assert "“Nearly 300 homes” in paragraph 4" in first  # words and place in text, not colour

    quotes = [q.get_text(" ", strip=True) for q in panel.select("[data-sourcing-quote]")]
    assert quotes[0].startswith(
        "Q1 “We will rebuild the bridge,” Ada Lovelace (named), direct, cue “said”, in paragraph 1"
    )
    assert [
        q.select_one("[data-sourcing-speaker]").get_text() for q in panel.select("[data-sourcing-quote]")
    ] == [
        "Ada Lovelace",
        "a council official",
        "The Environment Agency",
        "no speaker",
        "Ada Lovelace",
    ]
    sources = [
        [cell.get_text(" ", strip=True) for cell in row.find_all(["th", "td"])]
        for row in panel.select("[data-sourcing-source]")
    ]
    assert sources == [
        ["Ada Lovelace", "Named person", "2"],
        ["a council official", "Anonymous source", "1"],
        ["The Environment Agency", "Organisation", "1"],
    ]
    figures = [
        f.select_one("[data-sourcing-figure-source]").get_text()
        for f in panel.select("[data-sourcing-figure]")
    ]
    assert figures == ["a council official", "no source"]


def test_every_item_links_to_its_place_in_the_text_and_in_the_editor(admin, flood_article):
    article = flood_article(publish=False)
    doc = soup(admin.get(edit_url(article)))
    panel = sources_tab(doc)
    block_ids = [block.id for block in article.get_latest_revision_as_object().body]
    items = panel.select("[data-sourcing-warning], [data-sourcing-quote], [data-sourcing-figure]")
    assert len(items) == 9
    for item in items:
        anchor = item.select_one("a[href^='#sourcing-']")
        target = panel.find(id=anchor["href"][1:])
        assert target is not None and "sourcing-tag" in target["class"], anchor
        place = item.select_one("a[data-sourcing-focus]")
        assert place["href"] == "#:w:contentpath=" + place["data-sourcing-focus"]
        assert place["data-sourcing-focus"].removeprefix("body.") in block_ids
    # The analysed text shows each item numbered and marked, block by block.
    text = panel.select_one(".sourcing-text")
    labels = [p.get_text(strip=True) for p in text.select(".sourcing-text__label")]
    assert labels == ["headline"] + [f"paragraph {n}" for n in range(1, 7)]
    assert [t.get_text() for t in text.select(".sourcing-tag")] == [
        "Q1",
        "Q2",
        "F1",
        "Q3",
        "W1",
        "F2",
        "W2",
        "Q4",
        "Q5",
    ]
    marked = text.select("mark.sourcing-mark--warning")
    assert {m.get_text() for m in marked} == {"Nearly 300 homes", "“Nobody warned us,”"}
    # The editor's blocks carry the content paths the links point to.
    assert doc.select(f'[data-contentpath="{block_ids[0]}"]') or f'"id": "{block_ids[0]}"' in doc.decode()


def test_panel_shows_the_latest_revision_and_updates_on_save(admin, flood_article, flood_script):
    article = flood_article()  # published with the flood story
    response = admin.post(edit_url(article), form_data(article, ["“Water is receding,” Ada Lovelace said."]))
    assert response.status_code == 302
    panel = sources_tab(soup(admin.get(edit_url(article))))
    assert [h.get_text(strip=True) for h in panel.select("h3")][:2] == ["Warnings (0)", "Quotes (0)"]
    assert "No warnings." in panel.get_text()

    flood_script.quote("“Water is receding,”", "Ada Lovelace")
    admin.post(edit_url(article), form_data(article, ["“Water is receding,” Ada Lovelace said on Tuesday."]))
    panel = sources_tab(soup(admin.get(edit_url(article))))
    [quote] = [q.get_text(" ", strip=True) for q in panel.select("[data-sourcing-quote]")]
    assert quote.startswith("Q1 “Water is receding,” Ada Lovelace (named)")


def test_a_new_article_is_analysed_once_saved(admin, make_section, script):
    section = make_section("Local")
    add_url = reverse("wagtailadmin_pages:add", args=("news", "articlepage", section.pk))
    panel = sources_tab(soup(admin.get(add_url)))
    assert "Save a draft to see who is quoted" in panel.get_text()


def test_panel_reload_url_serves_the_latest_report_to_editors_only(
    client, admin, flood_article, editor_user, outsider_user
):
    article = flood_article(publish=False)
    url = reverse("sourcing_panel", args=(article.pk,))
    body = admin.get(url)
    assert body.status_code == 200 and "no-store" in body["Cache-Control"]
    assert "Warnings (2)" in body.content.decode()
    panel = sources_tab(soup(admin.get(edit_url(article))))
    assert panel.select_one("[data-sourcing-panel]")["data-sourcing-refresh-url"] == url

    client.force_login(editor_user)
    assert client.get(url).status_code == 200
    client.force_login(outsider_user)
    assert client.get(url).status_code == 403
    client.logout()
    assert client.get(url).status_code == 302  # to the admin's login


def test_publishing_with_warnings_tells_the_editor_and_publishes(admin, flood_article):
    article = flood_article(publish=False)
    response = admin.post(edit_url(article), form_data(article, FLOOD, **{"action-publish": "publish"}))
    assert response.status_code == 302
    assert ArticlePage.objects.get(pk=article.pk).live  # warnings never block publishing
    messages = [(m.level_tag, str(m.message)) for m in get_messages(response.wsgi_request)]
    warning = next(text for level, text in messages if level == "warning")
    assert "was published with 2 sourcing warnings" in warning
    assert '<ul class="sourcing-message-list"><li>' in warning  # a real list, not escaped markup
    assert (
        "Unsourced figure: No source is given for this figure. (“Nearly 300 homes”, paragraph 4)" in warning
    )
    assert "Unattributed quote: Nobody is named as saying this." in warning
    assert edit_url(article) + "#tab-sources" in warning
    assert any(level == "success" and "has been published" in text for level, text in messages)


def test_submitting_for_moderation_with_warnings_tells_the_editor(admin, flood_article):
    article = flood_article(publish=False)
    response = admin.post(edit_url(article), form_data(article, FLOOD, **{"action-submit": "submit"}))
    assert response.status_code == 302
    messages = [str(m.message) for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]
    assert len(messages) == 1 and "was submitted for moderation with 2 sourcing warnings" in messages[0]


def test_no_message_without_warnings_or_when_only_saving(admin, flood_article, flood_script):
    article = flood_article(publish=False)
    response = admin.post(edit_url(article), form_data(article, FLOOD))  # save draft
    assert not [m for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]
    flood_script.warnings.clear()  # and a changed text, so it is read again
    edited = FLOOD + ["The bridge reopens next week."]
    response = admin.post(edit_url(article), form_data(article, edited, **{"action-publish": "publish"}))
    assert not [m for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]


def test_panel_markup_is_accessible(admin, flood_article):
    article = flood_article(publish=False)
    panel = sources_tab(soup(admin.get(edit_url(article))))
    for section in panel.select("section.sourcing-section"):
        heading = panel.find(id=section["aria-labelledby"])
        assert heading is not None and heading.name == "h3"
    # Lists are lists, the sources a table with headers; warnings say "Warning" in words.
    assert panel.select("ul.sourcing-warnings > li") and panel.select("ol.sourcing-quotes > li")
    assert [th.get_text() for th in panel.select(".sourcing-sources thead th")] == [
        "Source",
        "Type",
        "Quotes",
    ]
    assert all(
        li.get_text(" ", strip=True).startswith("Warning W") for li in panel.select(".sourcing-warnings > li")
    )


# --- With the real analyser ----------------------------------------------------------------------


def test_real_analyser_seed_panel_shows_the_conflicting_attribution(admin, db):
    [result] = import_files([SEED_FILE])
    panel = sources_tab(soup(admin.get(edit_url(result.article))))
    warnings = panel.select("[data-sourcing-warning='conflicting-attribution']")
    assert len(warnings) == 1
    text = warnings[0].get_text(" ", strip=True)
    assert text.startswith("Warning W1: Conflicting attribution")
    assert "Kirby said that Sullivan also discussed" in text
    speakers = {
        q.select_one("[data-sourcing-speaker]").get_text() for q in panel.select("[data-sourcing-quote]")
    }
    assert {"Joe Biden", "John Kirby"} <= speakers
