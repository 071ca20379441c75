"""The "Sources" tab of the article editor.

It shows the stored report of the article's latest revision (so it changes with every save,
autosave included: its script reloads the panel after each autosave), warnings first:

* warnings, each with the words it is about;
* every quote with its speaker (or "no speaker"), kind and cue;
* every source with its type and how many quotes it has;
* every figure with its source (or "no source");
* the analysed text, with the quotes, figures and warnings marked and numbered (Q1, F1, W1).

Every item links to its place in the analysed text (a plain in-page link) and to the field or
block to change ("paragraph 12"): the link carries Wagtail's `#:w:contentpath=` address and the
panel's script switches to the Content tab and focuses that block.

The tab is added to ArticlePage from here (`install_sources_tab`, called by the app's `ready`)
so the news app does not depend on this one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from wagtail.admin.panels import ObjectList, Panel, TabbedInterface

from .article_text import ArticleText, Segment
from .models import QuotedSource, SourcingReport, latest_report

WARNING_LABELS = {
    "unattributed-quote": "Unattributed quote",
    "conflicting-attribution": "Conflicting attribution",
    "unsourced-figure": "Unsourced figure",
}
SPEAKER_TYPE_LABELS = dict(QuotedSource.Kind.choices)
QUOTE_KIND_LABELS = {"direct": "direct quote", "indirect": "indirect quote", "mixed": "partial quote"}
EXCERPT_CHARS = 160
MARK_PREFIX = {"warning": "W", "quote": "Q", "figure": "F"}
QUOTE_MARKS = "\"“‘„«'"


def warning_label(code: str) -> str:
    return WARNING_LABELS.get(code) or (code or "warning").replace("-", " ").capitalize()


@dataclass
class Place:
    label: str  # "paragraph 3"
    path: str  # "body.<block id>"


@dataclass
class Item:
    kind: str  # warning | quote | figure
    number: int
    start: int | None
    end: int | None
    excerpt: str
    place: Place | None
    data: dict = field(default_factory=dict)

    @property
    def tag(self) -> str:
        return f"{MARK_PREFIX[self.kind]}{self.number}"

    @property
    def anchor(self) -> str:
        return f"sourcing-{self.kind}-{self.number}"

    @property
    def quoted_excerpt(self) -> str:
        """The excerpt in quotation marks, unless it already starts with one (a direct quote)."""
        if self.excerpt[:1] in QUOTE_MARKS:
            return self.excerpt
        return f"“{self.excerpt}”"

    @property
    def label(self) -> str:
        return warning_label(self.data.get("code", "")) if self.kind == "warning" else self.tag

    @property
    def linked(self) -> bool:
        return self.start is not None


@dataclass
class SourceRow:
    name: str
    type_label: str
    role: str
    quotes: int


@dataclass
class TextBlock:
    segment: Segment
    html: SafeString


class ReportView:
    """A stored report arranged for people to read: numbered items, their places, the marked text."""

    def __init__(self, report: SourcingReport):
        self.report = report
        self.document: ArticleText = report.article_text
        result = report.result or {}
        self.warnings = self._items("warning", result.get("warnings", []))
        self.quotes = self._items("quote", result.get("quotes", []))
        self.figures = self._items("figure", result.get("figures", []))
        self.sources = self._sources(result)

    def _excerpt(self, start, end, fallback: str) -> str:
        words = self.document.text[start:end] if start is not None else fallback
        return Truncator(" ".join((words or "").split())).chars(EXCERPT_CHARS)

    def _place(self, start) -> Place | None:
        if start is None:
            return None
        segment = self.document.segment_at(start)
        return Place(segment.label, segment.path) if segment else None

    def _items(self, kind: str, entries: list[dict]) -> list[Item]:
        return [
            Item(
                kind=kind,
                number=number,
                start=entry.get("start"),
                end=entry.get("end"),
                excerpt=self._excerpt(entry.get("start"), entry.get("end"), entry.get("text", "")),
                place=self._place(entry.get("start")),
                data=entry,
            )
            for number, entry in enumerate(entries, start=1)
        ]

    def _sources(self, result: dict) -> list[SourceRow]:
        counts: dict[str, int] = {}
        for quote in result.get("quotes", []):
            if quote.get("speaker"):
                counts[quote["speaker"]] = counts.get(quote["speaker"], 0) + 1
        rows, seen = [], set()
        for source in result.get("sources", []):
            name = source.get("name") or ""
            if not name or name in seen:
                continue
            seen.add(name)
            rows.append(self._row(name, source.get("type"), source.get("role") or "", counts.get(name, 0)))
        # A speaker the analyser did not list as a source is still a source.
        for quote in result.get("quotes", []):
            name = quote.get("speaker")
            if name and name not in seen:
                seen.add(name)
                rows.append(self._row(name, quote.get("speaker_type"), "", counts[name]))
        return rows

    @staticmethod
    def _row(name, kind, role, quotes) -> SourceRow:
        return SourceRow(
            name, SPEAKER_TYPE_LABELS.get(kind or "unknown", SPEAKER_TYPE_LABELS["unknown"]), role, quotes
        )

    @property
    def is_empty(self) -> bool:
        return not (self.warnings or self.quotes or self.figures or self.sources)

    def text_blocks(self) -> list[TextBlock]:
        """The analysed text by segment, with every item's span marked and its tag at its start."""
        items = [item for item in self.warnings + self.quotes + self.figures if item.linked]
        text = self.document.text
        anchors: dict[int, list[tuple[int, Item]]] = {}  # segment start -> (position, item)
        for item in items:
            segment = self.document.segment_at(item.start)
            if segment is not None:
                position = min(max(item.start, segment.start), segment.end)
                anchors.setdefault(segment.start, []).append((position, item))
        blocks = []
        for segment in self.document.segments:
            here = anchors.get(segment.start, [])
            spans = [i for i in items if i.start < segment.end and i.end > segment.start]
            cuts = {segment.start, segment.end} | {position for position, _ in here}
            for item in spans:
                cuts.update((max(item.start, segment.start), min(item.end, segment.end)))
            cuts = sorted(cuts)
            parts: list[str] = []
            for left, right in zip(cuts, cuts[1:] + [None]):
                parts.extend(
                    format_html(
                        '<span class="sourcing-tag sourcing-tag--{}" id="{}" tabindex="-1">{}</span>',
                        item.kind,
                        item.anchor,
                        item.tag,
                    )
                    for position, item in here
                    if position == left
                )
                if right is None:
                    break
                covering = sorted({i.kind for i in spans if i.start <= left and i.end >= right})
                piece = text[left:right]
                if covering:
                    classes = " ".join(f"sourcing-mark--{kind}" for kind in covering)
                    parts.append(format_html('<mark class="sourcing-mark {}">{}</mark>', classes, piece))
                else:
                    parts.append(format_html("{}", piece))
            blocks.append(TextBlock(segment, mark_safe("".join(parts))))
        return blocks


