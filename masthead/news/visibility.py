"""Which pages readers may see, with the view restrictions read once per request.

Wagtail's `PageQuerySet.public()` reads every view restriction each time it is called, and an
article page calls it three times (navigation, related reading, "More in"). Within one reader's
request the restrictions are read once and reused, and forgotten when one is saved or deleted
(the admin's privacy view and a publish's after-commit work run inside a request too). Outside
a request (commands, background jobs) nothing is remembered.
"""

from __future__ import annotations

from contextvars import ContextVar

from django.core.signals import request_finished, request_started
from django.db.models import Q, QuerySet
from django.db.models.signals import post_delete, post_save

from masthead.caching import config

# None outside a request; a dict holding the paths once they have been read in this request.
_request_memo: ContextVar[dict | None] = ContextVar("masthead_view_restrictions", default=None)


def _restricted_paths() -> tuple[str, ...]:
    from wagtail.models import PageViewRestriction

    memo = _request_memo.get()
    if memo is not None and "paths" in memo:
        return memo["paths"]
    paths = config.remembered(
        "restricted-paths", lambda: tuple(PageViewRestriction.objects.values_list("page__path", flat=True))
    )
    if memo is not None:
        memo["paths"] = paths
    return paths


def public(queryset: QuerySet) -> QuerySet:
    """`queryset` without pages in a private section (as Wagtail's `.public()`)."""
    private = Q()
    for path in _restricted_paths():
        private |= Q(path__startswith=path)
    return queryset.exclude(private) if private else queryset


def ancestor_paths(path: str) -> list[str]:
    """The tree paths from the root down to the page at `path`, itself included."""
    from wagtail.models import Page

    step = Page.steplen
    return [path[:end] for end in range(step, len(path) + 1, step)]


def view_restrictions(page) -> QuerySet:
    """The restrictions that apply to `page`, as Wagtail's `get_view_restrictions`: none without
    a query when the site has no private page (what the site remembers), else in one query.

    Wagtail loads the ancestors first to see which are aliases; the ancestors' paths are
    prefixes of the page's own path, so one query can ask for restrictions on them, taking an
    alias's restrictions from the page it is an alias of (aliases cannot have their own).
    """
    from wagtail.models import Page, PageViewRestriction

    if not _restricted_paths():  # no page anywhere is private (an alias's would be listed too)
        # Already evaluated: Wagtail iterates it before serving every page, and an empty
        # queryset that was never run is compiled as far as its empty condition each time
        # (2 % of an uncached article's instructions). It still filters and counts as a queryset.
        nothing = PageViewRestriction.objects.none()
        nothing._result_cache = []
        return nothing
    chain = ancestor_paths(page.path)
    aliased = Page.objects.filter(path__in=chain, alias_of__isnull=False).values("alias_of_id")
    return PageViewRestriction.objects.filter(
        Q(page__path__in=chain, page__alias_of__isnull=True) | Q(page_id__in=aliased)
    )


class OneQueryRestrictionsMixin:
    """For page models: the view-restriction check before serving costs one query, not two."""

    def get_view_restrictions(self) -> QuerySet:
        return view_restrictions(self)


def _start(**kwargs) -> None:
    _request_memo.set({})


def _finish(**kwargs) -> None:
    _request_memo.set(None)


def _forget(**kwargs) -> None:
    memo = _request_memo.get()
    if memo is not None:
        memo.pop("paths", None)


request_started.connect(_start, dispatch_uid="masthead.news.visibility.start")
request_finished.connect(_finish, dispatch_uid="masthead.news.visibility.finish")
RESTRICTION = "wagtailcore.PageViewRestriction"
post_save.connect(_forget, sender=RESTRICTION, dispatch_uid="masthead.news.visibility.saved")
post_delete.connect(_forget, sender=RESTRICTION, dispatch_uid="masthead.news.visibility.deleted")
