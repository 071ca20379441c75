"""The moderation side in the Wagtail admin: queue, bulk and single actions, the thread view,
blocked terms, and the Moderators group, who may moderate comments and nothing else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from wagtail.models import GroupApprovalTask, GroupCollectionPermission, GroupPagePermission, Site

from masthead.comments import notifications
from masthead.comments.models import BlockedTerm, Comment, CommentPolicy, SpamToken
from masthead.comments.spam import DOCS

State = Comment.State
User = get_user_model()
QUEUE = "/admin/comments/"
BLOCKED_TERMS = "/admin/blocked-terms/"


def bulk_url(action: str, *ids, **params) -> str:
    query = "&".join([*(f"id={i}" for i in ids), *(f"{k}={v}" for k, v in params.items())])
    return reverse("wagtail_bulk_action", args=["comments", "comment", action]) + "?" + query


def moderation_url(comment: Comment) -> str:
    return reverse("comments_moderation:edit", args=[comment.pk])


def listed(response) -> list[int]:
    assert response.status_code == 200
    return [c.pk for c in response.context["object_list"]]


def assert_no_access(response, url: str) -> None:
    """Wagtail answers a forbidden admin page with 403 or a redirect elsewhere (dashboard, login)."""
    if response.status_code == 302:
        assert response["Location"].split("?")[0] != url
    else:
        assert response.status_code == 403


@pytest.fixture
def editor(db):
    return User.objects.create_superuser("editor", "editor@example.org", "pw")


@pytest.fixture
def moderator(db):
    user = User.objects.create_user("mod", "mod@example.org", "pw")
    user.groups.add(Group.objects.get(name="Moderators"))
    return user


@pytest.fixture
def reader_only(db):
    """May open the admin and read comments, but not moderate them."""
    user = User.objects.create_user("intern", "intern@example.org", "pw")
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["access_admin", "view_comment", "change_comment"],
            content_type__app_label__in=["wagtailadmin", "comments"],
        )
    )
    return user


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


# --- The queue -----------------------------------------------------------------------------------


def test_queue_lists_pending_comments_newest_first_by_default(login, editor, make_comment):
    now = timezone.now()
    old = make_comment("Old and waiting", created_at=now - timedelta(hours=5))
    new = make_comment("New and waiting", created_at=now - timedelta(minutes=5))
    make_comment("Already approved", state=State.APPROVED)
    make_comment("Obvious spam", state=State.SPAM)
    make_comment("Taken down", state=State.REMOVED)

    response = login(editor).get(QUEUE)
    assert listed(response) == [new.pk, old.pk]
    html = response.content.decode()
    assert "New and waiting" in html and "Already approved" not in html
    assert "Add comment" not in html  # comments come from readers


def test_queue_columns(login, editor, make_comment, article):
    make_comment("Buy cheap watches", name="Spam Sam", hold_reasons="blocked term: watches", spam_score=0.87)
    html = login(editor).get(QUEUE).content.decode()
    for text in ["Buy cheap watches", "Spam Sam", "blocked term: watches", "0.87", "Awaiting moderation"]:
        assert text in html
    assert f'href="{article.url}"' in html and article.title in html


@pytest.mark.parametrize("ordering", ["article__title", "-spam_score", "author_name", "state", "created_at"])
def test_queue_sorts_by_its_columns(login, editor, make_comment, make_section, make_article, ordering):
    other = make_article(make_section("Sport"), "A big headline")  # before "A story worth discussing"
    low = make_comment("Low", name="Zed", spam_score=0.1)
    high = make_comment("High", name="Abe", spam_score=0.9, on=other, state=State.APPROVED)
    pks = listed(login(editor).get(QUEUE, {"ordering": ordering, "state": "any"}))
    assert pks == ([high.pk, low.pk] if ordering != "created_at" else [low.pk, high.pk])


def test_queue_filters_by_state_article_date_and_held_reason(
    login, editor, make_comment, article, make_section, make_article
):
    other = make_article(make_section("Sport"), "Cup final report")
    now = timezone.now()
    spam = make_comment("Spam here", state=State.SPAM)
    approved = make_comment("Fine words", state=State.APPROVED)
    elsewhere = make_comment("On the final", on=other)
    long_ago = make_comment("From last month", created_at=now - timedelta(days=30))
    linky = make_comment("Links galore", hold_reasons="3 links; first comment")
    c = login(editor)

    assert listed(c.get(QUEUE, {"state": "spam"})) == [spam.pk]
    everything = {spam.pk, approved.pk, elsewhere.pk, long_ago.pk, linky.pk}
    assert set(listed(c.get(QUEUE, {"state": "any"}))) == everything
    assert listed(c.get(QUEUE, {"article": other.pk})) == [elsewhere.pk]
    assert set(listed(c.get(QUEUE, {"article": article.pk, "state": "any"}))) == everything - {elsewhere.pk}
    last_month = (now - timedelta(days=30)).date().isoformat()
    assert listed(c.get(QUEUE, {"created_at_from": last_month, "created_at_to": last_month})) == [long_ago.pk]
    yesterday = (now - timedelta(days=1)).date().isoformat()
    assert set(listed(c.get(QUEUE, {"created_at_from": yesterday}))) == {elsewhere.pk, linky.pk}
    assert listed(c.get(QUEUE, {"hold_reasons": "LINKS"})) == [linky.pk]


def test_queue_searches_body_author_name_and_email(login, editor, make_comment):
    by_body = make_comment("Mentions the harbour bridge")
    by_name = make_comment("Hello", name="Harbour Master")
    by_email = make_comment("Hi", author_email="someone@harbour.example")
    make_comment("Unrelated")
    c = login(editor)
    assert set(listed(c.get(QUEUE, {"q": "harbour"}))) == {by_body.pk, by_name.pk, by_email.pk}
    assert listed(c.get(QUEUE, {"q": "someone@harbour"})) == [by_email.pk]
    # The AJAX results view (used while typing) searches the same way.
    assert listed(c.get(QUEUE + "results/", {"q": "Master"})) == [by_name.pk]


def test_comments_cannot_be_added_or_deleted_in_the_admin(login, editor, make_comment):
    comment = make_comment()
    c = login(editor)
    assert_no_access(c.get(QUEUE + "add/"), QUEUE + "add/")
    assert_no_access(c.post(QUEUE + "add/", {"body": "x"}), QUEUE + "add/")
    delete = reverse("comments_moderation:delete", args=[comment.pk])
    assert_no_access(c.post(delete), delete)
    c.post(bulk_url("delete", comment.pk))
    assert Comment.objects.filter(pk=comment.pk).exists()


# --- Bulk actions --------------------------------------------------------------------------------


def test_bulk_approve_spam_and_remove_go_through_moderate(login, editor, make_comment):
    a, b, s, r = (make_comment(f"Comment number {i}") for i in range(4))
    c = login(editor)

    response = c.post(bulk_url("approve", a.pk, b.pk, next=QUEUE))
    assert response.status_code == 302 and response["Location"] == QUEUE
    a.refresh_from_db()
    assert a.state == State.APPROVED and a.moderated_by == editor and a.trained_as == "ham"
    assert Comment.objects.get(pk=b.pk).state == State.APPROVED
    assert SpamToken.objects.get(token=DOCS).ham == 2  # the filter learned two good comments

    c.post(bulk_url("spam", s.pk))
    assert Comment.objects.get(pk=s.pk).state == State.SPAM
    assert SpamToken.objects.get(token=DOCS).spam == 1

    c.post(bulk_url("remove", r.pk, a.pk))
    assert Comment.objects.get(pk=r.pk).state == State.REMOVED
    assert Comment.objects.get(pk=a.pk).state == State.REMOVED
    assert not Comment.objects.filter(state=State.PENDING).exists()


def test_bulk_confirmation_page_lists_the_comments(login, editor, make_comment):
    comment = make_comment("Please approve me")
    response = login(editor).get(bulk_url("approve", comment.pk))
    assert response.status_code == 200
    assert "Please approve me" in response.content.decode()
    assert Comment.objects.get(pk=comment.pk).state == State.PENDING  # nothing happens on GET


def test_bulk_buttons_are_the_moderation_actions_only(login, editor, make_comment):
    make_comment()
    html = login(editor).get(QUEUE).content.decode()
    for action in ("approve", "spam", "remove"):
        assert reverse("wagtail_bulk_action", args=["comments", "comment", action]) in html
    assert reverse("wagtail_bulk_action", args=["comments", "comment", "delete"]) not in html


def test_select_all_in_listing_keeps_the_listing_filters(
    login, editor, make_comment, make_section, make_article
):
    other = make_article(make_section("Sport"), "Cup final report")
    here = make_comment("Pending here")
    there = make_comment("Pending on the final", on=other)
    spam_there = make_comment("Spam on the final", on=other, state=State.SPAM)

    login(editor).post(bulk_url("approve", "all", article=other.pk))
    assert Comment.objects.get(pk=there.pk).state == State.APPROVED
    assert Comment.objects.get(pk=here.pk).state == State.PENDING  # another article
    assert Comment.objects.get(pk=spam_there.pk).state == State.SPAM  # not in the pending listing


def test_bulk_approving_a_reply_tells_the_author_it_answers(
    login, editor, make_comment, django_capture_on_commit_callbacks
):
    parent = make_comment("First", state=State.APPROVED, notify_replies=True, author_email="op@example.org")
    reply = make_comment("An answer", parent=parent, name="Ben", author_email="ben@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        login(editor).post(bulk_url("approve", reply.pk))
    assert [m.to for m in mail.outbox] == [["op@example.org"]]


# --- One comment in its thread -------------------------------------------------------------------


def test_moderation_page_shows_the_comment_in_its_thread(login, editor, make_comment, article):
    root = make_comment("The opening comment", state=State.APPROVED, name="Root Ruth")
    current = make_comment("I reply <b>loudly</b> https://example.org/x", parent=root, name="Middle Mo")
    child = make_comment("A reply to the reply", parent=current, state=State.SPAM, name="Child Chen")
    grandchild = make_comment("Deeper still", parent=child, state=State.APPROVED)
    sibling = make_comment("A different branch", parent=root, state=State.APPROVED)

    response = login(editor).get(moderation_url(current))
    assert response.status_code == 200
    thread = response.context["thread"]
    assert [(e.comment.pk, e.indent, e.current) for e in thread] == [
        (root.pk, 0, False),
        (current.pk, 1, True),
        (child.pk, 2, False),
        (grandchild.pk, 3, False),
    ]
    html = response.content.decode()
    assert "A different branch" not in html and sibling.pk not in [e.comment.pk for e in thread]
    assert f'href="{article.url}"' in html and article.title in html
    assert 'aria-current="true"' in html and "comment-thread__item--current" in html
    # Rendered by text.py: the commenter's markup is shown as text, links get rel="nofollow ugc".
    assert "&lt;b&gt;loudly&lt;/b&gt;" in html and "<b>loudly</b>" not in html
    assert 'rel="nofollow ugc noopener"' in html
    # Every state is shown, and the neighbours link to their own moderation pages.
    for label in ("Approved", "Awaiting moderation", "Spam"):
        assert label in html
    assert moderation_url(root) in html and moderation_url(child) in html


def test_moderation_page_has_no_form_for_the_text(login, editor, make_comment):
    comment = make_comment("Exactly as typed")
    c = login(editor)
    html = c.get(moderation_url(comment)).content.decode()
    assert 'name="body"' not in html
    c.post(moderation_url(comment), {"action": "approve", "body": "Rewritten by someone"})
    comment.refresh_from_db()
    assert comment.body == "Exactly as typed" and comment.state == State.APPROVED


def test_single_comment_actions(login, editor, make_comment):
    comment = make_comment("Judge me")
    url = moderation_url(comment)
    c = login(editor)

    def act(action):
        response = c.post(url, {"action": action})
        assert response.status_code == 302 and response["Location"] == url
        comment.refresh_from_db()

    act("pick")  # only approved comments can be picks
    assert not comment.is_pick
    act("approve")
    assert comment.state == State.APPROVED and comment.moderated_by == editor
    assert SpamToken.objects.get(token=DOCS).ham == 1
    act("pick")
    assert comment.is_pick
    assert "Unpin editor’s pick" in c.get(url).content.decode()
    act("unpick")
    assert not comment.is_pick
    act("spam")
    assert comment.state == State.SPAM and comment.trained_as == "spam"
    docs = SpamToken.objects.get(token=DOCS)
    assert (docs.spam, docs.ham) == (1, 0)  # changing one's mind unlearns the earlier lesson
    act("remove")
    assert comment.state == State.REMOVED


def test_moderation_page_can_return_to_the_queue(login, editor, make_comment):
    comment = make_comment()
    data = {"action": "approve", "next": QUEUE + "?state=pending"}
    response = login(editor).post(moderation_url(comment), data)
    assert response["Location"] == QUEUE + "?state=pending"


def test_a_comment_deleted_by_its_author_is_not_moderated(login, editor, make_comment):
    tombstone = make_comment("", name="[deleted]", state=State.REMOVED, deleted_by_author=True)
    c = login(editor)
    assert 'name="action"' not in c.get(moderation_url(tombstone)).content.decode()
    c.post(moderation_url(tombstone), {"action": "approve"})
    c.post(bulk_url("approve", tombstone.pk))
    assert Comment.objects.get(pk=tombstone.pk).state == State.REMOVED


def test_held_comment_emails_link_to_the_moderation_page(make_comment, moderator):
    comment = make_comment("Held for a look")
    notifications.tell_moderators(comment)
    assert [m.to for m in mail.outbox] == [["mod@example.org"]]
    assert f"/admin/comments/edit/{comment.pk}/" in mail.outbox[0].body


# --- Blocked terms -------------------------------------------------------------------------------


def test_blocked_terms_are_managed_in_the_admin(login, moderator):
    c = login(moderator)
    data = {"kind": "word", "value": "  Miracle Pill ", "note": "pharma spam"}
    response = c.post(BLOCKED_TERMS + "add/", data)
    assert response.status_code == 302
    term = BlockedTerm.objects.get()
    assert term.value == "miracle pill"
    listing = c.get(BLOCKED_TERMS)
    assert listing.status_code == 200 and "miracle pill" in listing.content.decode()
    edit = reverse("comments_blocked_terms:edit", args=[term.pk])
    c.post(edit, {"kind": "domain", "value": "pills.example", "note": ""})
    assert BlockedTerm.objects.get().value == "pills.example"
    c.post(reverse("comments_blocked_terms:delete", args=[term.pk]))
    assert not BlockedTerm.objects.exists()


def test_a_blocked_term_is_only_listed_once_whatever_its_case(login, moderator):
    BlockedTerm.objects.create(kind="domain", value="spam.example")
    response = login(moderator).post(BLOCKED_TERMS + "add/", {"kind": "domain", "value": " Spam.EXAMPLE ", "note": ""})
    assert response.status_code == 200  # the form again, with the error
    assert "already exists" in response.content.decode()
    assert BlockedTerm.objects.count() == 1


# --- Who may do what -----------------------------------------------------------------------------


def test_moderators_group_has_comment_permissions_only(db):
    group = Group.objects.get(name="Moderators")
    assert set(group.permissions.values_list("content_type__app_label", "codename")) == {
        ("wagtailadmin", "access_admin"),
        ("comments", "view_comment"),
        ("comments", "change_comment"),
        ("comments", "moderate_comment"),
        ("comments", "add_blockedterm"),
        ("comments", "change_blockedterm"),
        ("comments", "delete_blockedterm"),
        ("comments", "view_blockedterm"),
    }
    # Wagtail's initial data gave this group pages, images, documents and page workflow reviews.
    assert not GroupPagePermission.objects.filter(group=group).exists()
    assert not GroupCollectionPermission.objects.filter(group=group).exists()
    assert not GroupApprovalTask.objects.filter(groups=group).exists()


def test_moderator_can_moderate_comments(login, moderator, make_comment):
    comment = make_comment("Waiting for a moderator")
    c = login(moderator)
    assert listed(c.get(QUEUE)) == [comment.pk]
    assert c.get(moderation_url(comment)).status_code == 200
    c.post(bulk_url("approve", comment.pk))
    comment.refresh_from_db()
    assert comment.state == State.APPROVED and comment.moderated_by == moderator
    c.post(moderation_url(comment), {"action": "pick"})
    assert Comment.objects.get(pk=comment.pk).is_pick
    assert c.get(BLOCKED_TERMS).status_code == 200
    menu = c.get("/admin/").content.decode()
    assert QUEUE in menu and BLOCKED_TERMS in menu


def test_moderator_has_no_access_to_pages_images_users_or_settings(login, moderator, article):
    c = login(moderator)
    site = Site.objects.get(is_default_site=True)
    for url in [
        reverse("wagtailadmin_pages:edit", args=[article.pk]),
        reverse("wagtailadmin_explore", args=[article.get_parent().pk]),
        "/admin/images/",
        "/admin/documents/",
        "/admin/users/",
        reverse("wagtailsettings:edit", args=["comments", "commentpolicy", site.pk]),
    ]:
        assert_no_access(c.get(url), url)


def test_moderation_actions_need_the_moderate_permission(login, reader_only, make_comment):
    comment = make_comment("Not yours to judge")
    c = login(reader_only)
    page = c.get(QUEUE)
    assert listed(page) == [comment.pk]  # reading is allowed…
    assert "data-bulk-action-checkbox" not in page.content.decode()
    detail = c.get(moderation_url(comment))
    assert detail.status_code == 200 and 'name="action"' not in detail.content.decode()
    for action in ("approve", "spam", "remove"):  # …changing is not
        assert c.post(bulk_url(action, comment.pk)).status_code == 403
        assert c.get(bulk_url(action, comment.pk)).status_code == 403
    for action in ("approve", "spam", "remove", "pick", "unpick"):
        assert c.post(moderation_url(comment), {"action": action}).status_code == 403
    comment.refresh_from_db()
    assert comment.state == State.PENDING and not comment.is_pick and comment.moderated_at is None


def test_anonymous_visitors_are_sent_to_log_in(client, make_comment):
    comment = make_comment()
    for url in (QUEUE, moderation_url(comment), bulk_url("approve", comment.pk)):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert client.post(bulk_url("approve", comment.pk)).status_code == 302
    assert Comment.objects.get(pk=comment.pk).state == State.PENDING


def test_editors_set_the_comment_policy_and_close_one_article(login, editor, article):
    c = login(editor)
    site = Site.objects.get(is_default_site=True)
    url = reverse("wagtailsettings:edit", args=["comments", "commentpolicy", site.pk])
    assert c.get(url).status_code == 200
    data = {
        "comments_enabled": "on",
        "hold_first_comment": "on",
        "close_after_days": "14",
        "max_length": "5000",
        "link_hold_threshold": "2",
        "min_seconds": "3",
        "rate_limit_count": "5",
        "rate_limit_minutes": "10",
        "spam_threshold": "0.9",
        "moderator_emails": "",
    }
    assert c.post(url, data).status_code == 302
    assert CommentPolicy.for_site(site).close_after_days == 14
    # Per article, comments_open is in the page editor (Settings tab).
    edit = c.get(reverse("wagtailadmin_pages:edit", args=[article.pk])).content.decode()
    assert 'name="comments_open"' in edit


def test_the_group_editor_offers_the_comment_permissions(login, editor):
    group = Group.objects.get(name="Moderators")
    html = login(editor).get(reverse("wagtailusers_groups:edit", args=[group.pk])).content.decode()
    for codename in ("moderate_comment", "view_comment", "view_blockedterm"):
        permission = Permission.objects.get(codename=codename, content_type__app_label="comments")
        assert f'value="{permission.pk}"' in html


def test_wagtail_page_moderators_keep_their_rights_as_page_reviewers(db):
    from django.contrib.auth.models import Group
    from wagtail.models import GroupApprovalTask, GroupPagePermission

    reviewers = Group.objects.get(name="Page reviewers")
    assert GroupPagePermission.objects.filter(group=reviewers, permission__codename="publish_page").exists()
    assert GroupApprovalTask.objects.filter(groups=reviewers).exists()
    moderators = Group.objects.get(name="Moderators")
    assert not GroupPagePermission.objects.filter(group=moderators).exists()
    assert not GroupApprovalTask.objects.filter(groups=moderators).exists()
