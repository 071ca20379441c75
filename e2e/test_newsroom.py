"""An editor publishes through the Wagtail admin and readers see it on the fronts; drafts stay private."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
# These tests add articles; conftest runs them after every other test.
WRITES_CONTENT = True

SECTION = "Politics"


@pytest.fixture
def token() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture
def editor(new_context, server):
    """A page signed in to the admin as the demo's admin user, with the password the demo printed."""
    password = server.admin_password
    assert f"login: admin / {password}" in server.demo_output
    page = new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(server.url("/admin/"))
    expect(page).to_have_url(re.compile(r"/admin/login/"))
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(server.url("/admin/"))
    return page


@pytest.fixture
def reader(new_context):
    """An anonymous visitor: a separate context, no admin session."""
    return new_context().new_page()


def start_article_in_section(page, server) -> None:
    """Pages explorer -> the home front -> Politics -> Add child page -> Article."""
    page.goto(server.url("/admin/pages/"))
    page.get_by_role("link", name="Explore child pages of 'The Masthead'").click()
    page.get_by_role("link", name=f"Explore child pages of '{SECTION}'").click()
    expect(page.locator("h1")).to_contain_text(SECTION)
    page.get_by_role("link", name="Add child page").first.click()
    page.locator("main").get_by_role("link", name="Article", exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/pages/add/news/articlepage/\d+/$"))


def write_article(page, headline: str, paragraph: str, slug: str) -> None:
    page.get_by_role("textbox", name="Headline").fill(headline)
    page.get_by_role("textbox", name="Standfirst").fill("Written in the browser by the end-to-end tests.")
    # Body: a StreamField; insert a Paragraph block and type into its rich-text editor.
    body = page.locator("[data-contentpath=body]")
    body.get_by_role("button", name="Insert a block").click()
    page.get_by_role("option", name="Paragraph").click()
    editor = body.get_by_role("textbox")
    expect(editor).to_have_count(1)
    editor.click()
    page.keyboard.type(paragraph)
    expect(editor).to_have_text(paragraph)
    # Draftail writes the editor state into the block's hidden input after a short debounce;
    # wait for it, as a person's pause would, or the form is submitted without the text.
    expect(body.locator("input[name$='-value']")).to_have_value(
        re.compile(re.escape('"text":' + json.dumps(paragraph, ensure_ascii=False)))
    )
    # The slug is not derived from the headline (see test_slug_follows_the_headline), so set it.
    page.get_by_role("tab", name="Promote").click()
    page.get_by_role("textbox", name="Slug").fill(slug)
    page.get_by_role("tab", name="Content").click()


def test_editor_publishes_an_article_readers_see_it(editor, reader, server, token, artifacts):
    headline = f"Parliament passes the “open data” bill — e2e {token}"
    paragraph = f"MPs voted 312 to 204 for the bill… after a 9-hour debate ({token})."
    slug = f"open-data-bill-{token}"

    start_article_in_section(editor, server)
    write_article(editor, headline, paragraph, slug)
    editor.get_by_role("button", name="More actions").click()
    editor.get_by_role("button", name="Publish", exact=True).click()
    expect(editor.locator(".messages")).to_contain_text(f"Page '{headline}' created and published")
    editor.screenshot(path=str(artifacts / "admin-published.png"))

    url = f"/politics/{slug}/"
    # The article page.
    response = reader.goto(server.url(url))
    assert response.status == 200
    expect(reader.locator("h1")).to_have_text(headline)
    expect(reader.locator(".article__body p")).to_have_text([paragraph])
    expect(reader.get_by_role("navigation", name="Breadcrumb").get_by_role("listitem")).to_have_text(["Home", SECTION])
    expect(reader.locator("link[rel=canonical]")).to_have_attribute("href", server.url(url))

    # The section front lists it first (newest first).
    reader.goto(server.url("/politics/"))
    first = reader.locator("main .card__headline a").first
    expect(first).to_have_text(headline)
    expect(first).to_have_attribute("href", url)

    # The home front: as the newest article it fills one of the Main Stories places.
    reader.goto(server.url("/"))
    main_stories = reader.locator("section[aria-labelledby=main-stories]")
    expect(main_stories.get_by_role("link", name=headline, exact=True)).to_have_attribute("href", url)
    reader.get_by_role("link", name=headline, exact=True).first.click()
    expect(reader).to_have_url(server.url(url))


def test_draft_previews_in_the_admin_but_stays_private(editor, reader, server, token):
    headline = f"Embargoed: budget leak — e2e {token}"
    paragraph = f"This draft must not be public yet ({token})."
    slug = f"embargoed-budget-{token}"

    start_article_in_section(editor, server)
    write_article(editor, headline, paragraph, slug)
    editor.get_by_role("button", name="Save draft").click()
    expect(editor.locator(".messages")).to_contain_text(f"Page '{headline}' created.")
    expect(editor).to_have_url(re.compile(r"/admin/pages/\d+/edit/$"))

    # Preview in the side panel renders the draft with the site's own templates.
    editor.get_by_role("button", name="Toggle preview").click()
    preview = editor.frame_locator("iframe#w-preview-iframe")
    expect(preview.locator("h1")).to_have_text(headline)
    expect(preview.locator(".article__body p")).to_have_text([paragraph])
    # Not published yet, so no publication date is claimed (nor an empty <time>).
    expect(preview.locator(".article__dates")).not_to_contain_text("Published")
    expect(preview.locator("time[datetime='']")).to_have_count(0)

    # ... and in a new tab.
    with editor.context.expect_page() as new_tab:
        editor.get_by_role("link", name="Preview in new tab").click()
    tab = new_tab.value
    expect(tab.locator("h1")).to_have_text(headline)
    tab.close()

    # Readers see nothing of it.
    response = reader.goto(server.url(f"/politics/{slug}/"))
    assert response.status == 404
    expect(reader.locator("h1")).to_have_text("Page not found")
    for front in ("/politics/", "/"):
        reader.goto(server.url(front))
        expect(reader.locator("main .card__headline a").first).to_be_visible()
        expect(reader.get_by_text(headline)).to_have_count(0)


def test_slug_follows_the_headline(editor, server):
    start_article_in_section(editor, server)
    headline = editor.get_by_role("textbox", name="Headline")
    headline.click()
    headline.press_sequentially("Budget day live")
    headline.press("Tab")
    editor.get_by_role("tab", name="Promote").click()
    expect(editor.get_by_role("textbox", name="Slug")).to_have_value("budget-day-live", timeout=3_000)
