"""Sourcing reports, stored per article revision.

Every saved revision of an ArticlePage (draft save, autosave, publish, scheduled publish, the
importer, the demo loader: all of them go through `Revision.save`) gets one `SourcingReport`:
the analyser's JSON (the contract of ../shared/sourcing/README.md), the exact text it read
(offsets point into it) with the map back to the editor's fields and blocks, and the analyser's
version. Readers only ever read the report of the live revision; nothing is analysed on their
requests. `QuotedSource` rows are the report's quotes counted per speaker, so the reader box and
the per-section summary are plain indexed queries rather than JSON parsing.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections import Counter
from pathlib import Path

from django.db import models, transaction
from django.utils import timezone

from .article_text import ArticleText, article_text

logger = logging.getLogger(__name__)

CONTRACT_KEYS = ("quotes", "sources", "figures", "warnings")
SPEAKER_TYPES = ("named", "anonymous", "institutional", "collective")

# Parts of this package that are the Django app, not the analyser: they do not change its results.
_APP_DIRS = frozenset({"migrations", "templates", "jinja2", "static", "management", "__pycache__"})
_APP_FILES = frozenset(
    {
        "apps.py",
        "models.py",
        "signals.py",
        "panels.py",
        "views.py",
        "wagtail_hooks.py",
        "summary.py",
        "template_functions.py",
    }
)


def empty_result() -> dict:
    return {key: [] for key in CONTRACT_KEYS}


@functools.cache
def analyser_version() -> str:
    """The analyser's declared version (if it declares one) plus a digest of its code and data.

    The digest covers every file of the package except the Django app's own modules (but with
    article_text.py, which makes the analyser's input), so any change to the rules, word lists or
    the text extraction gives a new version and `reanalyse_sources --stale` can find the reports
    an older analyser wrote.
    """
    import masthead.sourcing as core

    declared = ""
    for module in (core, getattr(core, "analyser", None)):
        for name in ("__version__", "VERSION", "ANALYSER_VERSION"):
            value = getattr(module, name, None)
            if value and not declared:
                declared = str(value)
    root = Path(core.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or relative.parts[0] in _APP_DIRS or "__pycache__" in relative.parts:
            continue
        if len(relative.parts) == 1 and relative.name in _APP_FILES:
            continue
        if path.suffix in {".pyc", ".pyo"}:
            continue
        digest.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\0")
    return f"{declared or '0'}+{digest.hexdigest()[:12]}"[:64]


def _span(item: dict, length: int) -> tuple[int | None, int | None]:
    start, end = item.get("start"), item.get("end")
    if (
        isinstance(start, bool)
        or isinstance(end, bool)
        or not isinstance(start, int)
        or not isinstance(end, int)
    ):
        return None, None
    if 0 <= start <= end <= length:
        return start, end
    return None, None


def normalise(result, length: int) -> dict:
    """The analyser's answer as the contract says it is, whatever it returned.

    Unknown keys are kept, items that are not objects are dropped, spans outside the text become
    null (the item is still listed, just not linked), and items are ordered by position.
    """
    if not isinstance(result, dict):
        raise TypeError(f"the analyser returned {type(result).__name__}, not a dict")
    clean = json.loads(json.dumps(result, default=str))
    for key in CONTRACT_KEYS:
        items = clean.get(key)
        items = [dict(item) for item in items if isinstance(item, dict)] if isinstance(items, list) else []
        if key != "sources":
            for item in items:
                item["start"], item["end"] = _span(item, length)
            items.sort(key=lambda item: (item["start"] is None, item["start"] or 0, item["end"] or 0))
        clean[key] = items
    return clean


def tally(result: dict) -> list[tuple[str, str, int]]:
    """(speaker, speaker type, number of quotes) for every attributed quote's speaker."""
    counts: Counter = Counter()
    for quote in result.get("quotes", []):
        speaker = " ".join(str(quote.get("speaker") or "").split())
        if not speaker:
            continue
        kind = quote.get("speaker_type")
        counts[(speaker, kind if kind in SPEAKER_TYPES else QuotedSource.Kind.UNKNOWN)] += 1
    return [(name, kind, count) for (name, kind), count in counts.items()]


def run_analyser(text: str) -> dict:
    # Looked up at call time, so the analyser can be replaced (tests, a future language switch).
    import masthead.sourcing as core

    return core.analyse(text)


