"""Site-wide template context: the section navigation, as the seed page's first line."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject
from wagtail.models import Site


def _navigation(request: HttpRequest) -> list:
    from .queries import top_sections

    site = Site.find_for_request(request)
    if site is None:
        return []
    return list(top_sections(site.root_page))


def navigation(request: HttpRequest) -> dict:
    # Lazy: admin pages and error pages that never render the header cost no query.
    return {
        "nav_sections": SimpleLazyObject(lambda: _navigation(request)),
        "site_name": settings.WAGTAIL_SITE_NAME,
    }
