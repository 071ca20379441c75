"""Site structure remembered by each process between requests, and forgotten exactly.

Every page, cached or not, first asks which Wagtail site the request is for (a query that
orders all sites by how well they match the host, about 2 ms), which sections the menu shows
and which parts of the tree are private. These change when an editor edits a site, a section
or a privacy setting: a few times a day. So each process remembers the answers, tagged with a
generation number kept in the database, and one indexed read of that number per request
(`SELECT n`, well under a millisecond) tells every process on every machine whether what it
remembers is still current. Any save, move or deletion of a page, a site or a view
restriction, anywhere, sets a new number in the same transaction. The numbers are random, not
counted, so a row that is deleted and made again (a test database flushed under a running
server) never brings back a number something was remembered under. A change rolled back bumps
nothing, and nothing is remembered while a transaction is open, so no process keeps what was
never committed.

Outside a request (commands, background jobs) nothing is remembered: each call reads afresh.
"""

from __future__ import annotations

import copy
import logging
import threading
from contextvars import ContextVar
from typing import Any, Callable, Hashable, TypeVar

from django.core.signals import request_finished, request_started
from django.db import DatabaseError, connection, transaction
from django.db.models.signals import post_delete, post_save

T = TypeVar("T")
_MISSING = object()
logger = logging.getLogger(__name__)

# This process's memory: name -> (generation, value). Values must be immutable or copied out,
# or be dicts that threads only read and add to (news.cards.page_url), which the GIL keeps whole.
_remembered: dict[str, tuple[int, Any]] = {}
_lock = threading.Lock()
# Image fields Wagtail fills in lazily, on a reader's request: no change anyone can see.
IMAGE_BOOKKEEPING = frozenset({"file_size", "file_hash"})
MAX_ENTRIES = 256  # names include the host; never let a stream of odd hosts grow it unbounded
# None outside a request; within one, {"generation": n} once it has been read.
_request: ContextVar[dict | None] = ContextVar("masthead_config_request", default=None)


def _table() -> str:
    from .models import ConfigGeneration

    return ConfigGeneration._meta.db_table


def generation() -> int | None:
    """The current generation, read once per request; None outside a request, or when the row
    is missing (a database emptied by a test run): then nothing is remembered."""
    memo = _request.get()
    if memo is None:
        return None
    if "generation" not in memo:
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT n FROM {_table()} WHERE id = 1")
                row = cursor.fetchone()
        except DatabaseError:  # the table is not migrated yet: remember nothing, fail nothing
            logger.warning("site structure: the generation row cannot be read", exc_info=True)
            row = None
        memo["generation"] = row[0] if row else None
        _follow_wagtail(memo["generation"])
    return memo["generation"]


_last_seen: list[int | None] = [None]


def _follow_wagtail(current: int | None) -> None:
    """On a new generation, drop this process's copy of Wagtail's site root paths too: a Site
    save clears it only in the saving process, and what is remembered here (menu, section
    labels) is built from it, so a stale copy would outlive its hour in Wagtail's cache."""
    if current is None or current == _last_seen[0]:
        return
    _last_seen[0] = current
    from wagtail.models import Site

    Site.clear_site_root_paths_cache()


def remembering() -> bool:
    """Whether what is computed now will be remembered (within a request, outside a transaction):
    only then is it worth computing more than the caller needs at once."""
    return not connection.in_atomic_block and generation() is not None


def remembered(name: str, compute: Callable[[], T]) -> T:
    """compute(), or what it returned earlier in this process for the same generation."""
    if connection.in_atomic_block:  # might yet be rolled back: neither read nor remembered
        return compute()
    current = generation()
    if current is None:
        return compute()
    hit = _remembered.get(name)
    if hit is not None and hit[0] == current:
        return hit[1]
    value = compute()
    with _lock:  # threads of one process share the memory
        if name not in _remembered and len(_remembered) >= MAX_ENTRIES:
            _remembered.pop(next(iter(_remembered)), None)  # the oldest name: the others stay
        _remembered[name] = (current, value)
    return value


def remembered_item(name: str, key: Hashable, compute: Callable[[], T]) -> T:
    """compute(), or what it returned earlier in this generation for the same `key` of the map
    `name`: for a value per section or per page, where `remembered` keeps one value per name
    (and at most MAX_ENTRIES names). The map holds one entry per key seen in the generation;
    threads only read and add to it."""
    known = remembered(name, dict)
    found = known.get(key, _MISSING)
    if found is _MISSING:
        found = known[key] = compute()
    return found


def site_setting(model, site, *related: str):
    """The site's row of a Wagtail site setting (`model`, made if missing), with its `related`
    objects: read once per generation rather than once per page, as every page shows the
    publication's settings and every article the comment policy. Saving any site setting
    starts a new generation. Each caller gets its own copy, free to annotate."""

    def load():
        found, _ = model.objects.select_related(*related).get_or_create(site=site)
        return found

    found = copy.copy(remembered(f"setting:{model._meta.label_lower}:{site.pk}", load))
    if hasattr(found, "_page_url_cache"):
        found._page_url_cache = {}  # Wagtail's per-instance page URLs: per request, not shared
    return found


def bump() -> None:
    """Say that the site's structure changed: every process forgets what it remembers."""
    from .models import ConfigGeneration

    with _lock:
        _remembered.clear()
    try:
        with transaction.atomic():
            new = ConfigGeneration.new_number()
            if not ConfigGeneration.objects.filter(pk=1).update(n=new):
                ConfigGeneration.objects.update_or_create(pk=1, defaults={"n": new})
    except DatabaseError:  # not migrated yet: nothing can have been remembered under a number
        logger.warning("site structure: the generation row cannot be written", exc_info=True)
    memo = _request.get()
    if memo is not None:
        memo.pop("generation", None)


def _changed(sender, instance=None, update_fields=None, **kwargs) -> None:
    """Any save or deletion of a page, site, view restriction, site setting or image (a site
    setting remembers its images, the publisher's logo), fixtures (raw) included; except a page
    save that only touches what editors see (a draft, a revision, a lock), which would otherwise
    queue every editor's save behind this one row, and an image's lazily filled size or hash."""
    from wagtail.contrib.settings.models import BaseSiteSetting
    from wagtail.images.models import AbstractImage
    from wagtail.models import Page, PageViewRestriction, Site

    from .invalidation import EDITING_FIELDS

    if not isinstance(instance, (Page, Site, PageViewRestriction, BaseSiteSetting, AbstractImage)):
        return
    if isinstance(instance, Page) and update_fields is not None and set(update_fields) <= EDITING_FIELDS:
        return
    if isinstance(instance, AbstractImage) and update_fields and set(update_fields) <= IMAGE_BOOKKEEPING:
        return
    bump()


def _moved(sender, **kwargs) -> None:
    bump()


def _start(**kwargs) -> None:
    _request.set({})


def _finish(**kwargs) -> None:
    _request.set(None)


def connect() -> None:
    from wagtail.signals import page_unpublished, post_page_move

    uid = "masthead.caching.config"
    post_save.connect(_changed, dispatch_uid=f"{uid}.save")
    post_delete.connect(_changed, dispatch_uid=f"{uid}.delete")
    page_unpublished.connect(_changed, dispatch_uid=f"{uid}.unpublished")
    post_page_move.connect(_moved, dispatch_uid=f"{uid}.moved")
    request_started.connect(_start, dispatch_uid=f"{uid}.start")
    request_finished.connect(_finish, dispatch_uid=f"{uid}.finish")
