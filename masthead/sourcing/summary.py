"""Sourcing by section and month, for editors: how much is quoted, how much of it anonymously,
and who is quoted most.

Only the reports of live revisions count (what readers can read now). A section counts the same
articles its front lists: those whose primary section is it or one of its subsections, and those
that name it (or a subsection) as a further section. An article is counted in the month it was
first published.

A fixed number of queries, whatever the number of sections or articles: sections, the live
reports with their articles' paths and dates, their further sections, and their quoted people;
the rest is counting in Python over those rows.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import F
from django.utils import timezone
from wagtail.models import Page

from masthead.news.models import ArticlePage, SectionPage

from .models import QuotedSource, SourcingReport

TOP_PEOPLE = 5
WHOLE = 0  # the key of the whole-publication summary


@dataclass
class Tally:
    articles: int = 0
    quotes: int = 0
    anonymous: int = 0
    people: Counter = field(default_factory=Counter)

    def add(self, quotes: int, anonymous: int, people: list[tuple[str, int]]) -> None:
        self.articles += 1
        self.quotes += quotes
        self.anonymous += anonymous
        for name, count in people:
            self.people[name] += count

    @property
    def anonymous_share(self) -> float | None:
        return self.anonymous / self.quotes if self.quotes else None

    @property
    def anonymous_percent(self) -> str:
        share = self.anonymous_share
        return "–" if share is None else f"{share:.0%}"

    @property
    def top_people(self) -> list[tuple[str, int]]:
        return sorted(self.people.items(), key=lambda item: (-item[1], item[0].casefold()))[:TOP_PEOPLE]


@dataclass
class MonthSummary:
    month: date
    tally: Tally


@dataclass
class SectionSummary:
    key: int
    title: str
    trail: str  # "World › Middle East"
    depth: int
    months: list[MonthSummary]
    total: Tally


def month_of(moment: datetime) -> date:
    return timezone.localtime(moment).date().replace(day=1)


def live_reports(since: datetime | None = None):
    """Reports of the live revision of every live article (first published since `since`)."""
    # Reports are only written for article revisions, so no page-type filter is needed.
    reports = SourcingReport.objects.filter(page__live=True, revision_id=F("page__live_revision_id"))
    if since is not None:
        reports = reports.filter(page__first_published_at__gte=since)
    return reports


def section_summaries(since: datetime | None = None, section_id: int | None = None) -> list[SectionSummary]:
    sections = list(SectionPage.objects.order_by("path").values("pk", "title", "path", "depth"))
    by_path = {section["path"]: section for section in sections}
    reports = live_reports(since)
    rows = list(
        reports.values_list(
            "pk", "page_id", "page__path", "page__first_published_at", "quote_count", "anonymous_quote_count"
        )
    )
    Through = ArticlePage.additional_sections.through
    further: dict[int, list[str]] = defaultdict(list)
    for article_id, path in Through.objects.filter(articlepage_id__in=reports.values("page_id")).values_list(
        "articlepage_id", "sectionpage__path"
    ):
        further[article_id].append(path)
    people: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for report_id, name, count in QuotedSource.objects.filter(
        report__in=reports.values("pk"), kind=QuotedSource.Kind.NAMED
    ).values_list("report_id", "name", "quotes"):
        people[report_id].append((name, count))

    steplen = Page.steplen
    tallies: dict[tuple[int, date], Tally] = defaultdict(Tally)
    totals: dict[int, Tally] = defaultdict(Tally)
    for report_id, page_id, path, published, quotes, anonymous in rows:
        if published is None:
            continue
        member = {WHOLE}
        for place in [path, *further.get(page_id, [])]:
            for end in range(steplen, len(place) + 1, steplen):
                section = by_path.get(place[:end])
                if section is not None:
                    member.add(section["pk"])
        month = month_of(published)
        quoted = people.get(report_id, [])
        for key in member:
            tallies[(key, month)].add(quotes, anonymous, quoted)
            totals[key].add(quotes, anonymous, quoted)

    titles = {section["pk"]: section["title"] for section in sections}
    parents: dict[int, list[int]] = {}
    for section in sections:
        parents[section["pk"]] = [
            by_path[section["path"][:end]]["pk"]
            for end in range(steplen, len(section["path"]), steplen)
            if section["path"][:end] in by_path
        ]
    keys = [(WHOLE, "Whole publication", "Whole publication", 0)]
    keys += [
        (
            s["pk"],
            s["title"],
            " › ".join([*(titles[p] for p in parents[s["pk"]]), s["title"]]),
            len(parents[s["pk"]]),
        )
        for s in sections
    ]
    if section_id is not None:
        keys = [key for key in keys if key[0] == section_id]
    months_by_key: dict[int, list[date]] = defaultdict(list)
    for key, month in tallies:
        months_by_key[key].append(month)
    return [
        SectionSummary(
            key=key,
            title=title,
            trail=trail,
            depth=depth,
            months=[
                MonthSummary(month, tallies[(key, month)])
                for month in sorted(months_by_key[key], reverse=True)
            ],
            total=totals[key],
        )
        for key, title, trail, depth in keys
    ]
