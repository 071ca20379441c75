"""A comment thread's markup, built in Python rather than by a template per comment.

Each comment was an `{% include "comments/node.html" %}` of its own, recursively for replies:
for the seed article's eight comments that cost 2 ms of a 9 ms uncached page, the include, its
context and the locale formatting of every number in it, where the markup of a comment is
small and fixed. Here it is the same markup, with every value escaped by `format_html` as the
template escaped it; the comment's text is already safe HTML (masthead/comments/text.py).
"""

from __future__ import annotations

from typing import Iterable

from django.utils.safestring import SafeString, mark_safe

from masthead.escaping import format_html
from masthead.memo import Memo

from .queries import Node


def thread_html(nodes: Iterable[Node], closed: bool) -> SafeString:
    """The `<li>` of each comment in `nodes`, its replies nested; reply links unless `closed`."""
    parts: list[str] = []
    for node in nodes:
        _add(node, closed, parts)
    return mark_safe("".join(parts))


_remembered: Memo[str] = Memo(limit=8192)  # comments, a few hundred bytes to a few kilobytes each


def _add(node: Node, closed: bool, parts: list[str]) -> None:
    comment = node.comment
    html = comment.html  # made from the text when stored by older rules: once, not twice
    # A comment's own markup, remembered by everything it shows (as news/card_markup.py does
    # for cards): the same comments come back on every view of their article, and any change
    # (an edit, a pick, a deletion, the time zone of its date, comments closing) is another key.
    key = (
        comment.pk,
        comment.is_pick,
        comment.deleted_by_author,
        comment.author_name,
        html,
        node.created_iso,
        node.created_text,
        node.reply_url,
        closed,
    )
    parts.append(_remembered.get(key, lambda: _own_markup(node, html, closed)))
    if node.children:
        parts.append('<ol class="comment-list comment-list--replies">\n')
        for child in node.children:
            _add(child, closed, parts)
        parts.append("</ol>\n")
    parts.append("</li>\n")


def _own_markup(node: Node, html: str, closed: bool) -> str:
    """The comment's <li> up to its replies."""
    comment = node.comment
    pk = comment.pk
    parts: list[str] = []
    parts.append(
        format_html(
            '<li class="comment{}" id="comment-{}">\n<article class="comment__inner" aria-labelledby="comment-{}-by">\n',
            " comment--pick" if comment.is_pick else "",
            pk,
            pk,
        )
    )
    if comment.deleted_by_author:
        parts.append(
            format_html(
                '<p class="comment__meta" id="comment-{}-by">Deleted comment</p>\n'
                '<p class="comment__deleted">This comment was deleted by its author.</p>\n',
                pk,
            )
        )
    else:
        parts.append(
            format_html(
                '<p class="comment__meta"><span class="comment__author" id="comment-{}-by"><bdi>{}</bdi></span>'
                ' <a class="comment__permalink" href="#comment-{}"><time datetime="{}">{}</time></a>{}</p>\n'
                '<div class="comment__body">{}</div>\n',
                pk,
                comment.author_name,
                pk,
                node.created_iso,
                node.created_text,
                mark_safe(' <span class="comment__pick">Editor’s pick</span>') if comment.is_pick else "",
                mark_safe(html),
            )
        )
        if not closed:
            parts.append(
                format_html(
                    '<p class="comment__actions"><a class="comment__reply" href="{}" data-reply="{}"'
                    ' data-reply-name="{}">Reply<span class="visually-hidden"> to {}</span></a></p>\n',
                    node.reply_url,
                    pk,
                    comment.author_name,
                    comment.author_name,
                )
            )
    parts.append("</article>\n")
    return "".join(parts)
