"""Purges between processes when each keeps its own in-process store (no REDIS_URL).

The process that purges applies the purge to its own store at once and writes a PurgeEvent row.
Every process reads the rows it has not seen at the start of a request, when at least
MASTHEAD_CACHE_POLL_SECONDS (0.5 s) have passed since it last looked, before it looks up the
page. So a process that answers a request more than 0.5 s after a purge committed has applied
it, and an idle process pays nothing. The read is one primary-key range query, at most twice a
second per process, never on a request that comes sooner: a cache hit costs no query otherwise.

On one machine it is quicker still: after writing the row, the purging process touches a signal
file (MASTHEAD_CACHE_SIGNAL_FILE, in the data directory), and every process stat()s it at the
start of each request; a new change time means "read the log now". So the workers of one
`masthead serve` see a purge at their very next request; other machines within the interval.

Why a table, not a signal or a socket: the database is the one thing every process and machine
of a site already shares, it needs no extra server, and a row cannot be missed by a process that
was busy or restarting (a new process starts empty, so it only needs rows from its start on).

Ids are given out before commit, so two purges committing at once can become visible out of
order (PostgreSQL). Each poll therefore looks LOOKBACK ids behind the newest it has seen and
skips the ids it has applied already.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.db import DatabaseError
from django.utils import timezone

from . import conf

logger = logging.getLogger(__name__)

LOOKBACK = 100
SKEW_WARNING_SECONDS = 2.0  # a purge dated this far ahead of our clock is logged (at most every 10 min)
KEEP = timedelta(hours=1)  # rows older than this are deleted (every PRUNE_EVERY writes)
PRUNE_EVERY = 100


class Poller:
    """This process's view of the purge log."""

    def __init__(self, store) -> None:
        self.store = store
        self.origin = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.last_id: int | None = None
        self.applied: set[int] = set()
        self.last_poll = float("-inf")
        self.seen_signal: int | None = None
        self.lock = threading.Lock()
        self.warned_of_skew = float("-inf")

    def due(self) -> bool:
        if time.monotonic() - self.last_poll >= float(conf.get("MASTHEAD_CACHE_POLL_SECONDS")):
            return True
        signal = read_signal()
        return signal is not None and signal != self.seen_signal

    def poll(self) -> int:
        """Apply the purges other processes logged since the last poll; returns how many."""
        from .models import PurgeEvent

        with self.lock:
            if not self.due():  # another thread polled while this one waited
                return 0
            started = time.monotonic()
            self.seen_signal = read_signal()  # a touch from now on means a newer purge
            try:
                if self.last_id is None:
                    return self.start(started)
                rows = list(
                    PurgeEvent.objects.filter(id__gt=self.last_id - LOOKBACK)
                    .exclude(id__in=self.applied)  # seen already: do not read their keys again
                    .values_list("id", "keys", "origin", "created_at")
                )
            except DatabaseError:
                logger.warning("page cache: could not read the purge log", exc_info=True)
                return 0
            rows = [row for row in rows if row[0] not in self.applied and row[0] > self.last_id - LOOKBACK]
            self.applied.update(row[0] for row in rows)
            applied = self.apply(rows)
            if rows:
                self.last_id = max(self.last_id, max(row[0] for row in rows))
            self.applied = {pk for pk in self.applied if pk > self.last_id - LOOKBACK}
            self.last_poll = started  # everything committed before this poll began is applied
            return applied

    def start(self, started: float) -> int:
        """The first poll: where the log stands. A fresh store holds nothing older than itself,
        so the look-back window's rows count as applied (else the next poll would purge this new
        process's first pages for events that predate it).

        Rows dated after the store began still set its purge times: those committed between the
        store's start and this poll, and those dated by a machine whose clock is ahead. Without
        them a page rendered now would be dated from the store's start, before the change, and
        a copy served elsewhere in between would win a 304 here."""
        from .models import PurgeEvent

        newest = PurgeEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        window = PurgeEvent.objects.filter(id__gt=newest - LOOKBACK)
        self.applied = set(window.values_list("id", flat=True))
        began = datetime.fromtimestamp(self.store.changed_at(()), tz=dt_timezone.utc)
        dated_later = list(
            PurgeEvent.objects.filter(id__lte=newest, created_at__gt=began).values_list(
                "id", "keys", "origin", "created_at"
            )
        )
        self.last_id = newest
        self.last_poll = started
        return self.apply(dated_later)

    def apply(self, rows: list[tuple]) -> int:
        """Apply other processes' purges (rows of id, keys, origin, created_at); returns how many."""
        applied = 0
        for _pk, keys, origin, created_at in rows:
            if origin != self.origin:
                # Timed as when it happened, not when read: every process then gives the
                # pages it purged the same Last-Modified.
                self.store.purge(keys.split(), when=created_at.timestamp())
                applied += 1
                self.warn_of_skew(origin, created_at.timestamp() - time.time())
        return applied

    def warn_of_skew(self, origin: str, ahead: float) -> None:
        """Say so when another machine's clock is ahead of ours: pages it purged go without a
        Last-Modified meanwhile (masthead.caching.headers.sendable_last_modified)."""
        if ahead > SKEW_WARNING_SECONDS and time.monotonic() - self.warned_of_skew > 600:
            self.warned_of_skew = time.monotonic()
            logger.warning(
                "page cache: a purge by %s is dated %.1f s ahead of this machine's clock; keep the "
                "machines' clocks in step (NTP)", origin, ahead
            )

    def record(self, keys: list[str], reason: str) -> None:
        """Log a purge this process has applied, for the others."""
        from .models import PurgeEvent

        event = PurgeEvent.objects.create(keys=" ".join(keys), reason=reason[:200], origin=self.origin)
        touch_signal()  # after the row is committed: whoever sees the touch finds the row
        if event.pk % PRUNE_EVERY == 0:
            PurgeEvent.objects.filter(created_at__lt=timezone.now() - KEEP).delete()


def read_signal() -> int | None:
    """The signal file's change time (ns), or None without one."""
    path = conf.signal_file()
    if not path:
        return None
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def touch_signal() -> None:
    path = conf.signal_file()
    if not path:
        return
    try:
        with open(path, "a"):
            pass
        os.utime(path, None)
    except OSError:  # a read-only data directory: other processes still poll every interval
        logger.debug("page cache: cannot touch %s", path, exc_info=True)


_pollers: dict[int, Poller] = {}
_lock = threading.Lock()


def poller_for(store) -> Poller:
    """The poller of this store (one per process and store)."""
    found = _pollers.get(id(store))
    if found is not None and found.store is store:
        return found
    with _lock:
        found = _pollers.get(id(store))
        if found is None or found.store is not store:
            _pollers.clear()  # a store replaced (settings changed, or a fork) forgets the old one
            found = _pollers[id(store)] = Poller(store)
        return found
