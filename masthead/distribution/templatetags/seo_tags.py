"""The <head> of every page: canonical URL, OpenGraph and Twitter cards, and JSON-LD.

base.html does:

    {% page_meta as seo %}
    <meta name="description" content="{% block description %}{{ seo.description }}{% endblock %}">
    {% seo_meta seo %}

`page_meta` works out the page type from the context (a Wagtail page, an author, a tag, search
results, or anything else) and builds the data in masthead.distribution.structured_data;
`seo_meta` renders it with distribution/meta.html.
"""

from __future__ import annotations

from django import template

from ..structured_data import PageMeta, meta_for

register = template.Library()


@register.simple_tag(takes_context=True)
def page_meta(context) -> PageMeta:
    return meta_for(context)


@register.inclusion_tag("distribution/meta.html", takes_context=True)
def seo_meta(context, seo: PageMeta | None = None) -> dict:
    return {"seo": seo if seo is not None else meta_for(context), "site_name": context.get("site_name", "")}
