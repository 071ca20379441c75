"""Everything masthead stores about one email address: exported on request, erased on request."""

from __future__ import annotations

from django.db import transaction

from .identity import email_hash, normalise_email
from .models import Comment, EmailOptOut


def export(email: str) -> dict:
    email = normalise_email(email)
    comments = Comment.objects.filter(author_email=email).select_related("article").order_by("created_at")
    return {
        "email": email,
        "unsubscribed_from_comment_emails": EmailOptOut.objects.filter(email_hash=email_hash(email)).exists(),
        "comments": [
            {
                "id": c.pk,
                "article": c.article.title,
                "article_url": c.article.get_full_url(),
                "name": c.author_name,
                "text": c.body,
                "state": c.state,
                "created_at": c.created_at.isoformat(),
                "reply_notifications": c.notify_replies,
                "ip_address_hash": c.ip_hash,
            }
            for c in comments
        ],
    }


@transaction.atomic
def erase(email: str) -> int:
    """Delete the address's comments (tombstones where others replied) and its opt-out record."""
    email = normalise_email(email)
    comments = list(Comment.objects.filter(author_email=email))
    with_replies = set(Comment.objects.filter(parent__in=comments).values_list("parent_id", flat=True))
    for comment in comments:
        if comment.pk in with_replies:
            comment.author_name, comment.author_email, comment.body, comment.ip_hash = "[erased]", "", "", ""
            comment.state, comment.deleted_by_author, comment.notify_replies = Comment.State.REMOVED, True, False
            comment.save()
        else:
            comment.delete()
    EmailOptOut.objects.filter(email_hash=email_hash(email)).delete()
    return len(comments)
