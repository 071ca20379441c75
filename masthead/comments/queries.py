"""Reading comments for an article page: a fixed number of queries, however long the thread.

A page of top-level comments is one query, every reply in those threads one more (through the
`root` link), and both counts one: 5 comments or 5,000 cost the same three queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import Count, OuterRef, Q, Subquery
from django.urls import reverse

from masthead.caching.prepared import Prepared
from masthead.news.cards import ISO_DATE, date_setting, local_dates

from .models import MAX_DEPTH, Comment

THREADS_PER_PAGE = 50


@dataclass
class Node:
    """A comment as the thread shows it, with what its template would otherwise work out per
    comment (two dates and a URL: a third of a long thread's render time)."""

    comment: Comment
    children: list["Node"] = field(default_factory=list)
    reply_url: str = ""
    created_iso: str = ""
    created_text: str = ""


def _node(comment: Comment, reply_pattern: str, where: tuple) -> Node:
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


def build_threads(roots: list[Comment], replies: list[Comment]) -> list[Node]:
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


# What every article page asks, compiled once (masthead.caching.prepared): its two counts,
# as one grouped row (none when it has no comment at all), and, when all its threads fit on
# one page, every comment shown.
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
_every_shown_of = Prepared(
    "comments:every-shown",
    lambda article_id: shown().filter(article_id=article_id).order_by("created_at", "pk"),
)


def thread_page(article, page_number) -> dict:
    """Editor's picks first, then the newest conversations; replies oldest first. Two queries
    when every thread fits on one page, three otherwise."""
    found = _counts_for(article.pk)
    counts = {"threads": found[0][0], "approved": found[0][1]} if found else {"threads": 0, "approved": 0}
    if counts["threads"] > THREADS_PER_PAGE:
        top = shown().filter(article=article, depth=0).order_by("-is_pick", "-created_at", "-pk")
    else:  # one page, read below with the replies: not worth building a queryset for
        top = []
    paginator = Paginator(top, THREADS_PER_PAGE)
    paginator.count = counts["threads"]  # both counts above are one query, not two
    try:
        page = paginator.page(page_number or 1)
    except (PageNotAnInteger, EmptyPage):
        page = paginator.page(1)
    if not paginator.count:
        roots, replies = [], []
    elif paginator.num_pages == 1:
        # Every thread fits on this page, as on most articles: all of them and their replies
        # in one query rather than two.
        every = _every_shown_of(article.pk)
        roots = sorted((c for c in every if c.depth == 0), key=lambda c: (c.is_pick, c.created_at, c.pk), reverse=True)
        shown_roots = {c.pk for c in roots}
        replies = [c for c in every if c.depth > 0 and c.root_id in shown_roots]
    else:
        roots = list(page.object_list)
        replies = list(shown().filter(root__in=[c.pk for c in roots]).order_by("created_at", "pk"))
    threads = build_threads(roots, replies)
    return {"threads": threads, "comments_page": page, "comment_count": counts["approved"]}
