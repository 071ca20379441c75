"""Purging by surrogate key: our store first, then every registered backend (Varnish, a CDN).

`purge(keys, reason)` runs now. Content changes use `purge_after_commit`, which gathers the keys
of one transaction and purges them once it has committed: a purge before the commit would let a
reader re-cache the old page in between, and a rolled-back change purges nothing.

Backends are callables `backend(keys: list[str]) -> None`, named by dotted path in the setting
MASTHEAD_CACHE_PURGERS. A failing backend is logged and the others still run; purging never
fails the editor's request that caused it.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable, Iterable

from django.db import transaction
from django.utils.module_loading import import_string

from . import conf, keys as surrogate
from .store import get_store

logger = logging.getLogger(__name__)

Backend = Callable[[list[str]], None]

_backends: tuple[tuple, list[Backend]] | None = None


def backends() -> list[Backend]:
    """The registered purge backends, imported once (and again if the setting changes)."""
    global _backends
    paths = tuple(conf.get("MASTHEAD_CACHE_PURGERS") or ())
    if _backends is None or _backends[0] != paths:
        loaded = []
        for path in paths:
            try:
                loaded.append(import_string(path))
            except ImportError:
                logger.exception("page cache: purge backend %s cannot be imported", path)
        _backends = (paths, loaded)
    return _backends[1]


def purge(keys: Iterable[str], reason: str = "") -> list[str]:
    """Delete every cached page carrying any of `keys`, here and in every process, then tell the
    backends. Returns the keys purged (sorted), or [] when there were none."""
    names = sorted({key for key in keys if key and surrogate.KEY_RE.match(key)})
    if not names:
        return []
    store = get_store()
    try:
        deleted = store.purge(names)
    except Exception:
        logger.exception("page cache: purge of %s failed in the store", " ".join(names))
        deleted = 0
    if conf.get("MASTHEAD_PAGE_CACHE") and not store.shared:
        from .propagation import poller_for

        try:
            poller_for(store).record(names, reason)
        except Exception:
            logger.exception("page cache: could not log the purge of %s for other processes", " ".join(names))
    logger.info("page cache: purged %s (%s): %d entries here", " ".join(names), reason, deleted)
    for backend in backends():
        try:
            backend(list(names))
        except Exception:
            logger.exception("page cache: purge backend %r failed for %s", backend, " ".join(names))
    return names


class _Batch:
    """The keys one transaction will purge when it commits. Some keys can only be known after
    the commit (an article's new sections and tags are saved after the page row): those are
    given as functions, called then."""

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.later: list[Callable[[], Iterable[str]]] = []
        self.reasons: list[str] = []
        self.registered = False
        self.done = False

    def run(self) -> None:
        self.done = True
        names = set(self.keys)
        for compute in self.later:
            try:
                names.update(compute())
            except Exception:
                logger.exception("page cache: could not compute the keys to purge")
        purge(names, "; ".join(dict.fromkeys(self.reasons))[:200])


_local = threading.local()


def _pending_batch() -> _Batch:
    """This transaction's batch: still registered to run on commit, or a new one."""
    batch = getattr(_local, "batch", None)
    connection = transaction.get_connection()
    if batch is not None and not batch.done and connection.in_atomic_block:
        # A rollback drops the callback: join the batch only while its callback is pending.
        if any(callback[1] == batch.run for callback in connection.run_on_commit):
            return batch
    batch = _local.batch = _Batch()
    return batch


def purge_after_commit(
    keys: Iterable[str] = (), reason: str = "", later: Callable[[], Iterable[str]] | None = None
) -> None:
    """Purge `keys` (and what `later()` returns then) once the current transaction commits;
    at once when there is none. Purges of one transaction are merged into one."""
    batch = _pending_batch()
    batch.keys.update(keys)
    if later is not None:
        batch.later.append(later)
    if reason:
        batch.reasons.append(reason)
    if not batch.registered:
        batch.registered = True
        transaction.on_commit(batch.run, robust=True)
