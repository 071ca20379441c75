"""Comments, their moderation states, and what the spam defence learns and blocks.

A comment row is never the only copy of nothing: it is written once, exactly as the reader
typed it, and moderation only changes its state. Personal data is kept to what the features
need: the email (for trust and reply notifications, never shown), and the IP only as a keyed
hash (for rate limits).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting

from .spamfilter import MAX_TOKEN_LENGTH
from .text import RENDER_VERSION, render

MAX_DEPTH = 3  # replies deeper than this are shown flat, at this depth
HTML_FIELDS = ("body_html", "html_version")


class CommentQuerySet(models.QuerySet):
    def approved(self) -> CommentQuerySet:
        return self.filter(state=Comment.State.APPROVED)

    # The bulk writes skip `save()`; these keep a comment's HTML in step with its text.

    def bulk_create(self, objs, batch_size=None, ignore_conflicts=False, update_conflicts=False,
                    update_fields=None, unique_fields=None) -> list:
        objs = list(objs)
        for comment in objs:
            comment.render_html()
        if update_fields and "body" in update_fields:
            update_fields = [*update_fields, *HTML_FIELDS]
        return super().bulk_create(
            objs, batch_size=batch_size, ignore_conflicts=ignore_conflicts, update_conflicts=update_conflicts,
            update_fields=update_fields, unique_fields=unique_fields,
        )

    def bulk_update(self, objs, fields, *args, **kwargs) -> int:
        objs = list(objs)
        if "body" in fields:
            for comment in objs:
                comment.render_html()
            fields = [*fields, *HTML_FIELDS]
        return super().bulk_update(objs, fields, *args, **kwargs)

    def update(self, **kwargs) -> int:
        """A new text by queryset gets its HTML with it; one given as an expression is
        rendered as it is read (what was stored is cleared). bulk_update, above, comes through
        here with its own HTML."""
        if "body" in kwargs and "body_html" not in kwargs:
            body = kwargs["body"]
            made = (html_of(body), RENDER_VERSION) if isinstance(body, str) else ("", "")
            kwargs.update(zip(HTML_FIELDS, made))
        return super().update(**kwargs)


class Comment(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Awaiting moderation"
        APPROVED = "approved", "Approved"
        SPAM = "spam", "Spam"
        REMOVED = "removed", "Removed"

    article = models.ForeignKey("news.ArticlePage", on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies")
    # The top-level comment of the thread: one query fetches every reply of a page of threads.
    root = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    depth = models.PositiveSmallIntegerField(default=0)
    author_name = models.CharField(max_length=80)
    author_email = models.EmailField(max_length=254, db_index=True)
    body = models.TextField()
    # `body` as shown (text.render), made whenever the text is written: a comment is written
    # once and read on every view of its article, where rendering it was about 3 % of the
    # uncached page's Python calls. `html` uses it only when `html_version` is the current
    # text.RENDER_VERSION, and renders the text as it is read otherwise (comments from before
    # this field, or a change of the rules or the sanitiser since). The database defaults let
    # processes of the previous release go on posting while the migration runs.
    body_html = models.TextField(blank=True, default="", db_default="", editable=False)
    html_version = models.CharField(max_length=40, blank=True, default="", db_default="", editable=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING, db_index=True)
    hold_reasons = models.CharField(max_length=200, blank=True, help_text="Why the comment was held, if it was")
    spam_score = models.FloatField(null=True, blank=True)
    is_pick = models.BooleanField("editor's pick", default=False)
    notify_replies = models.BooleanField(default=False)
    deleted_by_author = models.BooleanField(default=False)
    # What the spam filter last learned from this comment ("spam", "ham" or nothing), so that
    # a moderator who changes their mind makes the filter unlearn the earlier lesson.
    trained_as = models.CharField(max_length=4, blank=True, editable=False)
    idempotency_key = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    ip_hash = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    moderated_at = models.DateTimeField(null=True, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["article", "state", "depth", "created_at"], name="comment_thread_list"),
            models.Index(fields=["root", "state"], name="comment_replies"),
        ]
        permissions = [("moderate_comment", "Can moderate comments")]

    def __str__(self) -> str:
        return f"{self.author_name}: {self.body[:60]}"

    def render_html(self) -> None:
        self.body_html, self.html_version = html_of(self.body), RENDER_VERSION

    def save(self, *args, **kwargs) -> None:
        update_fields = kwargs.get("update_fields")
        if update_fields is None:
            self.render_html()
        elif "body" in update_fields:
            self.render_html()
            kwargs["update_fields"] = {*update_fields, *HTML_FIELDS}
        super().save(*args, **kwargs)

    @cached_property
    def html(self) -> str:
        return shown_html(self.body, self.body_html, self.html_version)

    @property
    def display_depth(self) -> int:
        return min(self.depth, MAX_DEPTH)

    @property
    def is_visible(self) -> bool:
        return self.state == self.State.APPROVED


class BlockedTerm(models.Model):
    """A word, link domain or email address that holds a comment for a moderator."""

    class Kind(models.TextChoices):
        WORD = "word", "Word or phrase"
        DOMAIN = "domain", "Link domain"
        EMAIL = "email", "Email address or domain"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.WORD)
    value = models.CharField(max_length=200)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    panels = [FieldPanel("kind"), FieldPanel("value"), FieldPanel("note")]

    class Meta:
        ordering = ["kind", "value"]
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="unique_blocked_term")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"

    def save(self, *args, **kwargs):
        self.value = self.value.strip().casefold()
        super().save(*args, **kwargs)


class SpamToken(models.Model):
    """How many spam and approved comments contained a token: the spam filter's memory."""

    token = models.CharField(max_length=MAX_TOKEN_LENGTH, primary_key=True)
    # Plain integers: unlearning decrements first and clamps at zero after.
    spam = models.IntegerField(default=0)
    ham = models.IntegerField(default=0)


