"""URLs the pages ask for again and again, remembered: reverse() by name and static() by path.

The same few URLs are asked on every page (the search form, the comment form, the stylesheet,
the scripts, the publisher's fallback logo), each a walk through the URL resolver or the static
files manifest, with proxy reads of the settings and the storage at every step. What they give
depends only on the name and its values, where the site is mounted and the active URLconf (all
in the key) and the settings, so it is kept per process and forgotten on any setting_changed
(tests, mostly).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.templatetags.static import static as django_static
from django.urls import get_script_prefix, get_urlconf, reverse

from masthead.memo import Memo

_urls: Memo[str] = Memo(limit=4096)


def mounted() -> tuple[str, str]:
    """Where the site is mounted (the script prefix) and the active URLconf: what a remembered
    URL depends on besides its own name and values. Each is a read of one of asgiref's
    context-locals (a lock, and an AttributeError raised and caught inside), so a caller that
    makes many URLs at once reads them once."""
    return get_script_prefix(), get_urlconf(settings.ROOT_URLCONF)


def url(name: str, *args: Any, **kwargs: Any) -> str:
    """`{{ url('comments:post', article.pk) }}`: Django's reverse()."""
    key = (name, args, tuple(sorted(kwargs.items())), get_script_prefix(), get_urlconf())
    return _urls.get(key, lambda: reverse(name, args=args or None, kwargs=kwargs or None))


def static(path: str) -> str:
    """`{{ static('masthead/css/site.css') }}`: Django's static(), the hashed name once looked up."""
    return _urls.get(("static", path), lambda: django_static(path))


@receiver(setting_changed)
def _forget_urls(**kwargs: Any) -> None:
    _urls.clear()
