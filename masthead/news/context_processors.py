"""Site-wide template context: the section navigation, as the seed page's first line."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject
from wagtail.models import Site


def _navigation(request: HttpRequest) -> tuple:
    """The menu's sections as links (news.cards.NavLink): every page shows them, so they are
    read as one row each rather than as page models, once per generation (queries.menu)."""
    from .queries import menu

    site = Site.find_for_request(request)
    return menu(site.root_page, request) if site is not None else ()


def navigation(request: HttpRequest) -> dict:
    # Lazy: admin pages and error pages that never render the header cost no query.
    return {
        "nav_sections": SimpleLazyObject(lambda: _navigation(request)),
        "site_name": settings.WAGTAIL_SITE_NAME,
    }