class EmailOptOut(models.Model):
    """Someone who unsubscribed from every comment email; kept as a keyed hash, not the address."""

    email_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)


@register_setting(icon="comment")
class CommentPolicy(BaseSiteSetting):
    """The site's comment rules, edited under Settings › Comment policy."""

    comments_enabled = models.BooleanField(default=True)
    hold_first_comment = models.BooleanField(
        default=True, help_text="Hold an email address's first comment until a moderator approves it."
    )
    close_after_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Close comments this many days after publication (empty: never)."
    )
    max_length = models.PositiveIntegerField(default=5000, help_text="Longest comment, in characters.")
    link_hold_threshold = models.PositiveSmallIntegerField(
        default=2, help_text="Hold comments with at least this many links."
    )
    min_seconds = models.PositiveSmallIntegerField(
        default=3, help_text="Fastest a person can write a comment; quicker posts are treated as bots."
    )
    rate_limit_count = models.PositiveIntegerField(default=5, help_text="Comments allowed per IP address or email…")
    rate_limit_minutes = models.PositiveIntegerField(default=10, help_text="…within this many minutes.")
    spam_threshold = models.FloatField(
        default=0.9, help_text="Spam probability above which the filter marks a comment as spam."
    )
    moderator_emails = models.TextField(
        blank=True, help_text="Extra addresses told about held comments, one per line (moderators are always told)."
    )

    panels = [
        FieldPanel("comments_enabled"),
        FieldPanel("hold_first_comment"),
        FieldPanel("close_after_days"),
        FieldPanel("max_length"),
        FieldPanel("link_hold_threshold"),
        FieldPanel("min_seconds"),
        FieldPanel("rate_limit_count"),
        FieldPanel("rate_limit_minutes"),
        FieldPanel("spam_threshold"),
        FieldPanel("moderator_emails"),
    ]

    class Meta:
        verbose_name = "comment policy"


def html_of(body: str) -> str:
    return render(body) if body else ""


def shown_html(body: str, body_html: str, html_version: str) -> str:
    """A comment's HTML: as stored when it was made by the current rules, else made now."""
    return body_html if html_version == RENDER_VERSION else html_of(body)


def store_html(comment_model, batch: int = 1000, using: str = "default") -> int:
    """Store the HTML of every comment whose stored HTML is missing or from another
    RENDER_VERSION, `batch` comments per transaction, so pages (which render those comments as
    they read them meanwhile) are never held up for long. Takes the model so that a migration
    can pass its historical one. Returns how many were stored.

    Walks the comments by primary key from where the last batch ended: asking for the first
    `batch` stale comments every time made the database step over every comment already stored
    on each pass, which grows with the table (measured at 914,355 comments on PostgreSQL: the
    query took 0.94 s a batch a tenth of the way in). Each batch is written with one UPDATE
    per comment sent together (executemany), not bulk_update's one statement of CASE branches,
    which the database matches row by row against every id (1,000 comments: 247 ms against
    86 ms). The walk is one pass: a comment made stale again behind it (an update of its text
    by expression) is rendered as it is read until the command is run again. `using` is the
    database alias (a migration's schema_editor.connection.alias)."""
    from django.db import connections, transaction

    connection = connections[using]
    meta = comment_model._meta
    name = connection.ops.quote_name
    update = (
        f"UPDATE {name(meta.db_table)} SET {name(meta.get_field('body_html').column)} = %s, "
        f"{name(meta.get_field('html_version').column)} = %s WHERE {name(meta.pk.column)} = %s"
    )
    stale = comment_model.objects.using(using).exclude(html_version=RENDER_VERSION).order_by("pk")
    stored, after = 0, None
    while True:
        with transaction.atomic(using=using):  # locked, so that a text changed meanwhile is not overwritten
            rows = stale if after is None else stale.filter(pk__gt=after)
            rows = list(rows.select_for_update().values_list("pk", "body")[:batch])
            if rows:
                with connection.cursor() as cursor:
                    cursor.executemany(update, [(html_of(body), RENDER_VERSION, pk) for pk, body in rows])
        stored += len(rows)
        if len(rows) < batch:
            return stored
        after = rows[-1][0]
