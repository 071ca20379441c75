"""The whole life of a comment, as people see it: a reader posts and waits for moderation, a
moderator approves in the admin, a new visitor reads it; a reply; the author deletes theirs."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
WRITES_CONTENT = True  # conftest runs content-writing tests last

HEADLINE = "Brackenford’s Museum of Art and Industry reopens after four-year, £38m restoration"
MIN_SECONDS = 3.2  # the demo policy's minimum writing time, with a margin


def open_article(page, server) -> None:
    page.goto(server.url("/culture/"))
    page.get_by_role("link", name=HEADLINE).first.click()
    expect(page.locator("h1")).to_have_text(HEADLINE)


def write_comment(page, name: str, email: str, text: str) -> None:
    form = page.locator("#comment-form")
    form.get_by_label("Name", exact=True).fill(name)
    form.get_by_label("Email", exact=True).fill(email)
    form.get_by_label("Comment", exact=True).fill(text)
    page.wait_for_timeout(MIN_SECONDS * 1000)  # a person takes a while to write


@pytest.fixture
def moderator(new_context, server):
    page = new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(server.url("/admin/login/"))
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(server.admin_password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(server.url("/admin/"))
    return page


def test_post_moderate_read_reply_delete(new_context, moderator, server):
    words = f"The restored engine hall is wonderful ({uuid.uuid4().hex[:6]})."
    reader = new_context().new_page()
    open_article(reader, server)
    email = f"ada-{uuid.uuid4().hex[:6]}@example.org"
    write_comment(reader, "Ada Visitor", email, words)
    reader.get_by_role("button", name="Post comment").click()
    done = reader.locator(".comment-form__done")
    expect(done).to_contain_text("awaiting moderation")
    delete_href = done.get_by_role("link", name="Delete this comment").get_attribute("href")
    assert re.fullmatch(r"/comments/delete/[^/]+/", delete_href)

    # Not public yet.
    visitor = new_context().new_page()
    open_article(visitor, server)
    expect(visitor.locator("#comments")).not_to_contain_text(words)

    # The moderator finds it in the queue (pending is the default view) and approves it.
    moderator.get_by_role("link", name="Comments").first.click()
    moderator.get_by_role("link", name=re.compile(re.escape(words[:30]))).first.click()
    expect(moderator.locator("main")).to_contain_text(words)
    moderator.get_by_role("button", name="Approve").click()
    expect(moderator.locator("main")).to_contain_text("Comment approved")

    # A new visitor reads it.
    visitor = new_context().new_page()
    open_article(visitor, server)
    comment = visitor.locator("#comments li.comment", has_text=words)
    expect(comment).to_have_count(1)

    # The (now trusted) reader replies to their own thread from the page, without a reload.
    open_article(reader, server)
    reader.locator("li.comment", has_text=words).get_by_role("link", name=re.compile("^Reply")).click()
    expect(reader.locator("#comment-form-title")).to_have_text("Reply to Ada Visitor")
    reply_words = f"And the café is good too ({uuid.uuid4().hex[:6]})."
    write_comment(reader, "Ada Visitor", email, reply_words)
    reader.get_by_role("button", name="Post comment").click()
    expect(reader.locator(".comment-form__done")).to_contain_text("published")

    visitor.reload()
    parent = visitor.locator("#comments li.comment", has_text=words).first
    expect(parent.locator("ol.comment-list--replies li.comment", has_text=reply_words)).to_have_count(1)

    # The author deletes the first comment with their signed link: the reply keeps its place.
    reader.goto(server.url(delete_href))
    reader.get_by_role("button", name="Delete my comment").click()
    expect(reader.locator("h1")).to_have_text("Your comment is deleted")
    visitor.reload()
    expect(visitor.locator("#comments")).not_to_contain_text(words)
    expect(visitor.locator("#comments")).to_contain_text("deleted by its author")
    expect(visitor.locator("#comments")).to_contain_text(reply_words)


def test_posting_without_javascript(new_context, server):
    words = f"Posted with scripts off ({uuid.uuid4().hex[:6]})."
    page = new_context(java_script_enabled=False).new_page()
    open_article(page, server)
    write_comment(page, "Ben Noscript", f"ben-{uuid.uuid4().hex[:6]}@example.org", words)
    page.get_by_role("button", name="Post comment").click()
    # The cached page carries no token, so a confirmation step shows the text with a fresh one.
    expect(page.locator("h1")).to_have_text("Post your comment")
    expect(page.get_by_label("Comment", exact=True)).to_have_value(words)
    page.wait_for_timeout(MIN_SECONDS * 1000)
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator("h1")).to_contain_text("awaiting moderation")
    expect(page.get_by_role("link", name="Delete this comment")).to_be_visible()


def test_a_refused_post_says_why_and_keeps_the_text(new_context, server):
    """The server refuses a form whose article is gone (here: a form pointed at an id that never
    was, so the demo's content stays as it is); the script shows its reason, not "could not
    reach the server", and the text stays in the form."""
    page = new_context().new_page()
    open_article(page, server)
    page.evaluate(
        """() => { const form = document.getElementById("comment-form");
        form.action = "/comments/post/999999999/"; form.dataset.ticketUrl = "/comments/ticket/999999999/"; }"""
    )
    text = "Written while the story was taken down."
    write_comment(page, "Ada Visitor", "ada@example.org", text)
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator(".comment-form__status")).to_have_text(
        "This article is no longer open to comments. Your text is still here."
    )
    expect(page.locator("#comment-form").get_by_label("Comment", exact=True)).to_have_value(text)
