"""Keyboard-only use of the article page: skip link, visible focus, section navigation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import SEED_PATH

pytestmark = pytest.mark.browser

MAX_TABS = 25

FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {
    tag: el.tagName.toLowerCase(), id: el.id, text: (el.innerText || '').trim(),
    href: el.getAttribute('href'), cls: el.className,
    outlineStyle: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth),
    box: {x: box.x, y: box.y, width: box.width, height: box.height},
    viewport: {width: innerWidth, height: innerHeight},
  };
}"""


def within_viewport(info) -> bool:
    box, view = info["box"], info["viewport"]
    return (
        box["width"] > 0
        and box["height"] > 0
        and box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= view["width"]
        and box["y"] + box["height"] <= view["height"]
    )


def has_visible_outline(info) -> bool:
    return info["outlineStyle"] != "none" and info["outlineWidth"] >= 2


def test_skip_link_comes_first_and_moves_focus_to_main(page, server):
    page.goto(server.url(SEED_PATH))
    skip = page.get_by_role("link", name="Skip to content")
    # Hidden off-screen until it gets focus.
    assert skip.bounding_box()["y"] + skip.bounding_box()["height"] <= 0

    page.keyboard.press("Tab")
    first = page.evaluate(FOCUSED)
    assert (first["text"], first["href"]) == ("Skip to content", "#main")
    assert within_viewport(first), f"focused skip link is not on screen: {first['box']}"
    assert has_visible_outline(first), first

    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()
    # The next Tab continues inside the content (the breadcrumb), past the header and menu.
    page.keyboard.press("Tab")
    after = page.evaluate(FOCUSED)
    assert after["href"] == "/" and after["text"] == "Home"
    assert page.evaluate("document.activeElement.closest('nav').getAttribute('aria-label')") == "Breadcrumb"
    assert has_visible_outline(after), after


def test_tab_through_the_section_menu_to_world(page, server):
    page.goto(server.url(SEED_PATH))
    visited = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        info = page.evaluate(FOCUSED)
        visited.append(info["text"] or info["tag"])
        assert info["tag"] != "body", f"focus fell out of the page after {visited}"
        assert has_visible_outline(info), f"no visible focus outline on {info}"
        assert within_viewport(info), f"focused element off screen: {info}"
        if info["href"] == "/world/":
            break
    else:
        pytest.fail(f"World never got focus in {MAX_TABS} tabs: {visited}")

    # Skip link, the site name, the header's search field and button, then the menu in order.
    assert visited == ["Skip to content", "The Masthead", "input", "Search", "Main Stories", "World"]
    expect(page.get_by_role("navigation", name="Sections", exact=True).get_by_role("link", name="World")).to_be_focused()
    # The article lives in World, so the menu marks it as the current place.
    expect(page.get_by_role("navigation", name="Sections", exact=True).get_by_role("link", name="World")).to_have_attribute(
        "aria-current", "true"
    )

    page.keyboard.press("Enter")
    expect(page).to_have_url(server.url("/world/"))
    expect(page.locator("h1")).to_have_text("World")
    expect(page.get_by_role("navigation", name="Sections", exact=True).get_by_role("link", name="World")).to_have_attribute(
        "aria-current", "page"
    )


def test_share_bar_is_reachable_and_usable_by_keyboard(page, server):
    """Every share control takes focus in order and shows it; none traps the focus."""
    page.goto(server.url(SEED_PATH))
    page.get_by_role("heading", name="Share this article").scroll_into_view_if_needed()
    page.locator(".share__link--email").focus()
    seen = []
    for _ in range(MAX_TABS):
        info = page.evaluate(FOCUSED)
        assert has_visible_outline(info), f"no visible focus outline on {info}"
        seen.append(info["text"] or info["tag"])
        if info["text"] == "Share on Mastodon" and info["tag"] == "button":
            break
        page.keyboard.press("Tab")
    else:
        pytest.fail(f"did not reach the Mastodon button: {seen}")
    labels = [s.replace("(opens in a new tab)", "").strip() for s in seen]
    assert labels == [
        "Email", "X", "Facebook", "LinkedIn", "WhatsApp", "Telegram", "Reddit", "Bluesky",
        "input", "Copy link", "input", "Share on Mastodon",
    ]
    # Past the share bar, focus moves on to the footer and out of the article: no trap.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('.share') === null")
