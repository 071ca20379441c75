"""Site-wide template context: the section navigation, as the seed page's first line."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject
from wagtail.models import Site

from masthead.caching import config
from masthead.caching import keys as surrogate


def _navigation(request: HttpRequest) -> list:
    """The menu's sections as links (pk, title, url, path): every page shows them, so they are
    read as one row each rather than as page models."""
    from .cards import NavLink, page_url
    from .queries import top_sections

    site = Site.find_for_request(request)
    if site is None:
        return []

    def links() -> tuple[NavLink, ...]:
        rows = top_sections(site.root_page).values_list("pk", "title", "url_path", "path")
        return tuple(NavLink(pk, title, page_url(url_path, request), path) for pk, title, url_path, path in rows)

    # The links are relative to the request's site, so they are remembered per site.
    nav = config.remembered(f"nav:{site.pk}", links)
    surrogate.add(surrogate.NAV)
    return nav


def navigation(request: HttpRequest) -> dict:
    # Lazy: admin pages and error pages that never render the header cost no query.
    return {
        "nav_sections": SimpleLazyObject(lambda: _navigation(request)),
        "site_name": settings.WAGTAIL_SITE_NAME,
    }
