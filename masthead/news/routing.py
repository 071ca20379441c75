"""Finding the page for a URL in one query when the URL is an article's.

Wagtail routes `/world/some-story/` one tree level at a time: a query for each slug, then one
more for each page's specific fields, so an article two sections deep costs six queries before
its view starts. Articles are nearly every public request, and their URL is exactly their
`url_path` under the site root, so the home front looks the article up directly: one indexed
query on the slug that also loads the article's own fields and its lead image. Anything that is
not a live article there (sections, other page types, drafts, unknown URLs) falls through to
Wagtail's own routing, unchanged, so 404s and every other page behave as before.
"""

from __future__ import annotations

from django.apps import apps
from django.http import HttpRequest
from wagtail.url_routing import RouteResult

from masthead.caching.prepared import Prepared


def _candidates(slug: str, depth: int):
    return (
        apps.get_model("news", "ArticlePage")
        .objects.filter(slug=slug, depth=depth, live=True)  # the slug is indexed; url_path is not
        .select_related("lead_image")
    )


_live_articles_named = Prepared("routing:live-articles-named", _candidates)


def find_article(root, path_components: list[str]):
    """The live article whose URL under `root` is `path_components`, or None."""
    if not path_components or not all(path_components):
        return None
    url_path = root.url_path + "/".join(path_components) + "/"
    for article in _live_articles_named(path_components[-1], root.depth + len(path_components)):
        if article.url_path == url_path:
            return article
    return None


class ArticleRoutingMixin:
    """For the page at the site root: serve an article URL with a single query."""

    def route(self, request: HttpRequest, path_components: list[str]) -> RouteResult:
        article = find_article(self, path_components)
        if article is not None:
            return RouteResult(article)
        return super().route(request, path_components)
