"""Posting rules: what is held, published, refused, and that nothing is stored twice or lost."""

from __future__ import annotations

import re
import threading
import time

import pytest
from bs4 import BeautifulSoup
from django.core import mail
from django.db import connection
from django.test import Client

from masthead.comments import posting
from masthead.comments.identity import ip_hash, rate_key
from masthead.comments.models import BlockedTerm, Comment
from masthead.comments.moderation import moderate

from .conftest import aged_ticket


def test_first_comment_is_held_then_the_commenter_is_trusted(article, post):
    first = post(article)
    assert first.status_code == 201 and first.json()["status"] == "held"
    comment = Comment.objects.get()
    assert comment.state == Comment.State.PENDING and "first comment" in comment.hold_reasons
    moderate([comment], Comment.State.APPROVED)
    second = post(article, body="And a follow-up.")
    assert second.json()["status"] == "published"
    assert Comment.objects.get(body="And a follow-up.").state == Comment.State.APPROVED


def test_text_is_stored_exactly_as_submitted(article, post):
    body = "  “Quotes” — dashes… <b>tags</b>\r\n\r\nand\ttabs  "
    post(article, body=body)
    assert Comment.objects.get().body == body


@pytest.mark.parametrize(
    "term, body, email",
    [
        (("word", "miracle pill"), "Try this Miracle Pill today", "c@example.org"),
        (("domain", "spam.example"), "see https://www.spam.example/x", "c@example.org"),
        (("email", "bad.example"), "hello", "someone@bad.example"),
    ],
)
def test_blocklist_holds_even_a_trusted_commenter(article, post, approved, term, body, email):
    approved(email=email)  # trusted
    BlockedTerm.objects.create(kind=term[0], value=term[1])
    assert post(article, body=body, email=email).json()["status"] == "held"
    assert "blocklist" in Comment.objects.get(body=body).hold_reasons


def test_two_links_hold_a_trusted_commenter(article, post, approved):
    approved(email="t@example.org")
    assert post(article, body="one https://a.example", email="t@example.org").json()["status"] == "published"
    held = post(article, body="https://a.example and https://b.example", email="t@example.org")
    assert held.json()["status"] == "held"
    assert "2 links" in Comment.objects.get(body__startswith="https://a").hold_reasons


def test_honeypot_is_stored_as_spam_not_lost(article, post):
    response = post(article, homepage="http://bot.example")
    assert response.status_code == 201
    assert Comment.objects.get().state == Comment.State.SPAM


def test_too_fast_is_refused_and_nothing_stored(article, post):
    response = post(article, ticket=aged_ticket(article, seconds=0.2))
    assert response.status_code == 400 and response.json()["status"] == "retry"
    assert not Comment.objects.exists()


def test_same_ticket_twice_stores_once(article, post):
    ticket = aged_ticket(article)
    first = post(article, ticket=ticket)
    again = post(article, ticket=ticket)
    assert first.json() == again.json()
    assert Comment.objects.count() == 1


def test_ticket_for_another_article_or_forged_is_refused(article, post, make_article, make_section):
    other = make_article(make_section("Sport"), "Another")
    assert post(article, ticket=aged_ticket(other)).json()["status"] == "retry"
    assert post(article, ticket=aged_ticket(article) + "x").json()["status"] == "retry"
    assert not Comment.objects.exists()


def test_without_javascript_a_confirmation_step_keeps_the_text(article, strict_client):
    body = "No script here, “just” a form."
    # The cached article page has no token: the first POST shows the text back with a fresh one.
    response = strict_client.post(
        f"/comments/post/{article.pk}/", {"name": "Ada", "email": "ada@example.org", "body": body}
    )
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    doc = BeautifulSoup(response.content, "html.parser")
    form = doc.select_one("form#comment-form")
    assert form.select_one("textarea").get_text().removeprefix("\n") == body  # HTML drops that newline
    fields = {i["name"]: i.get("value", "") for i in form.select("input") if i.get("name")}
    assert fields["ticket"] and fields["csrfmiddlewaretoken"]
    assert not Comment.objects.exists()
    # The reader checks and posts: the ticket must have aged like a person's pause.
    from masthead.comments import tickets
    import time

    aged = tickets.issue(article.pk, now=time.time() - 10)
    response = strict_client.post(
        f"/comments/post/{article.pk}/", {**fields, "body": body, "notify": "", "ticket": aged}
    )
    assert response.status_code == 302
    page = strict_client.get(response["Location"])
    assert b"awaiting moderation" in page.content and "no-store" in page["Cache-Control"]
    assert Comment.objects.get().body == body


