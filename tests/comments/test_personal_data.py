"""A commenter's data on request: exported whole, or erased whole."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from masthead.comments.identity import email_hash
from masthead.comments.models import Comment, EmailOptOut


def run(*args) -> str:
    out = StringIO()
    call_command("comment_data", *args, stdout=out)
    return out.getvalue()


def test_export_lists_every_comment_of_the_address(article, approved):
    approved(body="one", email="ada@example.org")
    approved(body="two", email="ADA@example.org ".strip().lower())
    approved(body="someone else", email="ben@example.org")
    EmailOptOut.objects.create(email_hash=email_hash("ada@example.org"))
    data = json.loads(run("export", "Ada@Example.org"))
    assert sorted(c["text"] for c in data["comments"]) == ["one", "two"]
    assert data["unsubscribed_from_comment_emails"] is True
    assert all(c["article_url"].endswith(article.url) for c in data["comments"])


def test_erase_removes_comments_keeps_other_peoples_replies(article, approved):
    mine = approved(body="my words", email="ada@example.org")
    lone = approved(body="my other words", email="ada@example.org")
    reply = approved(body="a reply by Ben", email="ben@example.org", parent=mine)
    EmailOptOut.objects.create(email_hash=email_hash("ada@example.org"))
    assert "erased 2 comment(s)" in run("erase", "ada@example.org", "--yes")
    assert not Comment.objects.filter(pk=lone.pk).exists()
    tomb = Comment.objects.get(pk=mine.pk)
    assert (tomb.body, tomb.author_email, tomb.author_name, tomb.ip_hash) == ("", "", "[erased]", "")
    assert Comment.objects.get(pk=reply.pk).body == "a reply by Ben"
    assert not EmailOptOut.objects.exists()
    assert json.loads(run("export", "ada@example.org"))["comments"] == []


def test_bad_address_is_a_clear_error(db):
    with pytest.raises(CommandError, match="not an email address"):
        run("export", "not-an-email")
