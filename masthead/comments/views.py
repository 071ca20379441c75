"""Posting and managing one's own comments, with and without JavaScript.

Article pages may be served from a cache, so they carry no per-reader token. A reader's form
gets its ticket (and CSRF cookie) from `ticket` when they start writing; without JavaScript,
the first POST shows a "check and post" step that carries a fresh ticket. Nothing is stored
until a POST arrives with a valid CSRF token and a ticket older than a person's writing time,
and nothing the reader typed is ever thrown away: every refusal shows the text again.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from masthead.news.models import ArticlePage

from . import posting, tickets
from .forms import HONEYPOT, CommentForm
from .identity import DELETE_SALT, POSTED_SALT, UNSUBSCRIBE_SALT, client_ip, email_hash, sign, unsign
from .models import Comment, CommentPolicy, EmailOptOut


def _policy(request: HttpRequest) -> CommentPolicy:
    return CommentPolicy.for_request(request)


GONE = "This article is no longer open to comments."


def _article(request: HttpRequest, article_id: int) -> ArticlePage:
    """The live article, if this reader may see it: a page behind a password or a login takes
    comments from those who passed its restriction, as it shows them the form."""
    # The URL accepts any run of digits; one beyond a 64-bit id is no article (SQLite would raise
    # OverflowError on it, a 500).
    if article_id >= 2**63:
        raise Http404(GONE)
    article = ArticlePage.objects.live().filter(pk=article_id).first()
    if article is None or not all(r.accept_request(request) for r in article.get_view_restrictions()):
        raise Http404(GONE)
    return article


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _no_store(response: HttpResponse) -> HttpResponse:
    add_never_cache_headers(response)
    return response


def _csrf_ok(request: HttpRequest) -> bool:
    return CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {}) is None


@require_GET
def ticket(request: HttpRequest, article_id: int) -> HttpResponse:
    """A fresh ticket and CSRF token for a form that is being filled in (fetched by script)."""
    try:
        _article(request, article_id)
    except Http404:  # unpublished while the reader writes: say so, their text stays in the form
        return _no_store(JsonResponse({"status": "refused", "message": GONE}, status=404))
    return _no_store(JsonResponse({"ticket": tickets.issue(article_id), "csrf_token": get_token(request)}))


def _confirm(request, article, form, message: str = "", status: int = 200) -> HttpResponse:
    """The "check and post" step: the reader's text with a fresh ticket and CSRF token."""
    data = form.data.copy()
    data["ticket"] = tickets.issue(article.pk)
    fresh = CommentForm(data, policy=form.policy)
    if form.is_bound and form.errors:
        fresh._errors = form.errors
    context = {"article": article, "form": fresh, "message": message, "parent": _parent(article, form)}
    return _no_store(render(request, "comments/confirm.html", context, status=status))


def _parent(article, form) -> Comment | None:
    # Parsed as the form's own field does: str.isdigit() also accepts "²" and numbers longer than
    # int() takes, which made this page (shown for invalid forms) a 500.
    try:
        parent_id = form.fields["parent"].clean(form.data.get("parent"))
    except ValidationError:
        return None
    if parent_id:
        return Comment.objects.approved().filter(pk=parent_id, article=article).first()
    return None


def _posted_url(comment: Comment) -> str:
    return reverse("comments:posted", args=[sign(str(comment.pk), POSTED_SALT)])


