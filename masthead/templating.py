"""The Jinja2 environment of the public pages (the admin keeps Django's templates, as Wagtail's).

Why Jinja2 for what readers see: Jinja2 compiles a template to Python once, where Django's
engine walks a tree of nodes and resolves every `{{ a.b }}` through a chain of lookups on each
render. On the uncached seed article that walk was about a seventh of the request's time
(BENCHMARKS.md, "A sixth machine"). Wagtail supports Jinja2 for page templates
(`pageurl`, `include_block`, `image` come from its extensions, listed in settings).

The functions the templates call are the apps' own (each app's `template_functions.py`); this
module only names them. Autoescaping is on, as in Django's engine: a value is escaped unless it
is marked safe (Django's SafeString and Jinja2's Markup both say so through `__html__`).
"""

from __future__ import annotations

from typing import Any

from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import date, linebreaksbr, pluralize
from django.utils.html import json_script
from django.utils.timezone import template_localtime
from jinja2 import ChainableUndefined, Environment, pass_context
from jinja2.runtime import Context
from wagtail.models import Page
from wagtail.templatetags.wagtailcore_tags import fullpageurl as wagtail_fullpageurl

from masthead.comments import template_functions as comments
from masthead.links import static, url
from masthead.distribution import template_functions as distribution
from masthead.news import template_functions as news
from masthead.news.cards import full_page_url
from masthead.sourcing import template_functions as sourcing


def local_date(value: Any, format: str | None = None) -> str:
    """`value|date("j F Y")`: Django's date filter, on the time in the active time zone, as
    Django's engine converts it before its filter sees it (the filter's `expects_localtime`)."""
    return date(template_localtime(value), format)


@pass_context
def fullpageurl(context: Context, page: Any, fallback: str | None = None) -> str | None:
    """`{{ fullpageurl(page) }}`: Wagtail's function of that name, the URL remembered by the
    page's path as `pageurl`'s are (masthead.news.cards.full_page_url)."""
    if page is None or not isinstance(page, Page):
        return wagtail_fullpageurl(context, page, fallback)
    return full_page_url(page.url_path, context.get("request"))


@pass_context
def querystring(context: Context, **changes: Any) -> str:
    """`{{ querystring(page=2) }}`: the request's query string with `changes` made, as Django's
    `{% querystring %}` tag gives it (a None value removes the key)."""
    query = context["request"].GET
    params = query.copy()
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    if not params and not query:
        return ""
    return f"?{params.urlencode()}"


def environment(**options: Any) -> Environment:
    """The environment Django's Jinja2 backend builds from TEMPLATES' options (settings/base.py)."""
    # A missing variable, or an attribute of one, renders as nothing, as in Django's engine
    # (a 404 page has no `page`); Django's backend would print it in DEBUG otherwise.
    options["undefined"] = ChainableUndefined
    options.setdefault("keep_trailing_newline", True)  # a template's last newline, as Django keeps it
    env = Environment(**options)
    env.globals.update(
        static=static,
        url=url,
        fullpageurl=fullpageurl,
        querystring=querystring,
        article_card=news.article_card,
        share_links=news.share_links,
        srcset_image=news.srcset_image,
        page_meta=pass_context(distribution.page_meta),
        seo_meta=pass_context(distribution.seo_meta),
        feed_links=pass_context(distribution.feed_links),
        who_is_quoted=pass_context(sourcing.who_is_quoted),
        comments_section=pass_context(comments.comments_section),
        comment_thread=comments.comment_thread,
        comment_form_fields=comments.comment_form_fields,
    )
    env.filters.update(
        date=local_date,
        pluralize=pluralize,
        intcomma=intcomma,
        linebreaksbr=linebreaksbr,
        json_script=json_script,
        within=news.within,
        tag_url=news.tag_url,
    )
    return env
