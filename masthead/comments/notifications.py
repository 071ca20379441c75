"""Emails about comments: moderators hear of held comments, commenters of replies they asked for.

Every message carries a one-click unsubscribe (RFC 8058 List-Unsubscribe-Post), and nobody who
unsubscribed is written to again. Messages are made after the comment is committed and sent by
the mail thread (masthead/mail.py), so a slow mail server never holds a request; a mail failure
is logged, never turned into an error for the reader who posted.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.urls import reverse

from .identity import UNSUBSCRIBE_SALT, email_hash, normalise_email, sign
from .models import Comment, CommentPolicy, EmailOptOut

logger = logging.getLogger(__name__)

MODERATOR_GROUP = "Moderators"


def absolute(path: str) -> str:
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + path


def unsubscribe_url(email: str) -> str:
    return absolute(reverse("comments:unsubscribe", args=[sign(normalise_email(email), UNSUBSCRIBE_SALT)]))


def opted_out(emails: list[str]) -> set[str]:
    hashes = {email_hash(e): e for e in emails}
    return {hashes[h] for h in EmailOptOut.objects.filter(email_hash__in=hashes).values_list("email_hash", flat=True)}


def send(to: str, subject: str, body: str) -> None:
    link = unsubscribe_url(to)
    message = EmailMessage(
        subject=subject,
        body=f"{body}\n\n--\nStop all comment emails from {settings.WAGTAIL_SITE_NAME}: {link}\n",
        to=[to],
        headers={"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
    try:
        message.send()
    except Exception:  # with MASTHEAD_MAIL_IN_BACKGROUND=0, an outage must not fail the comment
        logger.exception("could not send comment email to a recipient")


def moderator_addresses(policy: CommentPolicy | None) -> list[str]:
    users = get_user_model().objects.filter(is_active=True, groups__name=MODERATOR_GROUP).exclude(email="")
    extra = policy.moderator_emails.split() if policy else []
    addresses = sorted({normalise_email(e) for e in [*users.values_list("email", flat=True), *extra]})
    blocked = opted_out(addresses)
    return [a for a in addresses if a not in blocked]


def tell_moderators(comment: Comment) -> None:
    policy = CommentPolicy.for_site(comment.article.get_site()) if comment.article.get_site() else None
    review = absolute(reverse("comments_moderation:edit", args=[comment.pk]))
    for address in moderator_addresses(policy):
        send(
            address,
            f"Comment held for moderation on “{comment.article.title}”",
            f"{comment.author_name} wrote:\n\n{comment.body}\n\nHeld because: {comment.hold_reasons or 'policy'}\n"
            f"Review it: {review}",
        )


def tell_parent_author(reply: Comment) -> None:
    parent = reply.parent
    if parent is None or not parent.notify_replies or parent.state != Comment.State.APPROVED:
        return
    if parent.author_email == reply.author_email or opted_out([parent.author_email]):
        return
    send(
        parent.author_email,
        f"{reply.author_name} replied to your comment on “{reply.article.title}”",
        f"{reply.author_name} wrote:\n\n{reply.body}\n\nRead the conversation: "
        f"{reply.article.get_full_url()}#comment-{reply.pk}",
    )


def after_post(comment: Comment) -> None:
    if comment.state == Comment.State.PENDING:
        tell_moderators(comment)
    elif comment.state == Comment.State.APPROVED:
        tell_parent_author(comment)


def after_approval(comment: Comment) -> None:
    tell_parent_author(comment)
