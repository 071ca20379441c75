"""Finding the page for a URL in one query when the URL is an article's or a section's.

Wagtail routes `/world/some-story/` one tree level at a time: a query for each slug, then one
more for each page's specific fields, so an article two sections deep costs six queries before
its view starts. Articles are nearly every public request, and section fronts most of the rest;
their URL is exactly their `url_path` under the site root, so the home front looks them up
directly: one indexed query on the slug that also loads the page's own fields (and an article's
lead image). An article lives in a section, so a one-slug URL is only ever tried as a section.
Anything that is neither a live article nor a live section there (other page types, drafts,
unknown URLs) falls through to Wagtail's own routing, unchanged, so 404s and every other page
behave as before.
"""

from __future__ import annotations

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.http import HttpRequest
from wagtail.url_routing import RouteResult

from masthead.caching.prepared import Prepared


def _live_named(model_name: str, *related: str) -> Prepared:
    """A prepared query for the live pages of this type (or a subclass) with a slug at a depth.
    `_find` keeps only a page of exactly this type: a page of a subclass must be served as that
    class, which Wagtail's own routing does."""

    def build(slug: str, depth: int):
        model = apps.get_model("news", model_name)
        # The slug is indexed (url_path is not), and the type is checked on the rows found, not
        # asked in SQL: given both, SQLite without statistics chose the content type's index and
        # read every article to find one (0.30 ms at a thousand articles, and growing with them;
        # about 0.1 ms by the slug).
        return model.objects.filter(slug=slug, depth=depth, live=True).select_related(*related)

    return Prepared(f"routing:live-{model_name.lower()}-named", build)


_live_articles_named = _live_named("ArticlePage", "lead_image")
_live_sections_named = _live_named("SectionPage")


def _find(named: Prepared, root, path_components: list[str]):
    """The live page `named` finds whose URL under `root` is `path_components`, or None."""
    if not path_components or not all(path_components):
        return None
    url_path = root.url_path + "/".join(path_components) + "/"
    for page in named(path_components[-1], root.depth + len(path_components)):
        if page.url_path == url_path and page.content_type_id == _content_type_id(type(page)):
            return page
    return None


def _content_type_id(model) -> int:
    return ContentType.objects.get_for_model(model).pk


def find_article(root, path_components: list[str]):
    """The live article whose URL under `root` is `path_components`, or None."""
    return _find(_live_articles_named, root, path_components) if len(path_components) > 1 else None


def find_section(root, path_components: list[str]):
    """The live section whose URL under `root` is `path_components`, or None."""
    return _find(_live_sections_named, root, path_components)


class ArticleRoutingMixin:
    """For the page at the site root: serve an article's or a section's URL with one query."""

    def route(self, request: HttpRequest, path_components: list[str]) -> RouteResult:
        page = find_article(self, path_components) or find_section(self, path_components)
        if page is not None:
            return RouteResult(page)
        return super().route(request, path_components)
