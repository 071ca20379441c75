"""Deciding what happens to a submitted comment, and storing it exactly once.

The order matters: a resubmission (same ticket) returns the comment already stored before
anything else is checked, so a retry after a lost response never meets a rate limit or a
duplicate. Only then: open for comments? within rate limits? and finally the moderation
decision, which never rejects text outright: doubtful comments are held or marked spam, so a
moderator can still rescue what a reader wrote.

Rate limits are counted twice: once early, so a flood is refused before the spam filter reads
it, and again in the insert's transaction while holding the reader's locks, so posts sent in
parallel count one another instead of each seeing the count from before any of them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from .identity import ip_hash, normalise_email
from .models import BlockedTerm, Comment, CommentPolicy
from .spam import spam_probability
from .text import count_links, link_host, linked_urls, visible_text
from .tickets import Ticket


class Refused(Exception):
    """The comment cannot be taken now; `status` is the HTTP status, the message says why."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Submission:
    article: object  # ArticlePage
    ticket: Ticket
    name: str
    email: str
    body: str
    ip: str = ""
    parent_id: int | None = None
    notify: bool = False
    honeypot: str = ""


@dataclass
class Decision:
    state: str
    reasons: list[str] = field(default_factory=list)
    spam_score: float | None = None


def closed_reason(article, policy: CommentPolicy, now=None) -> str | None:
    """Why comments on `article` are closed, or None when they are open."""
    if not policy.comments_enabled:
        return "Comments are switched off on this site."
    if not getattr(article, "comments_open", True):
        return "Comments are closed on this article."
    if policy.close_after_days is not None and article.first_published_at:
        if (now or timezone.now()) - article.first_published_at > timedelta(days=policy.close_after_days):
            return f"Comments close {policy.close_after_days} days after publication."
    return None


def check_rate(ip_digest: str, email: str, policy: CommentPolicy) -> None:
    since = timezone.now() - timedelta(minutes=policy.rate_limit_minutes)
    recent = Comment.objects.filter(created_at__gte=since)
    if ip_digest and recent.filter(ip_hash=ip_digest).count() >= policy.rate_limit_count:
        raise Refused(429, "You have posted several comments in the last few minutes. Please wait a while.")
    if recent.filter(author_email=email).count() >= policy.rate_limit_count:
        raise Refused(429, "This email address has posted several comments in the last few minutes. Please wait a while.")


def hold_rate_locks(ip_digest: str, email: str) -> None:
    """Serialise posts by one address or one email until the current transaction ends.

    PostgreSQL takes a transaction-level advisory lock per key, in a fixed order so two posts
    sharing only one key cannot deadlock. SQLite needs none: its transactions are IMMEDIATE
    (settings), so writers already queue for the whole transaction."""
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        return
    keys = [("email", email)] + ([("ip", ip_digest)] if ip_digest else [])
    with connection.cursor() as cursor:
        for lock in sorted(_lock_id(kind, value) for kind, value in keys):
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock])


def _lock_id(kind: str, value: str) -> int:
    digest = hashlib.sha256(f"masthead.comments.rate:{kind}:{value}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def blocked_matches(name: str, email: str, body: str) -> list[str]:
    terms = list(BlockedTerm.objects.values_list("kind", "value"))
    if not terms:
        return []
    text = visible_text(f"{name}\n{body}").casefold()  # as shown: "mir\u200bacle" reads "miracle"
    hosts = {link_host(url) for url in linked_urls(body)}
    hits = []
    for kind, value in terms:
        if kind == BlockedTerm.Kind.WORD and re.search(rf"(?<!\w){re.escape(value)}(?!\w)", text):
            hits.append(f"word “{value}”")
        elif kind == BlockedTerm.Kind.DOMAIN and any(h == value or h.endswith("." + value) for h in hosts):
            hits.append(f"link to {value}")
        elif kind == BlockedTerm.Kind.EMAIL and (email == value or email.endswith("@" + value) or email.endswith("." + value)):
            hits.append(f"email {value}")
    return hits


def decide(sub: Submission, policy: CommentPolicy) -> Decision:
    if sub.honeypot:
        return Decision(Comment.State.SPAM, ["honeypot field filled in"])
    score = spam_probability(sub.body, sub.name, sub.email, policy.spam_threshold)
    if score >= policy.spam_threshold:
        return Decision(Comment.State.SPAM, [f"spam filter ({score:.2f})"], score)
    reasons = [f"blocklist: {hit}" for hit in blocked_matches(sub.name, sub.email, sub.body)]
    links = count_links(sub.body)
    if links >= policy.link_hold_threshold:
        reasons.append(f"{links} links")
    if policy.hold_first_comment and not Comment.objects.approved().filter(author_email=sub.email).exists():
        reasons.append("first comment from this email")
    return Decision(Comment.State.PENDING if reasons else Comment.State.APPROVED, reasons, score)


def post(sub: Submission, policy: CommentPolicy) -> tuple[Comment, bool]:
    """Store the submission once; returns (comment, created). Raises Refused."""
    existing = Comment.objects.filter(idempotency_key=sub.ticket.key).first()
    if existing is not None:
        return existing, False
    reason = closed_reason(sub.article, policy)
    if reason:
        raise Refused(403, reason)
    sub.email = normalise_email(sub.email)
    digest = ip_hash(sub.ip)
    check_rate(digest, sub.email, policy)
    parent = None
    if sub.parent_id:
        parent = Comment.objects.filter(pk=sub.parent_id, article=sub.article, state=Comment.State.APPROVED).first()
        if parent is None:
            raise Refused(400, "The comment you are replying to is not available.")
    decision = decide(sub, policy)
    try:
        with transaction.atomic():
            hold_rate_locks(digest, sub.email)
            # A post of the same ticket may have committed while this one waited for the locks.
            existing = Comment.objects.filter(idempotency_key=sub.ticket.key).first()
            if existing is not None:
                return existing, False
            check_rate(digest, sub.email, policy)
            comment = Comment.objects.create(
                article=sub.article,
                parent=parent,
                root=(parent.root or parent) if parent else None,
                depth=parent.depth + 1 if parent else 0,
                author_name=sub.name,
                author_email=sub.email,
                body=sub.body,
                state=decision.state,
                hold_reasons=_reasons_text(decision.reasons),
                spam_score=decision.spam_score,
                notify_replies=sub.notify,
                idempotency_key=sub.ticket.key,
                ip_hash=digest,
            )
            from .notifications import after_post

            transaction.on_commit(lambda: after_post(comment))
    except IntegrityError:
        # The same ticket raced in from a second request; the first one won.
        first = Comment.objects.filter(idempotency_key=sub.ticket.key).first()
        if first is None:  # not a duplicate: what it replies to (comment or article) went meanwhile
            raise Refused(400, "What you are replying to is no longer available.") from None
        return first, False
    return comment, True


def _reasons_text(reasons: list[str]) -> str:
    """The hold reasons as the moderation queue shows them, within the column's length: a
    comment hitting many blocked words must still be stored (PostgreSQL refuses longer text)."""
    text = "; ".join(reasons)
    limit = Comment._meta.get_field("hold_reasons").max_length
    return text if len(text) <= limit else text[: limit - 1] + "…"
