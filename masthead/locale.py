"""The site's language and time zone, made active for each request.

masthead speaks one language in one time zone (settings LANGUAGE_CODE and TIME_ZONE), which
Django uses whenever none is active. But "none active" is found out the slow way: each read of
the active language or time zone asks a context-local that holds nothing, which raises and
catches an AttributeError whose message formats the local's repr. An uncached article page
reads them about fifty times (every date, every card, every URL it translates), so activating
the defaults once per request turns those misses into plain hits. What pages show is unchanged:
the values made active are exactly the defaults, and anything that activates another (the
admin's per-user language and time zone, `timezone.override`) still does, on top of them.
"""

from __future__ import annotations

from typing import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation


class DefaultLocaleMiddleware:
    """Activate LANGUAGE_CODE and TIME_ZONE for the request, and deactivate them after it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        translation.activate(settings.LANGUAGE_CODE)
        timezone.activate(timezone.get_default_timezone())
        try:
            return self.get_response(request)
        finally:
            translation.deactivate()
            timezone.deactivate()
