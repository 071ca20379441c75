"""Analysing articles when their revisions are written, never when they are read.

Wagtail writes a `Revision` for every way an article changes: saving a draft (and autosave,
which overwrites the editor's latest revision), publishing, scheduling, reverting, the importer
(`masthead import-text`) and the demo loader. One `post_save` handler on `Revision` therefore
covers them all. Publishing a revision that already has a report (scheduled publishing, "publish
this revision") adds nothing: the report is already there.

After `migrate`, articles whose latest or live revision has no report yet (a site that existed
before this app) are analysed once; `masthead reanalyse_sources` does the same on demand and,
with `--stale`, refreshes reports written by an older analyser.
"""

from __future__ import annotations

import logging

from django.contrib.contenttypes.models import ContentType
from django.db import connections
from django.db.models.signals import post_migrate, post_save
from wagtail.models import Revision

logger = logging.getLogger(__name__)


def article_content_type_id() -> int:
    from masthead.news.models import ArticlePage

    return ContentType.objects.get_for_model(ArticlePage).pk


def revision_saved(
    sender, instance: Revision, created: bool, raw: bool = False, update_fields=None, **kwargs
) -> None:
    if raw:
        return
    if update_fields is not None and "content" not in update_fields:
        return  # e.g. publishing clears approved_go_live_at: the text did not change
    if instance.content_type_id != article_content_type_id():
        return
    from .models import store_report

    store_report(instance)


def revisions_to_analyse(*, stale: bool = False, every_revision: bool = False):
    """Article revisions without a report (or, with `stale`, with an outdated one)."""
    from masthead.news.models import ArticlePage

    from .models import analyser_version

    revisions = Revision.objects.filter(content_type_id=article_content_type_id())
    if not every_revision:
        ids = set()
        for latest, live in ArticlePage.objects.values_list("latest_revision_id", "live_revision_id"):
            ids.update(pk for pk in (latest, live) if pk)
        revisions = revisions.filter(pk__in=ids)
    if stale:
        outdated = revisions.exclude(sourcing_report__analyser_version=analyser_version())
        return outdated.order_by("pk")
    return revisions.filter(sourcing_report__isnull=True).order_by("pk")


def analyse_revisions(revisions) -> tuple[int, int]:
    """Store reports for `revisions`; returns (analysed, failed to load)."""
    from .models import store_report

    done = failed = 0
    for revision in revisions.iterator(chunk_size=200):
        try:
            store_report(revision)
        except Exception:  # an old revision that no longer loads must not stop the others
            logger.exception("could not analyse revision %s", revision.pk)
            failed += 1
        else:
            done += 1
    return done, failed


def fill_missing_reports(sender, using: str = "default", verbosity: int = 1, **kwargs) -> None:
    from .models import SourcingReport

    if SourcingReport._meta.db_table not in connections[using].introspection.table_names():
        return  # migrated only part of the way
    revisions = revisions_to_analyse().using(using)
    if not revisions.exists():
        return
    done, failed = analyse_revisions(revisions)
    if verbosity:
        print(
            f"Sourcing: analysed {done} article revision(s) that had no report"
            + (f", {failed} failed" if failed else "")
        )


def connect(app_config) -> None:
    post_save.connect(revision_saved, sender=Revision, dispatch_uid="masthead.sourcing.revision_saved")
    post_migrate.connect(
        fill_missing_reports, sender=app_config, dispatch_uid="masthead.sourcing.fill_missing"
    )
