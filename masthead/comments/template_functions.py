"""What article pages call from comments (named in masthead/templating.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from jinja2.runtime import Context
from markupsafe import Markup
from wagtail.models import Site

from masthead.caching import config
from masthead.memo import Memo

from .forms import CommentForm
from .markup import thread_html
from .models import CommentPolicy
from .posting import closed_reason
from .queries import thread_page


@dataclass(frozen=True)
class BlankForm:
    """The blank comment form of a policy, as an article page shows it. The form itself is
    built only when its fields' markup is not yet remembered (comment_form_fields): building a
    Django form deep-copies its fields, about 2 % of an uncached article page, on every one."""

    policy: CommentPolicy


def comments_section(context: Context, article: Any) -> Markup:
    """`{{ comments_section(page) }}`: the article's comments and the form to join them
    (comments/section.html, which sees only what is given here)."""
    request = context["request"]
    site = Site.find_for_request(request)
    policy = config.site_setting(CommentPolicy, site) if site else CommentPolicy.for_request(request)
    section = context.environment.get_template("comments/section.html")
    return Markup(
        section.render(
            request=request,
            article=article,
            closed=closed_reason(article, policy),
            form=BlankForm(policy),
            **thread_page(article, request.GET.get("comments")),
        )
    )


def comment_thread(threads: list, closed) -> SafeString:
    """The comments of a page of threads, replies nested (masthead/comments/markup.py)."""
    return thread_html(threads, bool(closed))


# The fields of a blank form, rendered, by what they depend on (see comment_form_fields).
_blank_fields: Memo[SafeString] = Memo(limit=32)  # policies change rarely


def comment_form_fields(form: CommentForm | BlankForm) -> SafeString:
    """The form's fields, labels, help and errors (comments/form_fields.html).

    Every article page shows the same blank form, whose markup depends only on the form's
    definition and the two policy limits it states; Django renders each widget through a
    template of its own, about a tenth of an uncached article page. So the blank form's fields
    are rendered once per process and policy; a form with data, errors or a reply's initial
    values is rendered afresh every time.
    """
    if not isinstance(form, BlankForm):
        if form.is_bound or form.initial:
            return _fields_html(form)
        form = BlankForm(form.policy)  # no values: it renders as the policy's blank form
    key = (form.policy.max_length, form.policy.link_hold_threshold)
    return _blank_fields.get(key, lambda: _fields_html(CommentForm(policy=form.policy)))


def _fields_html(form: CommentForm) -> SafeString:
    return mark_safe(render_to_string("comments/form_fields.html", {"form": form}))
