"""The purge log that carries purges between processes when pages are cached in-process."""

from __future__ import annotations

import secrets

from django.db import models


class PurgeEvent(models.Model):
    """One purge, for the other processes of the site to apply to their own in-process stores.

    With Redis (REDIS_URL) every process shares one store and nothing is written here. Without
    it, each gunicorn worker (and each machine) keeps its own LRU, and reads the rows added since
    it last looked at most every MASTHEAD_CACHE_POLL_SECONDS (masthead.caching.propagation).
    Rows are only needed for a few seconds; old ones are deleted as new ones are written.
    """

    keys = models.TextField(help_text="Surrogate keys, separated by spaces.")
    reason = models.CharField(max_length=200, blank=True)
    origin = models.CharField(max_length=64, help_text="The process that purged (it has applied it already).")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.reason}: {self.keys[:80]}"


class ConfigGeneration(models.Model):
    """One row whose number changes whenever the site's structure changes (a page, a site or a
    view restriction is saved, moved or deleted), so that every process knows at once that what
    it remembers of that structure is out of date (masthead.caching.config)."""

    n = models.BigIntegerField(default=0)

    @staticmethod
    def new_number() -> int:
        return secrets.randbits(62)
