from __future__ import annotations

from django import template

from ..share import share_links as build_share_links

register = template.Library()


@register.filter
def within(page, section) -> bool:
    """True when `page` is `section` or lies below it in the tree (for aria-current)."""
    path = getattr(page, "path", None)
    return bool(path and section is not None and path.startswith(section.path))


@register.simple_tag(takes_context=True)
def share_links(context, page) -> list:
    return build_share_links(page.title, page.get_full_url(context.get("request")))
