"""Which Wagtail site a request is for, from what this process remembers.

Wagtail's `Site.find_for_request` matches the host against every site in one query ordered by
how well each matches (about 2 ms), once per request. The answer for a host and port only
changes when a site is edited, so it is remembered per generation of the site's structure
(masthead.caching.config), read only when something asks for the site, as before. Each request
gets its own `Site` and root page (already the specific page, the home front, which routing
asks for next) built from the remembered rows, so what one request caches on them is never
seen by another.

Wagtail has no setting for this, so `install()` wraps its `Site._find_for_request`, the
function `find_for_request` calls when the request has no site yet; tests/news/test_sites.py
fails if a Wagtail upgrade stops calling it.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.http.request import split_domain_port
from wagtail.models import Site

from masthead.caching import config

SITE_FIELDS = [field.attname for field in Site._meta.concrete_fields]


def install() -> None:
    if getattr(Site._find_for_request, "masthead_remembers", False):
        return
    wagtails = Site._find_for_request

    def find_for_request(request: HttpRequest) -> Site | None:
        hostname = split_domain_port(request._get_raw_host())[0]  # as Wagtail: no ALLOWED_HOSTS check here
        port = request.get_port()

        def rows() -> tuple | None:
            # Wagtail reads the site with its root page (select_related): both are kept. When
            # they will be remembered, so is the root's specific page (the home front), which
            # routing asks for next: a query per generation rather than per page.
            site = wagtails(request)
            if site is None:
                return None
            root = site.root_page.specific if config.remembering() else site.root_page
            fields = tuple(field.attname for field in type(root)._meta.concrete_fields)
            return (
                tuple(getattr(site, name) for name in SITE_FIELDS),
                type(root),
                fields,
                tuple(getattr(root, name) for name in fields),
            )

        found = config.remembered(f"site:{hostname}:{port}", rows)
        if found is None:
            return None
        site_values, root_model, root_fields, root_values = found
        site = Site.from_db(None, SITE_FIELDS, site_values)
        site.root_page = root_model.from_db(None, root_fields, root_values)
        return site

    find_for_request.masthead_remembers = True
    Site._find_for_request = staticmethod(find_for_request)
