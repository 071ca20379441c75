"""State changes of comments: by moderators, by editors (picks) and by commenters themselves.

Each moderator decision also teaches the spam filter, and approving a reply tells the author
of the comment it answers, if they asked to be told.
"""

from __future__ import annotations

from typing import Iterable

from django.db import transaction
from django.utils import timezone

from .models import Comment
from .notifications import after_approval
from .spam import learn

LESSONS = {Comment.State.APPROVED: "ham", Comment.State.SPAM: "spam"}


@transaction.atomic
def moderate(comments: Iterable[Comment], state: str, user=None) -> int:
    """Move comments to `state`; returns how many changed."""
    changed = 0
    now = timezone.now()
    for comment in comments:
        if comment.state == state:
            continue
        was_approved = comment.state == Comment.State.APPROVED
        comment.state, comment.moderated_at, comment.moderated_by = state, now, user
        comment.save(update_fields=["state", "moderated_at", "moderated_by"])
        if state in LESSONS:
            learn(comment, LESSONS[state])
        if state == Comment.State.APPROVED and not was_approved:
            transaction.on_commit(lambda c=comment: after_approval(c))
        changed += 1
    return changed


def set_pick(comment: Comment, is_pick: bool) -> None:
    Comment.objects.filter(pk=comment.pk).update(is_pick=is_pick)
    comment.is_pick = is_pick
    from masthead.caching.invalidation import comment_pick_changed

    comment_pick_changed(comment)  # a queryset update sends no signal


@transaction.atomic
def delete_by_author(comment: Comment) -> None:
    """Remove a commenter's own comment. Replies keep their place under a tombstone."""
    if Comment.objects.filter(parent=comment).exists():
        comment.body = ""
        comment.author_name = "[deleted]"
        comment.state = Comment.State.REMOVED
        comment.deleted_by_author = True
        comment.save(update_fields=["body", "author_name", "state", "deleted_by_author"])
    else:
        comment.delete()