class SourcingReport(models.Model):
    """What the analyser found in one revision of an article."""

    revision = models.OneToOneField(
        "wagtailcore.Revision", on_delete=models.CASCADE, related_name="sourcing_report"
    )
    page = models.ForeignKey("wagtailcore.Page", on_delete=models.CASCADE, related_name="sourcing_reports")
    analyser_version = models.CharField(max_length=64)
    analysed_at = models.DateTimeField(default=timezone.now)
    # The text the analyser read; every offset in `result` points into it.
    text = models.TextField(blank=True)
    # article_text.Segment dicts: where each part of `text` came from in the editor.
    segments = models.JSONField(default=list, blank=True)
    result = models.JSONField(default=empty_result)
    # Set when the analyser failed on this revision (the revision is saved all the same).
    error = models.TextField(blank=True)
    quote_count = models.PositiveIntegerField(default=0)
    anonymous_quote_count = models.PositiveIntegerField(default=0)
    warning_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "sourcing report"

    def __str__(self) -> str:
        return f"Sourcing of revision {self.revision_id} of page {self.page_id}"

    @property
    def article_text(self) -> ArticleText:
        return ArticleText.from_stored(self.text, self.segments)

    @property
    def warnings(self) -> list[dict]:
        return self.result.get("warnings", [])

    @property
    def is_current(self) -> bool:
        return self.analyser_version == analyser_version()


class QuotedSource(models.Model):
    """One speaker of a report's quotes, with how many quotes it has."""

    class Kind(models.TextChoices):
        NAMED = "named", "Named person"
        ANONYMOUS = "anonymous", "Anonymous source"
        INSTITUTIONAL = "institutional", "Organisation"
        COLLECTIVE = "collective", "Group"
        UNKNOWN = "unknown", "Unclassified"

    report = models.ForeignKey(SourcingReport, on_delete=models.CASCADE, related_name="quoted_sources")
    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    quotes = models.PositiveIntegerField()

    class Meta:
        ordering = ["-quotes", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind}, {self.quotes})"


def analyse_page(page) -> tuple[ArticleText, dict, str]:
    """Analyse an article as it is in memory: (text, normalised result, error or "")."""
    document = article_text(page)
    return (document, *analyse_document(document, getattr(page, "pk", None)))


def analyse_document(document: ArticleText, page_id: int | None = None) -> tuple[dict, str]:
    """(normalised result, error or "") for an article's text."""
    try:
        return normalise(run_analyser(document.text), len(document.text)), ""
    except Exception as exc:  # the analyser must never stop an editor from saving
        logger.exception("sourcing analysis failed for page %s", page_id)
        return empty_result(), f"{type(exc).__name__}: {exc}"[:2000]


def store_report(revision, page=None) -> SourcingReport:
    """Analyse `revision` (of an ArticlePage) and store its report, replacing an older one."""
    page = page if page is not None else revision.as_object()
    document = article_text(page)
    result = _result_for_same_text(revision, document)
    error = ""
    if result is None:
        result, error = analyse_document(document, int(revision.object_id))
    quotes = result["quotes"]
    with transaction.atomic():
        report, _ = SourcingReport.objects.update_or_create(
            revision=revision,
            defaults={
                "page_id": int(revision.object_id),
                "analyser_version": analyser_version(),
                "analysed_at": timezone.now(),
                "text": document.text,
                "segments": document.segments_json(),
                "result": result,
                "error": error,
                "quote_count": len(quotes),
                "anonymous_quote_count": sum(1 for q in quotes if q.get("speaker_type") == "anonymous"),
                "warning_count": len(result["warnings"]),
            },
        )
        report.quoted_sources.all().delete()
        QuotedSource.objects.bulk_create(
            QuotedSource(report=report, name=name[:255], kind=kind, quotes=count)
            for name, kind, count in tally(result)
        )
    return report


def _result_for_same_text(revision, document: ArticleText) -> dict | None:
    """The result already found for this very text of the article, if the latest report has it.

    Most revisions do not change the text the analyser reads: autosave every few seconds,
    publishing or scheduling, a changed image or tag. Analysing a long article again for each
    would spend the editor's wait on an answer already stored. An analyser swapped in at run
    time (`run_analyser`) is asked again only for a new text or a new `analyser_version()`."""
    earlier = (
        SourcingReport.objects.filter(page_id=int(revision.object_id), analyser_version=analyser_version(), error="")
        .exclude(revision=revision)
        .order_by("-analysed_at", "-pk")
        .only("text", "result")
        .first()
    )
    if earlier is not None and earlier.text == document.text:
        return earlier.result
    return None


def latest_report(page) -> SourcingReport | None:
    """The report of the page's latest revision (what the editor sees), if there is one."""
    revision_id = getattr(page, "latest_revision_id", None)
    if not revision_id:
        return None
    return SourcingReport.objects.filter(revision_id=revision_id).first()