def warnings_html(view: ReportView) -> SafeString:
    """The warnings as a list, for the message shown after publishing."""
    return format_html(
        '<ul class="sourcing-message-list">{}</ul>',
        format_html_join(
            "",
            "<li>{}: {} ({}, {})</li>",
            (
                (
                    warning_label(item.data.get("code", "")),
                    item.data.get("message", ""),
                    Truncator(item.quoted_excerpt).chars(80),
                    item.place.label if item.place else "place unknown",
                )
                for item in view.warnings
            ),
        ),
    )


def panel_context(page, request=None) -> dict:
    """What the panel template needs for `page` (an ArticlePage, saved or not)."""
    context: dict = {"page": page, "report": None, "view": None}
    if page is None or not page.pk:
        return context
    context["refresh_url"] = reverse("sourcing_panel", args=[page.pk])
    report = latest_report(page)
    if report is not None:
        context["report"] = report
        context["view"] = ReportView(report)
    return context


class SourcesPanel(Panel):
    """Read-only: the sourcing report of the article's latest revision."""

    def __init__(self, heading="Sourcing report", **kwargs):
        super().__init__(heading=heading, **kwargs)

    @property
    def clean_name(self):
        return super().clean_name or "sourcing_report"

    class BoundPanel(Panel.BoundPanel):
        template_name = "sourcing/admin/panel.html"

        class Media:
            js = ["sourcing/sources-panel.js"]
            css = {"all": ["sourcing/sources-panel.css"]}

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            context.update(panel_context(self.instance, self.request))
            return context


def install_sources_tab() -> None:
    """Give ArticlePage's editor a "Sources" tab after its usual Content/Promote/Settings tabs."""
    from masthead.news.models import ArticlePage

    if "edit_handler" in ArticlePage.__dict__:
        tabs = list(ArticlePage.edit_handler.children)
        base_form_class = ArticlePage.edit_handler.base_form_class
    else:
        tabs = [
            ObjectList(ArticlePage.content_panels, heading="Content"),
            ObjectList(ArticlePage.promote_panels, heading="Promote"),
            ObjectList(ArticlePage.settings_panels, heading="Settings"),
        ]
        base_form_class = getattr(ArticlePage, "base_form_class", None)
    if any(isinstance(panel, SourcesPanel) for tab in tabs for panel in getattr(tab, "children", [])):
        return
    tabs.append(ObjectList([SourcesPanel()], heading="Sources"))
    ArticlePage.edit_handler = TabbedInterface(tabs, base_form_class=base_form_class)
    cached = getattr(ArticlePage, "get_edit_handler", None)  # set up by wagtail.admin, maybe later
    if cached is not None:
        cached.cache_clear()
