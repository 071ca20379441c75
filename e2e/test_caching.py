"""The page cache as readers and editors meet it, on the real production server (two workers,
in-process stores): comments work on a page served from the cache, and an editor's publish in
the admin reaches a reader of a cached page at their next request."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from e2e.test_newsroom import editor, reader, start_article_in_section, token, write_article  # noqa: F401

pytestmark = pytest.mark.browser
WRITES_CONTENT = True  # conftest runs content-writing tests last

MIN_SECONDS = 3.2  # the demo policy's minimum writing time, with a margin


def fetch(reader, server, path: str):
    """A GET outside the browser's own cache: what any new reader would get now."""
    return reader.request.get(server.url(path), max_redirects=0)


def test_a_reader_comments_on_a_page_served_from_the_cache(new_context, server):
    reader = new_context().new_page()
    reader.goto(server.url("/culture/"))
    article = reader.locator("main .card__headline a").first.get_attribute("href")
    for _ in range(3):  # cached in whichever worker answers
        fetch(reader, server, article)
    cached = fetch(reader, server, article)
    assert cached.headers["x-cache"] == "HIT" and "set-cookie" not in cached.headers
    reader.goto(server.url(article))
    form = reader.locator("#comment-form")
    form.get_by_label("Name", exact=True).fill("Cache Reader")
    form.get_by_label("Email", exact=True).fill("cache-reader@example.org")
    form.get_by_label("Comment", exact=True).fill("Written on a page that came from the cache.")
    reader.wait_for_timeout(MIN_SECONDS * 1000)
    reader.get_by_role("button", name="Post comment").click()
    expect(reader.locator(".comment-form__done")).to_contain_text("awaiting moderation")


def test_an_edit_published_in_the_admin_reaches_readers_of_the_cached_page(editor, reader, server, token):  # noqa: F811
    headline = f"Cached headline — e2e {token}"
    slug = f"cached-headline-{token}"
    start_article_in_section(editor, server)
    write_article(editor, headline, f"A paragraph ({token}).", slug)
    editor.get_by_role("button", name="More actions").click()
    editor.get_by_role("button", name="Publish", exact=True).click()
    expect(editor.locator(".messages")).to_contain_text(f"Page '{headline}' created and published")
    url = f"/politics/{slug}/"

    # Readers have it cached, in both workers (a few tries reach both).
    for _ in range(8):
        fetch(reader, server, url)
        fetch(reader, server, "/politics/")
    assert fetch(reader, server, url).headers["x-cache"] == "HIT"

    # The editor changes the headline and publishes again.
    editor.locator(".messages").get_by_role("link", name="Edit").click()
    new_headline = f"Updated headline — e2e {token}"
    editor.get_by_role("textbox", name="Headline").fill(new_headline)
    editor.get_by_role("button", name="More actions").click()
    editor.get_by_role("button", name="Publish", exact=True).click()
    expect(editor.locator(".messages")).to_contain_text("published")
    published = time.monotonic()

    # Every request from now on, to either worker, is fresh: the page, its section, the home front.
    for _ in range(6):
        for path in (url, "/politics/", "/"):
            response = fetch(reader, server, path)
            assert new_headline in response.text(), (path, response.headers.get("x-cache"))
    print(f"\nvisible to every reader {1000 * (time.monotonic() - published):.0f} ms after the publish "
          "(6 rounds of 3 pages checked)")  # fmt: skip
    reader.goto(server.url(url))
    expect(reader.locator("h1")).to_have_text(new_headline)
    assert not re.search(r"Cached headline", reader.content())
