"""A reader's path: home -> World -> the seed article, with and without JavaScript."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import SEED_FURNITURE, SEED_HEADLINE, SEED_PATH, seed_body_paragraphs

pytestmark = pytest.mark.browser


def test_home_to_world_to_seed_article(page, server):
    page.goto(server.url("/"))
    expect(page).to_have_title("News and analysis | The Masthead")

    page.get_by_role("navigation", name="Sections", exact=True).get_by_role("link", name="World", exact=True).click()
    expect(page).to_have_url(server.url("/world/"))
    expect(page.locator("h1")).to_have_text("World")

    page.locator("main").get_by_role("link", name=SEED_HEADLINE, exact=True).click()
    expect(page).to_have_url(server.url(SEED_PATH))

    # The headline, once, as the page's only h1.
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("h1")).to_have_text(SEED_HEADLINE)
    expect(page).to_have_title(f"{SEED_HEADLINE} | The Masthead")

    # Breadcrumb: Home › World (the primary section, marked as a link trail), and the further section.
    crumbs = page.get_by_role("navigation", name="Breadcrumb").get_by_role("listitem")
    expect(crumbs).to_have_text(["Home", "World"])
    crumb_links = page.get_by_role("navigation", name="Breadcrumb").get_by_role("link")
    assert [crumb_links.nth(i).get_attribute("href") for i in range(crumb_links.count())] == ["/", "/world/"]
    separator = crumbs.nth(1).evaluate("li => getComputedStyle(li, '::before').content")
    assert separator == '"›"', f"breadcrumb separator is {separator!r}"
    expect(page.locator(".article__also")).to_have_text("Also in Main Stories")
    expect(page.locator(".article__also a")).to_have_attribute("href", "/main-stories/")

    # The body is the seed file's story, byte for byte, and nothing else.
    expected = seed_body_paragraphs()
    assert len(expected) == 14
    shown = page.locator(".article__body p").all_text_contents()
    assert shown == expected
    body_text = page.locator(".article__body").inner_text()
    for furniture in SEED_FURNITURE:
        assert furniture not in body_text
        # ... nor anywhere else on the page.
        expect(page.get_by_text(furniture, exact=True)).to_have_count(0)
    assert "…" in body_text and "—" in body_text and "“" in body_text  # typography survived


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_header_search_on_a_phone(new_context, server, scheme):
    """The header's search box fits a 360 px screen, shows its focus, and takes the reader to
    the results; it is a plain GET form, so JavaScript is not needed."""
    phone = {"width": 360, "height": 740}
    page = new_context(viewport=phone, color_scheme=scheme, java_script_enabled=False).new_page()
    page.goto(server.url("/world/"))
    form = page.get_by_role("search", name="Site")
    field = form.get_by_role("searchbox", name="Search articles")
    button = form.get_by_role("button", name="Search")
    for control in (field, button):
        box = control.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360, (control, box)
        assert box["height"] >= 24, (control, box)  # a finger-sized target
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, "the page scrolls sideways"
    field.focus()
    assert field.evaluate("el => getComputedStyle(el).outlineStyle") != "none"
    field.fill("gaza")
    field.press("Enter")
    expect(page).to_have_url(server.url("/search/?q=gaza"))
    expect(page.locator("h1")).to_have_text("Search")
    expect(page.locator(".search-result").first).to_be_visible()


@pytest.mark.parametrize(
    "path, heading",
    [("/", None), ("/world/", "World"), ("/world/middle-east/", "Middle East"), (SEED_PATH, SEED_HEADLINE)],
)
def test_pages_work_without_javascript(new_context, server, path, heading):
    context = new_context(java_script_enabled=False)
    page = context.new_page()
    response = page.goto(server.url(path))
    assert response.status == 200
    if heading is None:
        expect(page.locator("h1")).to_have_text("The Masthead")
        expect(page.locator("#main-stories")).to_have_text("Main Stories")
        expect(page.locator("main .card").first).to_be_visible()
    else:
        expect(page.locator("h1")).to_have_text(heading)
    expect(page.get_by_role("navigation", name="Sections", exact=True).get_by_role("link")).to_have_count(7)

    if path == SEED_PATH:
        expect(page.locator(".share__link")).to_have_count(8)
        for link in page.locator(".share__link").all():
            expect(link).to_be_visible()
        # The copy button and the system share sheet need JavaScript: they must stay hidden.
        expect(page.get_by_role("button", name="Copy link")).to_be_hidden()
        expect(page.locator("[data-copy]")).to_have_attribute("hidden", "")
        expect(page.locator("[data-native-share]")).to_be_hidden()
        # The link itself is still there to copy by hand, and Mastodon sharing is a plain form.
        expect(page.get_by_label("Link to this article")).to_have_value(server.url(SEED_PATH))
        expect(page.get_by_role("button", name="Share on Mastodon")).to_be_visible()
        expect(page.locator(".article__body p")).to_have_count(14)
    else:
        expect(page.locator("main .card__headline a").first).to_be_visible()
