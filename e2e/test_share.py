"""The share bar on the seed article: every target, Mastodon's redirect, copy link, no third parties."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from .conftest import SEED_HEADLINE, SEED_PATH, is_local

pytestmark = pytest.mark.browser

CANONICAL = "{canonical}"
TEXT = "{headline} {canonical}"
# Each network's documented share endpoint, and exactly the parameters it must receive.
EXPECTED_TARGETS = {
    "Email": ("mailto", "", "", {"subject": "{headline}", "body": TEXT}),
    "X": ("https", "x.com", "/intent/post", {"text": "{headline}", "url": CANONICAL}),
    "Facebook": ("https", "www.facebook.com", "/sharer/sharer.php", {"u": CANONICAL}),
    "LinkedIn": ("https", "www.linkedin.com", "/sharing/share-offsite/", {"url": CANONICAL}),
    "WhatsApp": ("https", "wa.me", "/", {"text": TEXT}),
    "Telegram": ("https", "t.me", "/share/url", {"url": CANONICAL, "text": "{headline}"}),
    "Reddit": ("https", "www.reddit.com", "/submit", {"url": CANONICAL, "title": "{headline}"}),
    "Bluesky": ("https", "bsky.app", "/intent/compose", {"text": TEXT}),
}


def open_seed(page, server) -> str:
    """Open the seed article and return its canonical URL."""
    response = page.goto(server.url(SEED_PATH))
    assert response.status == 200
    canonical = page.locator("link[rel=canonical]").get_attribute("href")
    assert canonical == server.url(SEED_PATH)
    return canonical


def test_share_links_target_the_canonical_url_and_headline(page, server):
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    canonical = open_seed(page, server)
    page.wait_for_load_state("networkidle")

    # Loading the article asked nothing of any other host: no widget, counter or pixel.
    assert requests, "no request recorded"
    assert [url for url in requests if not is_local(url)] == []

    links = page.locator(".share__link")
    labels = [text.replace("(opens in a new tab)", "").strip() for text in links.all_text_contents()]
    assert labels == list(EXPECTED_TARGETS)

    for index, label in enumerate(labels):
        link = links.nth(index)
        href = link.get_attribute("href")
        scheme, host, path, params = EXPECTED_TARGETS[label]
        parts = urlsplit(href)
        assert (parts.scheme, parts.netloc, parts.path) == (scheme, host, path), f"{label}: {href}"
        assert parts.fragment == ""
        query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=True)
        expected = {
            key: [value.format(headline=SEED_HEADLINE, canonical=canonical)] for key, value in params.items()
        }
        assert query == expected, f"{label}: {href}"
        if label == "Email":
            assert link.get_attribute("target") is None
        else:
            # A new tab that cannot reach back into this one, and says so to screen readers.
            assert link.get_attribute("target") == "_blank"
            assert set(link.get_attribute("rel").split()) >= {"noopener", "noreferrer"}
            expect(link).to_have_accessible_name(f"{label} (opens in a new tab)")


def test_mastodon_redirects_to_the_readers_instance(page, server):
    canonical = open_seed(page, server)
    reached: list[str] = []

    def instance(route):
        reached.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<title>stub instance</title><h1>stub</h1>")

    page.route("https://mastodon.example/**", instance)
    page.get_by_label("Share on Mastodon: your instance").fill("mastodon.example")
    page.get_by_role("button", name="Share on Mastodon").click()
    expect(page).to_have_title("stub instance")

    assert len(reached) == 1
    target = urlsplit(reached[0])
    assert (target.scheme, target.netloc, target.path) == ("https", "mastodon.example", "/share")
    assert parse_qs(target.query, strict_parsing=True) == {"text": [f"{SEED_HEADLINE} {canonical}"]}


def test_mastodon_rejects_an_invalid_instance(page, server):
    open_seed(page, server)
    page.get_by_label("Share on Mastodon: your instance").fill("not a host!")
    with page.expect_response(lambda r: "/share/mastodon/" in r.url) as answer:
        page.get_by_role("button", name="Share on Mastodon").click()
    assert answer.value.status == 400
    expect(page.locator("h1")).to_have_text("Share on Mastodon")
    alert = page.get_by_role("alert")
    expect(alert).to_have_count(1)
    expect(alert).to_contain_text("“not a host!” is not a Mastodon instance address")
    # The reader can try again, or go back to the article.
    expect(page.get_by_label("Share on Mastodon: your instance")).to_be_visible()
    back = page.get_by_role("link", name=f"Back to “{SEED_HEADLINE}”")
    expect(back).to_have_attribute("href", SEED_PATH)


def test_copy_link_puts_the_canonical_url_on_the_clipboard(new_context, server):
    context = new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    canonical = open_seed(page, server)
    status = page.locator(".share__status")
    expect(status).to_have_text("")
    # Another text on the clipboard first, so the assertion cannot pass by accident.
    page.evaluate("navigator.clipboard.writeText('something else')")

    copy = page.get_by_role("button", name="Copy link")
    expect(copy).to_be_visible()  # JavaScript revealed it
    copy.click()
    expect(status).to_have_text("Link copied.")
    assert page.evaluate("navigator.clipboard.readText()") == canonical