def test_bad_csrf_token_never_stores(article, strict_client):
    strict_client.get(f"/comments/ticket/{article.pk}/")
    data = {"name": "Ada", "email": "ada@example.org", "body": "x", "ticket": aged_ticket(article)}
    response = strict_client.post(f"/comments/post/{article.pk}/", {**data, "csrfmiddlewaretoken": "forged" * 6})
    assert response.status_code == 200 and b"Check your comment" in response.content
    assert not Comment.objects.exists()


def test_ticket_endpoint_sets_csrf_cookie_and_is_never_cached(article, client):
    response = client.get(f"/comments/ticket/{article.pk}/")
    assert response.json()["ticket"] and response.json()["csrf_token"]
    assert "csrftoken" in response.cookies
    assert "no-store" in response["Cache-Control"]


def test_too_long_comment_is_refused_with_the_text_kept(article, post, policy):
    policy.max_length = 50
    policy.save()
    body = "x" * 51
    response = post(article, body=body, json=False)
    assert response.status_code == 400
    assert body in response.content.decode() and b"the limit is 50" in response.content
    assert post(article, body=body).json()["errors"]["body"]
    assert not Comment.objects.exists()


def test_a_line_break_counts_as_one_character_as_the_browser_counts_it(article, post, policy):
    policy.max_length = 50
    policy.save()
    body = ("x" * 9 + "\r\n") * 5  # 50 characters in the textarea, 55 as sent
    assert post(article, body=body).status_code == 201
    assert post(article, body=body + "y").json()["errors"]["body"] == [
        "Your comment is 51 characters long; the limit is 50. Please shorten it: your text is still here."
    ]


def test_rate_limit_per_ip_and_email_with_a_readable_429(article, post, policy):
    policy.rate_limit_count = 2
    policy.save()
    assert post(article, email="a@example.org").status_code == 201
    assert post(article, email="b@example.org").status_code == 201
    refused = post(article, email="c@example.org", body="kept text", json=False)
    assert refused.status_code == 429
    assert b"kept text" in refused.content and b"Please wait" in refused.content
    assert Comment.objects.count() == 2


def test_an_ipv6_reader_is_one_reader_across_the_64_its_line_was_given(article, post, policy):
    policy.rate_limit_count = 1
    policy.save()
    assert post(article, email="a@example.org", c=Client(REMOTE_ADDR="2001:db8:1:2::1")).status_code == 201
    # Another address of the same /64 (any host on the line may pick one) is the same reader...
    same_line = post(article, email="b@example.org", c=Client(REMOTE_ADDR="2001:db8:1:2:ffff::9"))
    assert same_line.status_code == 429
    # ...the next /64 is someone else, and so is any IPv4 reader.
    assert post(article, email="c@example.org", c=Client(REMOTE_ADDR="2001:db8:1:3::1")).status_code == 201
    assert post(article, email="d@example.org", c=Client(REMOTE_ADDR="192.0.2.1")).status_code == 201
    assert post(article, email="e@example.org", c=Client(REMOTE_ADDR="192.0.2.2")).status_code == 201
    assert ip_hash("2001:db8:1:2::1") == ip_hash("2001:db8:1:2:ffff::9") != ip_hash("2001:db8:1:3::1")
    assert ip_hash("::ffff:192.0.2.1") == ip_hash("192.0.2.1") != ip_hash("192.0.2.2")


