"""The <head> of every page: canonical URL, OpenGraph and Twitter cards, and JSON-LD.

base.html does:

    {% page_meta as seo %}
    <meta name="description" content="{% block description %}{{ seo.description }}{% endblock %}">
    {% seo_meta seo %}

`page_meta` works out the page type from the context (a Wagtail page, an author, a tag, search
results, or anything else) and builds the data in masthead.distribution.structured_data;
`seo_meta` writes it out (masthead.distribution.head_markup).
"""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from ..head_markup import meta_html
from ..structured_data import PageMeta, meta_for

register = template.Library()


@register.simple_tag(takes_context=True)
def page_meta(context) -> PageMeta:
    return meta_for(context)


@register.simple_tag(takes_context=True)
def seo_meta(context, seo: PageMeta | None = None) -> SafeString:
    return meta_html(seo if seo is not None else meta_for(context), context.get("site_name", ""))
