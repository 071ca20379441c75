"""What readers see: approved comments in threads, counts on pages and lists, fixed query cost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from masthead.comments.identity import DELETE_SALT, sign
from masthead.comments.models import MAX_DEPTH, Comment
from masthead.comments.queries import THREADS_PER_PAGE


def doc(client, url) -> BeautifulSoup:
    response = client.get(url)
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


def test_only_approved_comments_show_and_count(client, article, approved):
    approved(body="Visible words")
    for state in ("pending", "spam", "removed"):
        Comment.objects.create(article=article, author_name="X", author_email="x@example.org", body=f"{state} words", state=state)
    page = doc(client, article.url)
    section = page.select_one("section#comments")
    assert section.select_one(".comments__count").get_text() == "(1)"
    text = section.get_text()
    assert "Visible words" in text and "pending words" not in text and "spam words" not in text
    assert "x@example.org" not in page.decode() and "ben@example.org" not in page.decode()  # emails never shown


def test_count_shows_on_article_lists(client, article, approved):
    approved()
    approved(body="second")
    card = [c for c in doc(client, "/world/").select(".card") if article.title in c.get_text()][0]
    assert "2 comments" in card.select_one(".card__meta").get_text()


def test_threads_nest_three_deep_then_flat(client, article, approved):
    chain = [approved(body="level 0")]
    for level in range(1, 6):
        chain.append(approved(body=f"level {level}", parent=chain[-1]))
    page = doc(client, article.url)
    for level, comment in enumerate(chain):
        item = page.select_one(f"#comment-{comment.pk}")
        nesting = len(item.find_parents("ol", class_="comment-list--replies"))
        assert nesting == min(level, MAX_DEPTH), (level, nesting)


def test_editor_pick_is_pinned_first(client, article, approved):
    pick = approved(body="the pick", is_pick=True)
    approved(body="newer but not picked")
    first = doc(client, article.url).select_one(".comment-list > li")
    assert first["id"] == f"comment-{pick.pk}" and "Editor’s pick" in first.get_text()


def test_comment_html_is_built_from_text(client, article, approved):
    approved(body='<script>alert(1)</script> see https://example.org/a?b=1&c=2\n\nnext <img src=x onerror=alert(1)>')
    body = doc(client, article.url).select_one(".comment__body")
    assert not body.find("script") and not body.find("img")
    assert [p.get_text() for p in body.find_all("p")][0].startswith("<script>alert(1)</script>")
    link = body.find("a")
    assert link["href"] == "https://example.org/a?b=1&c=2" and link["rel"] == ["nofollow", "ugc", "noopener"]


def make_many(article, count: int) -> None:
    now = timezone.now()
    roots = Comment.objects.bulk_create(
        Comment(article=article, author_name=f"R{i}", author_email=f"r{i}@example.org", body=f"root {i}",
                state="approved", created_at=now - timedelta(seconds=i))
        for i in range(count // 2)
    )
    Comment.objects.bulk_create(
        Comment(article=article, parent=root, root=root, depth=1, author_name="re", author_email="re@example.org",
                body=f"reply to {root.pk}", state="approved", created_at=now)
        for root in roots[: count - len(roots)]
    )


def queries_for(client, url) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_query_budget_same_for_5_and_5000_comments(client, make_section, make_article):
    small = make_article(make_section("Small"), "Few comments")
    medium = make_article(make_section("Medium"), "Some comments")
    large = make_article(make_section("Large"), "Many comments")
    make_many(small, 5)
    make_many(medium, 200)
    make_many(large, 5000)
    # Up to ONE_READ comments are one query, paged in Python; more take four (the capped read,
    # both counts, the page of threads, then their replies). Neither grows with the comments.
    few, some, many = (queries_for(client, article.url) for article in (small, medium, large))
    assert few == some == many - 3
    for article, count in ((medium, 200), (large, 5000)):  # 100 and 2,500 threads: paged either way
        page = doc(client, article.url)
        threads = page.select("section#comments > ol.comment-list > li")
        assert len(threads) == THREADS_PER_PAGE
        assert page.select_one(".comments__count").get_text() == f"({count})"
        more = page.select_one("section#comments a[rel=next]")["href"]
        assert more == "?comments=2#comments"
        second = doc(client, article.url + "?comments=2").select("section#comments > ol.comment-list > li")
        assert len(second) == THREADS_PER_PAGE
        assert not {li["id"] for li in second} & {li["id"] for li in threads}
        # The newest conversations first, each with its reply.
        assert [li.select_one(".comment__author").get_text() for li in threads[:2]] == ["R0", "R1"]
        assert threads[0].select_one("ol.comment-list--replies .comment__author").get_text() == "re"


def test_signed_delete_link(client, article, approved):
    comment = approved(body="regret")
    token = sign(str(comment.pk), DELETE_SALT)
    assert client.get(f"/comments/delete/{token}/").status_code == 200
    assert client.get(f"/comments/delete/{comment.pk}:forged/").status_code == 404
    assert client.post(f"/comments/delete/{token}/").status_code == 200
    assert not Comment.objects.filter(pk=comment.pk).exists()


def test_deleting_a_comment_with_replies_leaves_a_tombstone(client, article, approved):
    parent = approved(body="original words")
    reply = approved(body="a reply", parent=parent)
    client.post(f"/comments/delete/{sign(str(parent.pk), DELETE_SALT)}/")
    page = doc(client, article.url)
    assert "original words" not in page.get_text()
    assert "deleted by its author" in page.select_one(f"#comment-{parent.pk}").get_text()
    assert "a reply" in page.select_one(f"#comment-{reply.pk}").get_text()


def test_reply_page_without_javascript(client, article, approved):
    parent = approved(body="reply to me")
    page = doc(client, f"/comments/reply/{parent.pk}/")
    form = page.select_one("form#comment-form")
    assert form.select_one("input[name=parent]")["value"] == str(parent.pk)
    assert form.select_one("input[name=ticket]")["value"]
    assert "reply to me" in page.select_one("blockquote").get_text()


@pytest.mark.parametrize("url", ["/comments/posted/123/", "/comments/posted/123:forged/"])
def test_posted_page_needs_a_signed_token(client, db, url):
    assert client.get(url).status_code == 404


def test_the_blank_form_follows_the_policy_and_a_reply_form_keeps_its_values(client, article, approved, policy):
    """The blank form's fields are rendered once per policy (comments.template_functions.comment_form_fields);
    a change of limit shows at once, and a form with values is never served from that memo."""
    field = doc(client, article.url).select_one("form#comment-form textarea[name=body]")
    assert field["maxlength"] == str(policy.max_length)
    policy.max_length = 1234
    policy.save()
    page = doc(client, article.url)
    assert page.select_one("form#comment-form textarea[name=body]")["maxlength"] == "1234"
    assert "up to 1,234 characters" in page.select_one("form#comment-form").get_text()
    parent = approved(body="reply to me")
    reply = doc(client, f"/comments/reply/{parent.pk}/").select_one("form#comment-form")
    assert reply.select_one("input[name=parent]")["value"] == str(parent.pk)
    again = doc(client, article.url).select_one("form#comment-form")
    assert again.select_one("input[name=parent]").get("value") in (None, "")


def test_an_article_page_builds_no_form_once_the_blank_fields_are_remembered(client, article, monkeypatch):
    from masthead.comments.forms import CommentForm

    built = []
    real_init = CommentForm.__init__

    def counted(self, *args, **kwargs):
        built.append(1)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(CommentForm, "__init__", counted)
    first = doc(client, article.url).select_one("form#comment-form textarea[name=body]")
    built.clear()
    again = doc(client, article.url).select_one("form#comment-form textarea[name=body]")
    assert built == [] and str(again) == str(first)


def test_comment_dates_and_reply_links_match_the_template_filters(client, article, approved):
    """Worked out once per comment in Python (comments/queries.py), as `date` and `url` would."""
    from django.template.defaultfilters import date
    from django.urls import reverse

    comment = approved(body="A comment with a date.")
    shown = doc(client, article.url).select_one(f"#comment-{comment.pk}")
    time = shown.select_one("time")
    assert time["datetime"] == date(comment.created_at, r"Y-m-d\TH:i:sO")
    assert time.get_text() == date(comment.created_at, "j M Y, H:i")
    assert shown.select_one("a.comment__reply")["href"] == reverse("comments:reply", args=[comment.pk])


def test_comment_html_is_made_once_when_saved_not_on_every_view(client, article, approved, monkeypatch):
    comment = approved(body="made once, see https://example.org/x")
    assert "<a href=\"https://example.org/x\"" in comment.body_html
    import masthead.comments.models as models

    def not_again(text):
        raise AssertionError("a saved comment was rendered again on view")

    monkeypatch.setattr(models, "render", not_again)
    assert "made once" in doc(client, article.url).select_one(f"#comment-{comment.pk} .comment__body").get_text()


def test_comment_saved_without_its_html_still_shows_rendered(client, article, approved):
    comment = approved(body="line one\nline <two>")
    Comment.objects.filter(pk=comment.pk).update(body_html="<p>stale</p>", html_version="")  # as before 0003
    shown = doc(client, article.url).select_one(f"#comment-{comment.pk} .comment__body")
    assert shown.p.decode_contents() == "line one<br/>line &lt;two&gt;"


def test_html_made_by_other_rules_is_not_shown(client, article, approved):
    comment = approved(body="current text")
    Comment.objects.filter(pk=comment.pk).update(body_html="<p>old rules</p>", html_version="0+nh3-0.0.1")
    assert doc(client, article.url).select_one(f"#comment-{comment.pk} .comment__body").get_text() == "current text"


def test_every_way_of_writing_the_text_keeps_its_html_in_step(article, approved):
    from django.db.models import F, Value
    from django.db.models.functions import Concat

    from masthead.comments.personal_data import erase

    def shown(pk):
        return Comment.objects.get(pk=pk).html

    [made] = Comment.objects.bulk_create([Comment(article=article, author_name="B", author_email="b@example.org", body="in bulk", state="approved")])
    assert shown(made.pk) == "<p>in bulk</p>" and Comment.objects.get(pk=made.pk).body_html == "<p>in bulk</p>"
    Comment.objects.filter(pk=made.pk).update(body="by update")
    assert Comment.objects.get(pk=made.pk).body_html == shown(made.pk) == "<p>by update</p>"
    Comment.objects.filter(pk=made.pk).update(body=Concat(F("body"), Value(", and more")))  # an expression
    assert (Comment.objects.get(pk=made.pk).body_html, shown(made.pk)) == ("", "<p>by update, and more</p>")
    made.body = "by bulk update"
    Comment.objects.bulk_update([made], ["body"])
    assert Comment.objects.get(pk=made.pk).body_html == "<p>by bulk update</p>"
    made.state = "approved"
    made.save(update_fields=["state"])  # the text untouched: its HTML stays
    assert Comment.objects.get(pk=made.pk).body_html == "<p>by bulk update</p>"
    Comment.objects.create(article=article, parent=made, root=made, depth=1, author_name="R", author_email="r@example.org", body="reply", state="approved")
    erase("b@example.org")  # a tombstone, as others replied
    tomb = Comment.objects.get(pk=made.pk)
    assert (tomb.body, tomb.body_html, tomb.html) == ("", "", "")


def test_stored_html_is_made_again_for_comments_without_it(article, approved):
    from io import StringIO

    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    comments = [approved(body=f"older comment {i}\n\nsecond paragraph") for i in range(3)]
    current = approved(body="already stored")
    Comment.objects.filter(pk__in=[c.pk for c in comments]).update(body_html="", html_version="")
    out = StringIO()
    with CaptureQueriesContext(connection) as ctx:
        call_command("comments_html", "--batch", "2", stdout=out)  # a full batch, then a partial one
    assert "stored the HTML of 3 comment(s)" in out.getvalue()
    # The second batch starts after the first one's last comment, rather than stepping over
    # every comment stored so far (which, on a large table, grew with every batch).
    reads = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith('SELECT "comments_comment"."id"')]
    assert len(reads) == 2 and f'"comments_comment"."id" > {comments[1].pk}' in reads[1], reads
    assert set(Comment.objects.filter(pk__in=[c.pk for c in comments]).values_list("body_html", flat=True)) == {
        f"<p>older comment {i}</p><p>second paragraph</p>" for i in range(3)
    }
    assert Comment.objects.get(pk=current.pk).body_html == "<p>already stored</p>"
