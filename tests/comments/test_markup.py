"""A comment thread's markup (masthead/comments/markup.py): each comment's own markup is
remembered by everything it shows, so no change is ever hidden by it."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from masthead.comments import markup
from masthead.comments.queries import Node, ShownComment
from masthead.comments.text import RENDER_VERSION


def comment(**changes) -> ShownComment:
    fields = dict(
        pk=7, parent_id=None, root_id=None, depth=0, author_name="Ada <b>", body="Hello", body_html="<p>Hello</p>",
        html_version=RENDER_VERSION, is_pick=False, deleted_by_author=False,
        created_at=datetime(2026, 11, 26, 9, 30, tzinfo=timezone.utc), state="approved",
    )  # fmt: skip
    return ShownComment(**{**fields, **changes})


def node(shown: ShownComment, **changes) -> Node:
    made = dict(reply_url=f"/comments/reply/{shown.pk}/", created_iso="2026-11-26T09:30:00+0000",
                created_text="26 Nov 2026, 09:30")  # fmt: skip
    return Node(shown, **{**made, **changes})


CHANGES = {
    "author_name": {"author_name": "Ben"},
    "body": {"body_html": "<p>Edited</p>"},
    "pick": {"is_pick": True},
    "deleted": {"deleted_by_author": True},
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_remembered_comment_is_never_shown_after_it_changed(change):
    before = markup.thread_html([node(comment())], False)
    assert markup.thread_html([node(comment())], False) == before
    changed = [node(comment(**CHANGES[change]))]
    shown = markup.thread_html(changed, False)
    markup._remembered.clear()
    assert shown == markup.thread_html(changed, False) != before


def test_its_date_reply_link_and_closing_are_part_of_what_is_remembered():
    shown = {
        markup.thread_html([node(comment())], False),
        markup.thread_html([node(comment())], True),  # comments closed: no reply link
        markup.thread_html([node(comment(), created_text="26 Nov 2026, 18:30")], False),
        markup.thread_html([node(comment(), reply_url="/news/comments/reply/7/")], False),
    }
    assert len(shown) == 4
    assert "comment__reply" not in markup.thread_html([node(comment())], True)


def test_replies_nest_under_a_remembered_comment():
    root = node(comment())
    root.children.append(node(comment(pk=8, parent_id=7, root_id=7, depth=1, author_name="Cy")))
    html = markup.thread_html([root], False)
    assert html.index('id="comment-7"') < html.index("comment-list--replies") < html.index('id="comment-8"')
    assert html.count("</li>") == 2 and html.endswith("</li>\n")
    assert "Ada &lt;b&gt;" in html and "<b>" not in html.replace("<bdi>", "")


def test_remembered_comments_are_bounded(monkeypatch):
    monkeypatch.setattr(markup._remembered, "limit", 3)
    markup._remembered.clear()
    for pk in range(10):
        markup.thread_html([node(comment(pk=pk))], False)
        assert len(markup._remembered) <= 3
