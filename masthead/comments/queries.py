"""Reading comments for an article page: a fixed number of queries, however long the thread.

Most articles have a few dozen comments at most, so the page first reads every comment shown,
up to ONE_READ of them, as plain rows, and pages its threads in Python: one query. Only an
article with more comments than that reads them as before: both counts in one query, a page of
top-level comments in one more, and every reply in those threads in a third (through the `root`
link), so 5,000 comments cost the same four queries as 500.

Comments are shown from rows (`ShownComment`) rather than model instances: a page only reads
them, and a Comment model instance costs its whole row of columns and a signal each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import Count, OuterRef, Q, Subquery
from django.urls import reverse

from masthead.caching.prepared import Prepared
from masthead.news.cards import ISO_DATE, date_setting, local_dates

from .models import MAX_DEPTH, Comment, shown_html

THREADS_PER_PAGE = 50
ONE_READ = 250  # comments shown read at once; an article with more pages them in SQL


class ShownComment(NamedTuple):
    """What a page shows of a comment, as read from its row (SHOWN_FIELDS)."""

    pk: int
    parent_id: int | None
    root_id: int | None
    depth: int
    author_name: str
    body: str
    body_html: str
    html_version: str
    is_pick: bool
    deleted_by_author: bool
    created_at: datetime
    state: str

    @property
    def html(self) -> str:
        return shown_html(self.body, self.body_html, self.html_version)


SHOWN_FIELDS = ShownComment._fields


@dataclass
class Node:
    """A comment as the thread shows it, with what its template would otherwise work out per
    comment (two dates and a URL: a third of a long thread's render time)."""

    comment: ShownComment
    children: list["Node"] = field(default_factory=list)
    reply_url: str = ""
    created_iso: str = ""
    created_text: str = ""


def _node(comment: ShownComment, reply_pattern: str, where: tuple) -> Node:
    created_iso, created_text = local_dates(comment.created_at, ISO_DATE, "j M Y, H:i", where=where)
    return Node(
        comment,
        reply_url=reply_pattern.replace(_PLACEHOLDER, str(comment.pk)),
        created_iso=created_iso,
        created_text=created_text,
    )


_PLACEHOLDER = "2147483647"  # a pk no comment has, replaced by the real one in each reply URL


def approved_count_subquery() -> Subquery:
    """Per-article approved-comment count, for annotating article lists in the same query."""
    counts = (
        Comment.objects.approved()
        .filter(article=OuterRef("pk"))
        .order_by()
        .values("article")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Subquery(counts)


# Approved comments, and the tombstones of ones their authors deleted (replies stay put).
SHOWN = Q(state=Comment.State.APPROVED) | Q(deleted_by_author=True)


def shown():
    return Comment.objects.filter(SHOWN)


def build_threads(roots: list[ShownComment], replies: list[ShownComment]) -> list[Node]:
    """Nest replies under their parents; below MAX_DEPTH they continue flat at that depth."""
    reply_pattern = reverse("comments:reply", args=[int(_PLACEHOLDER)])
    where = date_setting()
    nodes = {c.pk: _node(c, reply_pattern, where) for c in [*roots, *replies]}
    for reply in replies:  # oldest first, so each level reads in order
        parent = nodes.get(reply.parent_id)
        while parent is not None and parent.comment.depth >= MAX_DEPTH:
            parent = nodes.get(parent.comment.parent_id)
        if parent is not None:
            parent.children.append(nodes[reply.pk])
    return [nodes[c.pk] for c in roots]


# What every article page asks, compiled once (masthead.caching.prepared): every comment shown,
# oldest first, up to one more than ONE_READ (one more says there are more).
_shown_of = Prepared(
    "comments:shown",
    lambda article_id: shown()
    .filter(article_id=article_id)
    .order_by("created_at", "pk")
    .values_list(*SHOWN_FIELDS)[: ONE_READ + 1],
)
# For an article with more than that: its two counts, as one grouped row.
_counts_for = Prepared(
    "comments:counts",
    lambda article_id: Comment.objects.filter(article_id=article_id)
    .order_by()
    .values("article_id")
    .annotate(
        threads=Count("pk", filter=SHOWN & Q(depth=0)),
        approved=Count("pk", filter=Q(state=Comment.State.APPROVED)),
    )
    .values_list("threads", "approved"),
)


def _newest_conversations_first(comment: ShownComment) -> tuple:
    return (comment.is_pick, comment.created_at, comment.pk)  # sorted in reverse


def thread_page(article, page_number) -> dict:
    """Editor's picks first, then the newest conversations; replies oldest first. One query
    when the article has at most ONE_READ comments shown, four otherwise."""
    every = [ShownComment._make(row) for row in _shown_of(article.pk)]
    if len(every) <= ONE_READ:
        roots = sorted((c for c in every if c.depth == 0), key=_newest_conversations_first, reverse=True)
        approved = sum(1 for c in every if c.state == Comment.State.APPROVED)
        page = _page(Paginator(roots, THREADS_PER_PAGE), page_number)
        shown_roots = {c.pk for c in page.object_list}
        replies = [c for c in every if c.depth > 0 and c.root_id in shown_roots]
        return _threads(list(page.object_list), replies, page, approved)
    found = _counts_for(article.pk)  # no row if every comment went since the read above
    threads, approved = found[0] if found else (0, 0)
    top = shown().filter(article=article, depth=0).order_by("-is_pick", "-created_at", "-pk")
    paginator = Paginator(top.values_list(*SHOWN_FIELDS), THREADS_PER_PAGE)
    paginator.count = threads  # counted above with the approved ones, in one query
    page = _page(paginator, page_number)
    roots = [ShownComment._make(row) for row in page.object_list]
    replies = shown().filter(root__in=[c.pk for c in roots]).order_by("created_at", "pk")
    replies = [ShownComment._make(row) for row in replies.values_list(*SHOWN_FIELDS)]
    return _threads(roots, replies, page, approved)


def _page(paginator: Paginator, number):
    """The page asked for, or the first when it is not one (a stale or made-up link)."""
    try:
        return paginator.page(number or 1)
    except (PageNotAnInteger, EmptyPage):
        return paginator.page(1)


def _threads(roots: list[ShownComment], replies: list[ShownComment], page, approved: int) -> dict:
    return {"threads": build_threads(roots, replies), "comments_page": page, "comment_count": approved}
