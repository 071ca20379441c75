"""The site's language and time zone are active during a request (masthead/locale.py)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone, translation
from django.utils.translation import trans_real

from masthead.locale import DefaultLocaleMiddleware


def _active() -> tuple[bool, bool]:
    """Whether a language and a time zone are active (set in their context-locals), rather than
    found missing and defaulted."""
    return hasattr(trans_real._active, "value"), hasattr(timezone._active, "value")


def test_the_defaults_are_active_during_a_request_and_only_then():
    seen = {}

    def view(request):
        seen["active"] = _active()
        seen["language"] = translation.get_language()
        seen["zone"] = timezone.get_current_timezone_name()
        return HttpResponse("ok")

    assert _active() == (False, False)
    DefaultLocaleMiddleware(view)(RequestFactory().get("/"))
    assert seen == {"active": (True, True), "language": settings.LANGUAGE_CODE, "zone": settings.TIME_ZONE}
    assert _active() == (False, False)


def test_the_defaults_are_deactivated_when_the_view_fails():
    def view(request):
        raise RuntimeError("the view failed")

    with pytest.raises(RuntimeError):
        DefaultLocaleMiddleware(view)(RequestFactory().get("/"))
    assert _active() == (False, False)


def test_a_view_may_still_override_them():
    def view(request):
        with timezone.override("Europe/Paris"), translation.override("fr"):
            return HttpResponse(f"{translation.get_language()} {timezone.get_current_timezone_name()}")

    response = DefaultLocaleMiddleware(view)(RequestFactory().get("/"))
    assert response.content == b"fr Europe/Paris"


def test_every_request_goes_through_it():
    assert "masthead.locale.DefaultLocaleMiddleware" in settings.MIDDLEWARE
