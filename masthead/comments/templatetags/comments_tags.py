from __future__ import annotations

from django import template

from ..forms import CommentForm
from ..models import CommentPolicy
from ..posting import closed_reason
from ..queries import thread_page

register = template.Library()


@register.inclusion_tag("comments/section.html", takes_context=True)
def comments_section(context, article) -> dict:
    request = context["request"]
    policy = CommentPolicy.for_request(request)
    return {
        "request": request,
        "article": article,
        "closed": closed_reason(article, policy),
        "form": CommentForm(policy=policy),
        **thread_page(article, request.GET.get("comments")),
    }
