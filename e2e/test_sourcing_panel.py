"""The seed article's sourcing, in the real demo server: the editor's Sources tab shows the slip
(a quote closed with "Biden said" whose words report what Kirby said) as a warning, its links
lead to the paragraph to fix, and readers get the "Who is quoted" box."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from .conftest import SEED_HEADLINE, SEED_PATH
from .test_newsroom import start_article_in_section, write_article

pytestmark = pytest.mark.browser
# One test saves a draft article (never published, so no front changes); run with the writers.
WRITES_CONTENT = True

SLIP = "Kirby said that Sullivan also discussed"


@pytest.fixture
def editor(new_context, server):
    password = server.admin_password
    page = new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(server.url("/admin/login/"))
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(server.url("/admin/"))
    return page


def open_seed_editor(page, server) -> None:
    """Pages explorer -> the home front -> World -> the seed article's edit view."""
    page.goto(server.url("/admin/pages/"))
    page.get_by_role("link", name="Explore child pages of 'The Masthead'").click()
    page.get_by_role("link", name="Explore child pages of 'World'").click()
    page.locator("main").get_by_role("link", name=SEED_HEADLINE, exact=True).first.click()
    expect(page).to_have_url(re.compile(r"/admin/pages/\d+/edit/$"))


def test_seed_sources_panel_shows_the_slip_as_a_warning(editor, server, artifacts):
    open_seed_editor(editor, server)
    editor.get_by_role("tab", name="Sources").click()
    panel = editor.locator("[data-sourcing-panel]")
    expect(panel).to_be_visible()

    # Warnings come first, under their own heading, and say so in words.
    expect(panel.get_by_role("heading", level=3).first).to_have_text(re.compile(r"^Warnings \(1\)$"))
    warning = panel.locator("[data-sourcing-warning='conflicting-attribution']")
    expect(warning).to_have_count(1)
    expect(warning).to_contain_text("Warning W1: Conflicting attribution")
    expect(warning).to_contain_text(SLIP)
    expect(panel.locator("[data-sourcing-warning]")).to_have_count(1)  # no false warning

    # Speakers and figures with their sources are listed.
    expect(panel.locator("[data-sourcing-speaker]", has_text="Joe Biden").first).to_be_visible()
    expect(panel.locator("[data-sourcing-figure-source]", has_text="Israeli Defense Forces")).to_have_count(1)
    editor.screenshot(path=str(artifacts / "admin-sources-panel.png"), full_page=False)

    # The warning's words link to the marked place in the analysed text ...
    warning.get_by_role("link", name=re.compile(re.escape(SLIP))).click()
    expect(editor).to_have_url(re.compile(r"#sourcing-warning-1$"))
    expect(panel.locator("#sourcing-warning-1")).to_be_in_viewport()
    expect(panel.locator("mark.sourcing-mark--warning").first).to_contain_text(SLIP)

    # ... and its place to the paragraph in the Content tab, focused for editing.
    place = warning.locator("[data-sourcing-focus]")
    path = place.get_attribute("data-sourcing-focus")
    assert path and path.startswith("body.")
    place.click()
    expect(editor.get_by_role("tab", name="Content")).to_have_attribute("aria-selected", "true")
    block = editor.locator(f'[data-contentpath="body"] [data-contentpath="{path.removeprefix("body.")}"]')
    expect(block).to_be_in_viewport()
    expect(block).to_contain_text(SLIP)
    expect(block.locator("[contenteditable=true]").first).to_be_focused()


def test_seed_article_tells_readers_who_is_quoted(page, server):
    response = page.goto(server.url(SEED_PATH))
    assert response.status == 200
    box = page.get_by_role("complementary", name="Who is quoted")
    expect(box).to_be_visible()
    expect(box.get_by_role("heading", level=2)).to_have_text("Who is quoted")
    expect(box).to_contain_text("Joe Biden")
    expect(box).to_contain_text("John Kirby")
    expect(box).to_contain_text("2 anonymous sources")


def test_panel_follows_saves_and_autosaves_of_a_new_article(editor, server):
    token = uuid.uuid4().hex[:8]
    start_article_in_section(editor, server)
    write_article(
        editor,
        f"Court rules on the harbour plan {token}",
        "“The ruling is fair,” Ada Lovelace said.",
        f"harbour-{token}",
    )
    editor.get_by_role("tab", name="Sources").click()
    expect(editor.locator("[data-sourcing-panel]")).to_contain_text("Save a draft")
    editor.get_by_role("button", name="Save draft").click()
    expect(editor).to_have_url(re.compile(r"/admin/pages/\d+/edit/$"))

    editor.get_by_role("tab", name="Sources").click()
    panel = editor.locator("[data-sourcing-panel]")
    expect(panel.locator("[data-sourcing-speaker]")).to_have_text(["Ada Lovelace"])

    # Autosave overwrites the draft revision; the panel reloads with the new analysis. Wagtail
    # notes the form's starting state 2 s after the page loads and autosaves changes after that,
    # so pause as a person would before typing.
    editor.wait_for_timeout(2_500)
    editor.get_by_role("tab", name="Content").click()
    paragraph = editor.locator("[data-contentpath=body]").get_by_role("textbox")
    paragraph.click()
    editor.keyboard.press("End")
    editor.keyboard.type(" “We will appeal,” Ben Okri said.")
    expect(panel.locator("[data-sourcing-speaker]")).to_have_text(
        ["Ada Lovelace", "Ben Okri"], timeout=15_000
    )
