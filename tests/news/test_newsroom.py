"""Editors write, preview, save drafts and publish in the Wagtail admin."""

from __future__ import annotations

import pytest
from django.utils.text import slugify
from django.contrib.auth import get_user_model
from django.urls import reverse
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text, streamfield

from masthead.news.models import ArticlePage


@pytest.fixture
def editor_client(client, db):
    user = get_user_model().objects.create_superuser("editor", "editor@example.org", "pw")
    client.force_login(user)
    return client


def article_form(title: str, author, section_ids=(), tags: str = "") -> dict:
    data = nested_form_data(
        {
            "title": title,
            "slug": slugify(title),  # the admin's JavaScript fills this in from the headline
            "standfirst": "What happened, in one sentence.",
            "bylines": inline_formset([{"author": author.pk}]),
            "lead_image": "",
            "lead_image_caption": "",
            "lead_image_credit": "",
            "body": streamfield(
                [
                    ("paragraph", rich_text("<p>“Quoted words,” she said — firmly…</p>")),
                    ("subhead", "What comes next"),
                    ("quote", {"quote": "We will rebuild.", "attribution": "The mayor"}),
                ]
            ),
            "tags": tags,
            "seo_title": "",
            "search_description": "",
            "go_live_at": "",
            "expire_at": "",
        }
    )
    data["additional_sections"] = [str(pk) for pk in section_ids]  # a multi-valued field
    return data


def test_editor_saves_draft_previews_then_publishes(editor_client, client, make_section, make_author):
    politics, main = make_section("Politics"), make_section("Main Stories")
    author = make_author("Ada Reporter")
    add_url = reverse("wagtailadmin_pages:add", args=("news", "articlepage", politics.pk))
    assert editor_client.get(add_url).status_code == 200

    data = article_form("Council approves the budget", author, [main.pk], "Budget, Local Government")
    response = editor_client.post(add_url, data)
    assert response.status_code == 302, getattr(response, "context", None) and response.context["form"].errors
    draft = ArticlePage.objects.get(title="Council approves the budget")
    assert not draft.live
    editor_client.logout()
    assert client.get("/politics/council-approves-the-budget/").status_code == 404

    editor_client.force_login(get_user_model().objects.get(username="editor"))
    preview_url = reverse("wagtailadmin_pages:preview_on_edit", args=(draft.pk,))
    data["title"] = "Council approves the budget after all-night session"
    assert editor_client.post(preview_url, data).json()["is_valid"]
    preview = editor_client.get(preview_url).content.decode()
    assert "after all-night session" in preview and "Ada Reporter" in preview
    assert "Also in <a href=\"/main-stories/\">Main Stories</a>" in preview
    assert "“Quoted words,” she said — firmly…" in preview

    edit_url = reverse("wagtailadmin_pages:edit", args=(draft.pk,))
    response = editor_client.post(edit_url, {**data, "action-publish": "publish"})
    assert response.status_code == 302, getattr(response, "context", None) and response.context["form"].errors
    article = ArticlePage.objects.get(pk=draft.pk)
    assert article.live and article.first_published_at
    assert [s.title for s in article.additional_sections.all()] == ["Main Stories"]
    assert sorted(t.name for t in article.tags.all()) == ["Budget", "Local Government"]
    editor_client.logout()
    page = client.get(article.url).content.decode()
    assert "after all-night session" in page and "We will rebuild." in page
    for url in ("/", "/politics/", "/main-stories/", author.get_absolute_url(), "/tags/budget/"):
        assert "after all-night session" in client.get(url).content.decode(), url


def test_a_preview_of_a_published_article_shows_its_unsaved_bylines_tags_and_sections(
    editor_client, client, make_section, make_author
):
    """Readers' article pages read bylines, tags and sections by compiled queries; a preview
    must still show what the editor changed and has not saved."""
    politics, main = make_section("Politics"), make_section("Main Stories")
    ada, ben = make_author("Ada Reporter"), make_author("Ben Other")
    add_url = reverse("wagtailadmin_pages:add", args=("news", "articlepage", politics.pk))
    data = article_form("Council approves the budget", ada, [main.pk], "Budget")
    assert editor_client.post(add_url, {**data, "action-publish": "publish"}).status_code == 302
    article = ArticlePage.objects.get(title="Council approves the budget")
    assert article.live

    preview_url = reverse("wagtailadmin_pages:preview_on_edit", args=(article.pk,))
    changed = article_form("Council approves the budget", ben, [], "Water")
    assert editor_client.post(preview_url, changed).json()["is_valid"]
    preview = editor_client.get(preview_url).content.decode()
    assert "Ben Other" in preview  # a byline added in the form, not saved
    assert "/tags/water/" in preview and "/tags/budget/" not in preview
    assert "Also in" not in preview

    editor_client.logout()
    page = client.get(article.url).content.decode()
    assert "Ada Reporter" in page and "Ben Other" not in page
    assert "/tags/budget/" in page and "Also in <a href=\"/main-stories/\">Main Stories</a>" in page


def test_author_snippet_is_editable_in_admin(editor_client, make_author):
    author = make_author("Ben Writer")
    url = reverse("wagtailsnippets_news_author:edit", args=(author.pk,))
    assert editor_client.get(url).status_code == 200
    response = editor_client.post(
        url, {"name": "Ben Writer", "slug": "ben-writer", "role": "Editor", "bio": "Edits.", "photo": ""}
    )
    assert response.status_code == 302
    author.refresh_from_db()
    assert author.role == "Editor"