@csrf_exempt  # checked below, so that a failed check shows the text again instead of a 403
@require_POST
def post_comment(request: HttpRequest, article_id: int) -> HttpResponse:
    as_json = _wants_json(request)
    try:
        article = _article(request, article_id)
    except Http404:  # unpublished (or never there) while the reader wrote: give the text back
        if as_json:
            return _no_store(JsonResponse({"status": "refused", "message": GONE}, status=404))
        context = {"article": None, "message": GONE, "body": request.POST.get("body", "")}
        return _no_store(render(request, "comments/refused.html", context, status=404))
    policy = _policy(request)
    form = CommentForm(request.POST, policy=policy)
    ticket = tickets.read(request.POST.get("ticket", ""), article.pk)

    if not form.is_valid():
        if as_json:
            return _no_store(JsonResponse({"status": "invalid", "errors": form.errors}, status=400))
        return _confirm(request, article, form, "Please correct the marked fields.", status=400)
    if not _csrf_ok(request) or ticket is None:
        if as_json:
            message = "Your session expired. Please post again."
            return _no_store(JsonResponse({"status": "retry", "message": message}, status=400))
        return _confirm(request, article, form, "Check your comment, then post it.")
    if ticket.age < policy.min_seconds and not form.cleaned_data[HONEYPOT]:
        if as_json:
            message = "That was quick! Please check your comment and post it again."
            return _no_store(JsonResponse({"status": "retry", "message": message}, status=400))
        return _confirm(request, article, form, "That was quick! Please check your comment and post it again.")

    data = form.cleaned_data
    submission = posting.Submission(
        article=article,
        ticket=ticket,
        name=data["name"],
        email=data["email"],
        body=data["body"],
        ip=client_ip(request),
        parent_id=data.get("parent"),
        notify=data["notify"],
        honeypot=data[HONEYPOT],
    )
    try:
        comment, _ = posting.post(submission, policy)
    except posting.Refused as refusal:
        if as_json:
            return _no_store(JsonResponse({"status": "refused", "message": refusal.message}, status=refusal.status))
        context = {"article": article, "message": refusal.message, "body": data["body"]}
        return _no_store(render(request, "comments/refused.html", context, status=refusal.status))
    # Only now, after the transaction committed, is the reader told their comment is in.
    if as_json:
        return _no_store(JsonResponse(_status_payload(comment), status=201))
    return redirect(_posted_url(comment))


def _status_payload(comment: Comment) -> dict:
    messages = {
        Comment.State.APPROVED: "Your comment is published.",
        Comment.State.PENDING: "Thank you. Your comment is awaiting moderation.",
        Comment.State.SPAM: "Thank you. Your comment is awaiting moderation.",
        Comment.State.REMOVED: "This comment has been removed.",
    }
    return {
        "status": "published" if comment.state == Comment.State.APPROVED else "held",
        "message": messages[comment.state],
        "comment_id": comment.pk,
        "posted_url": _posted_url(comment),
        "delete_url": reverse("comments:delete", args=[sign(str(comment.pk), DELETE_SALT)]),
    }


@require_GET
def posted(request: HttpRequest, token: str) -> HttpResponse:
    pk = unsign(token, POSTED_SALT)
    comment = get_object_or_404(Comment.objects.select_related("article"), pk=pk) if pk else None
    if comment is None:
        raise Http404("No such comment")
    context = {"comment": comment, **_status_payload(comment)}
    return _no_store(render(request, "comments/posted.html", context))


@require_GET
def reply(request: HttpRequest, comment_id: int) -> HttpResponse:
    """The reply form for one comment, for readers without JavaScript."""
    parent = get_object_or_404(Comment.objects.approved().select_related("article"), pk=comment_id)
    article = _article(request, parent.article_id)
    form = CommentForm(initial={"parent": parent.pk, "ticket": tickets.issue(article.pk)}, policy=_policy(request))
    get_token(request)
    context = {"article": article, "form": form, "parent": parent, "message": ""}
    return _no_store(render(request, "comments/confirm.html", context))


@require_http_methods(["GET", "POST"])
def delete(request: HttpRequest, token: str) -> HttpResponse:
    """A commenter deletes their own comment through the signed link they were given."""
    pk = unsign(token, DELETE_SALT)
    comment = Comment.objects.select_related("article").filter(pk=pk).first() if pk else None
    if comment is None:
        raise Http404("No such comment")
    if request.method == "POST":
        from .moderation import delete_by_author

        delete_by_author(comment)
        return _no_store(render(request, "comments/deleted.html", {"article": comment.article}))
    return _no_store(render(request, "comments/delete_confirm.html", {"comment": comment}))


@csrf_exempt  # one-click unsubscribe (RFC 8058) is a POST from the mail client, without a token
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    email = unsign(token, UNSUBSCRIBE_SALT)
    if email is None:
        raise Http404("This unsubscribe link is not valid")
    if request.method == "POST":
        EmailOptOut.objects.get_or_create(email_hash=email_hash(email))
        Comment.objects.filter(author_email=email, notify_replies=True).update(notify_replies=False)
        return _no_store(render(request, "comments/unsubscribed.html", {}))
    return _no_store(render(request, "comments/unsubscribe.html", {"token": token}))
