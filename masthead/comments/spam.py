"""The spam filter's memory in the database, shared by every server process.

The statistics live in SpamToken rows; a comment's score reads only the rows of its own tokens
(one query). Moderators teach it: approving is a lesson in ham, marking spam a lesson in spam,
and changing one's mind unlearns the earlier lesson.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from .models import Comment, SpamToken
from .spamfilter import Counts, SpamFilter, tokenize

DOCS = "__docs__"  # the row whose counts are the number of spam and ham comments learned


def comment_tokens(comment: Comment) -> list[str]:
    return tokenize(comment.body, comment.author_name, comment.author_email)


def load_counts(tokens: list[str]) -> Counts:
    rows = {row.token: row for row in SpamToken.objects.filter(token__in=set(tokens) | {DOCS})}
    docs = rows.pop(DOCS, None)
    return Counts(
        spam_docs=docs.spam if docs else 0,
        ham_docs=docs.ham if docs else 0,
        spam={t: r.spam for t, r in rows.items()},
        ham={t: r.ham for t, r in rows.items()},
    )


def spam_probability(body: str, name: str, email: str, threshold: float) -> float:
    tokens = tokenize(body, name, email)
    return SpamFilter(load_counts(tokens), threshold=threshold).probability(tokens)


def _add(tokens: set[str], field: str, weight: int) -> None:
    SpamToken.objects.bulk_create([SpamToken(token=t) for t in tokens], ignore_conflicts=True)
    SpamToken.objects.filter(token__in=tokens).update(**{field: F(field) + weight})


@transaction.atomic
def learn(comment: Comment, lesson: str) -> None:
    """Teach the filter that `comment` is "spam" or "ham" (undoing any earlier lesson)."""
    if comment.trained_as == lesson:
        return
    tokens = set(comment_tokens(comment)) | {DOCS}
    if comment.trained_as:
        _add(tokens, comment.trained_as, -1)
    _add(tokens, lesson, 1)
    SpamToken.objects.filter(spam__lt=0).update(spam=0)
    SpamToken.objects.filter(ham__lt=0).update(ham=0)
    Comment.objects.filter(pk=comment.pk).update(trained_as=lesson)
    comment.trained_as = lesson