@pytest.mark.parametrize(
    "address, reader",
    [
        ("[2001:db8:1:2::1]:443", "2001:db8:1:2::/64"),  # as a proxy may write it
        ("fe80::1%eth0", "fe80::/64"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("192.0.2.1", "192.0.2.1"),
        ("not an address", "not an address"),
    ],
)
def test_the_rate_limit_key_of_an_address(address, reader):
    assert rate_key(address) == reader


def test_a_post_that_lands_while_this_one_is_scored_counts_against_its_rate_limit(article, post, policy, make_comment, monkeypatch):
    """A parallel request from the same reader commits between this post's early count and its
    insert (here: while the spam filter reads it); the count taken with the insert refuses."""
    policy.rate_limit_count = 1
    policy.save()
    decide = posting.decide

    def decide_while_another_post_lands(sub, policy):
        make_comment("sent in parallel", author_email=sub.email, ip_hash=ip_hash(sub.ip))
        return decide(sub, policy)

    monkeypatch.setattr(posting, "decide", decide_while_another_post_lands)
    refused = post(article, body="kept text", json=False)
    assert refused.status_code == 429 and b"kept text" in refused.content
    assert list(Comment.objects.values_list("body", flat=True)) == ["sent in parallel"]


def test_the_same_ticket_landing_meanwhile_is_the_comment_not_a_rate_limit(article, post, policy, make_comment, monkeypatch):
    policy.rate_limit_count = 1
    policy.save()
    decide = posting.decide

    def decide_while_a_retry_lands(sub, policy):
        make_comment(sub.body, author_email=sub.email, ip_hash=ip_hash(sub.ip), idempotency_key=sub.ticket.key)
        return decide(sub, policy)

    monkeypatch.setattr(posting, "decide", decide_while_a_retry_lands)
    ticket = aged_ticket(article)
    answer = post(article, body="once", ticket=ticket)
    assert answer.status_code in (200, 201) and Comment.objects.get().body == "once"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite's IMMEDIATE transactions serialise writers; the test above covers its count")
@pytest.mark.parametrize("shared", ["address", "email"])
@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # threads see committed rows only
def test_parallel_posts_from_one_reader_count_one_another(article, policy, monkeypatch, shared):
    """Two requests at once, sharing an address or an email, each slowed between its early
    count and its insert: on PostgreSQL only the advisory locks stop both passing a limit of one."""
    policy.rate_limit_count = 1
    policy.save()
    decide = posting.decide

    def slow_decide(sub, policy):
        time.sleep(0.5)
        return decide(sub, policy)

    monkeypatch.setattr(posting, "decide", slow_decide)
    start = threading.Barrier(2, timeout=30)
    statuses: list[int] = []

    def send(n: int) -> None:
        try:
            email = "same@example.org" if shared == "email" else f"{n}@example.org"
            address = "192.0.2.1" if shared == "address" else f"192.0.2.{n + 10}"
            data = {"name": "Ada", "email": email, "body": f"post {n}", "ticket": aged_ticket(article)}
            start.wait()
            answer = Client(REMOTE_ADDR=address).post(f"/comments/post/{article.pk}/", data, HTTP_ACCEPT="application/json")
            statuses.append(answer.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [201, 429]
    assert Comment.objects.count() == 1


def test_closed_article_and_close_after_days(article, post, policy):
    article.comments_open = False
    article.save_revision().publish()
    assert post(article).status_code == 403
    article.comments_open = True
    article.save_revision().publish()
    policy.close_after_days = 0
    policy.save()
    refused = post(article)
    assert refused.status_code == 403 and "days after publication" in refused.json()["message"]
    assert not Comment.objects.exists()


def test_replies_nest_and_cannot_target_pending(article, post, approved):
    parent = approved()
    post(article, body="a reply", parent=str(parent.pk))
    reply = Comment.objects.get(body="a reply")
    assert (reply.parent, reply.root, reply.depth) == (parent, parent, 1)
    pending = Comment.objects.create(article=article, author_name="P", author_email="p@example.org", body="p")
    response = post(article, body="to pending", parent=str(pending.pk))
    assert response.status_code == 400
    assert not Comment.objects.filter(body="to pending").exists()


def test_ip_is_stored_only_as_a_keyed_hash(article, post):
    post(article, REMOTE_ADDR="203.0.113.9")
    comment = Comment.objects.get()
    assert re.fullmatch(r"[0-9a-f]{64}", comment.ip_hash)
    assert "203.0.113.9" not in str(Comment.objects.values().get())


def test_moderators_are_emailed_about_held_comments(article, post, django_capture_on_commit_callbacks):
    from django.contrib.auth.models import Group
    from django.contrib.auth import get_user_model

    mod = get_user_model().objects.create_user("mod", "mod@example.org", "pw")
    mod.groups.add(Group.objects.get_or_create(name="Moderators")[0])
    with django_capture_on_commit_callbacks(execute=True):
        post(article, body="needs a look")
    assert [m.to for m in mail.outbox] == [["mod@example.org"]]
    message = mail.outbox[0]
    assert "needs a look" in message.body and "List-Unsubscribe" in message.extra_headers
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_reply_notification_and_one_click_unsubscribe(article, post, approved, client, django_capture_on_commit_callbacks):
    parent = approved(email="parent@example.org", notify_replies=True)
    approved(email="replier@example.org")  # trusted, so the reply is published at once
    with django_capture_on_commit_callbacks(execute=True):
        post(article, body="I disagree", email="replier@example.org", parent=str(parent.pk))
    assert [m.to for m in mail.outbox] == [["parent@example.org"]]
    link = re.search(r"<(http[^>]+)>", mail.outbox[0].extra_headers["List-Unsubscribe"]).group(1)
    path = link.split("://", 1)[1].split("/", 1)[1]
    assert client.post("/" + path, {"List-Unsubscribe": "One-Click"}).status_code == 200
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        post(article, body="Still disagree", email="replier@example.org", parent=str(parent.pk))
    assert mail.outbox == []
    assert client.get("/" + path[:-3] + "xx/").status_code == 404  # forged token


# --- refusals that keep the text, and what the blocklist reads -----------------------------------


def test_a_comment_held_for_many_reasons_is_stored_with_them_shortened(article, post):
    """Each blocked word adds a reason; the column holds 200 characters, and PostgreSQL refused
    the longer text with an error the reader saw as a failed post."""
    words = [f"forbiddenword{n:02d}" for n in range(12)]
    BlockedTerm.objects.bulk_create([BlockedTerm(kind="word", value=w) for w in words])
    body = " ".join(words) + " https://a.example https://b.example"
    assert post(article, body=body).json()["status"] == "held"
    reasons = Comment.objects.get().hold_reasons
    assert len(reasons) == 200 and reasons.startswith("blocklist: word “forbiddenword00”") and reasons.endswith("…")


@pytest.mark.parametrize(
    "link",
    [
        "https://spam.example\\@good.example/x",  # a browser opens spam.example
        "https://spam.example./x",  # the same host, with its root dot
        "https://WWW.Spam.Example/x",
        "(https://spam.example)",  # the page links https://spam.example, without the parenthesis
        "https://spam.example,",
        "https://spam\u200b.example/x",  # a zero-width space, which the page drops
    ],
)
def test_a_blocked_domain_is_found_however_the_link_is_written(article, post, approved, link):
    approved(email="t@example.org")
    BlockedTerm.objects.create(kind="domain", value="spam.example")
    assert post(article, body=f"see {link}", email="t@example.org").json()["status"] == "held"
    assert "link to spam.example" in Comment.objects.get(body__startswith="see").hold_reasons


def test_a_link_that_is_no_url_does_not_break_the_blocklist(article, post, approved):
    approved(email="t@example.org")
    BlockedTerm.objects.create(kind="domain", value="spam.example")
    response = post(article, body="odd http://[oops/ link", email="t@example.org")
    assert response.status_code == 201
    assert Comment.objects.filter(body="odd http://[oops/ link").exists()


def test_a_post_to_an_article_unpublished_meanwhile_gives_the_text_back(article, post):
    body = "Written while the story was still up."
    article.unpublish()
    as_json = post(article, body=body)
    assert as_json.status_code == 404 and as_json.json()["status"] == "refused"
    page = post(article, body=body, json=False)
    assert page.status_code == 404 and "no-store" in page["Cache-Control"]
    kept = BeautifulSoup(page.content, "html.parser").select_one("textarea#kept-text").get_text()
    assert kept.removeprefix("\n") == body
    from django.test import Client

    answer = Client().get(f"/comments/ticket/{article.pk}/", HTTP_ACCEPT="application/json")
    assert answer.status_code == 404 and answer.json()["status"] == "refused"
    assert not Comment.objects.exists()


def test_the_kept_text_keeps_its_first_newline(article, post):
    article.unpublish()
    body = "\nStarts with a blank line."
    page = post(article, body=body, json=False)
    assert BeautifulSoup(page.content, "html.parser").select_one("textarea#kept-text").get_text() == "\n" + body


def test_readers_past_a_password_can_comment_and_others_cannot(article, post, client):
    from wagtail.models import PageViewRestriction

    PageViewRestriction.objects.create(page=article, restriction_type="password", password="letmein")
    assert post(article).status_code == 404
    page = client.get(article.url)
    form = BeautifulSoup(page.content, "html.parser").select_one("form")
    passed = client.post(form["action"], {"password": "letmein", "return_url": article.url})
    assert passed.status_code == 302
    response = post(article, body="Past the password.")
    assert response.status_code == 201 and Comment.objects.get().body == "Past the password."


def test_a_reply_whose_parent_went_meanwhile_is_refused_with_its_text(article, post, approved, monkeypatch):
    """The insert fails on the parent's foreign key, not on a duplicate ticket: no 500."""
    from django.db import IntegrityError

    parent = approved()

    def parent_gone(*args, **kwargs):
        raise IntegrityError("FOREIGN KEY constraint failed")

    monkeypatch.setattr(Comment.objects, "create", parent_gone)
    response = post(article, body="A reply.", parent=str(parent.pk))
    assert response.status_code == 400 and response.json()["status"] == "refused"


def test_an_invisible_character_hides_no_blocked_word(article, post, approved):
    approved(email="t@example.org")
    BlockedTerm.objects.create(kind="word", value="miracle pill")
    body = "Try this mir\u200bacle pill today"
    assert post(article, body=body, email="t@example.org").json()["status"] == "held"
