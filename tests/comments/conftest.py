from __future__ import annotations

import time

import pytest
from django.test import Client

from masthead.comments import tickets
from masthead.comments.models import Comment, CommentPolicy


@pytest.fixture
def article(make_section, make_article):
    return make_article(make_section("World"), "A story worth discussing", days_ago=1)


@pytest.fixture
def policy(db):
    from wagtail.models import Site

    return CommentPolicy.for_site(Site.objects.get(is_default_site=True))


def aged_ticket(article, seconds: float = 60) -> str:
    """A ticket issued `seconds` ago, as if the reader started writing then."""
    return tickets.issue(article.pk, now=time.time() - seconds)


@pytest.fixture
def post(client):
    """POST a comment the way the page's script does (JSON answer), with a fresh aged ticket."""

    def send(article, body="A thoughtful comment.", name="Ada", email="ada@example.org", ticket=None, json=True, c=None, **extra):
        data = {"name": name, "email": email, "body": body, "ticket": ticket or aged_ticket(article), **extra}
        headers = {"HTTP_ACCEPT": "application/json"} if json else {}
        return (c or client).post(f"/comments/post/{article.pk}/", data, **headers)

    return send


@pytest.fixture
def make_comment(article):
    """A comment stored directly (no posting rules), in `article` unless `on` or a parent says otherwise."""

    def make(body="A comment.", *, state=Comment.State.PENDING, parent=None, on=None, name="Ada", **fields):
        fields.setdefault("author_email", "ada@example.org")
        return Comment.objects.create(
            article=on or (parent.article if parent else article),
            parent=parent,
            root=(parent.root or parent) if parent else None,
            depth=parent.depth + 1 if parent else 0,
            author_name=name,
            body=body,
            state=state,
            **fields,
        )

    return make


@pytest.fixture
def approved(make_comment):
    def make(body="Approved words.", name="Ben", email="ben@example.org", parent=None, **fields):
        return make_comment(body, state=Comment.State.APPROVED, parent=parent, name=name, author_email=email, **fields)

    return make


@pytest.fixture
def strict_client():
    return Client(enforce_csrf_checks=True)
