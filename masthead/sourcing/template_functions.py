"""The reader's "Who is quoted" box (named in masthead/templating.py).

Readers get the stored report of the article's live revision: one indexed query for its quoted
sources, and no analysis. An editor's preview (unsaved changes) is analysed on the spot instead,
so the preview shows the box the article will have once saved and published.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from masthead.caching.prepared import Prepared

from .models import QuotedSource, analyse_page, tally

Kind = QuotedSource.Kind
PEOPLE = {Kind.NAMED}
ORGANISATIONS = {Kind.INSTITUTIONAL, Kind.COLLECTIVE}


@dataclass
class WhoIsQuoted:
    people: list[tuple[str, int]]
    organisations: list[tuple[str, int]]
    anonymous_sources: int

    def __bool__(self) -> bool:
        return bool(self.people or self.organisations or self.anonymous_sources)


def box(rows) -> WhoIsQuoted:
    """(name, kind, quotes) rows -> the box; the most quoted first, then by name."""

    def ordered(kinds):
        found = [(name, quotes) for name, kind, quotes in rows if kind in kinds]
        return sorted(found, key=lambda item: (-item[1], item[0].casefold()))

    return WhoIsQuoted(
        people=ordered(PEOPLE),
        organisations=ordered(ORGANISATIONS),
        anonymous_sources=sum(1 for _, kind, _ in rows if kind == Kind.ANONYMOUS),
    )


# Who the published revision quotes, as (name, kind, quotes): on every article, so compiled once.
_quoted_in_revision = Prepared(
    "sourcing:quoted-in-revision",
    lambda revision_id: QuotedSource.objects.filter(report__revision_id=revision_id).values_list(
        "name", "kind", "quotes"
    ),
)


def who_is_quoted(context: Mapping[str, Any], page: Any) -> WhoIsQuoted | None:
    if page is None or not getattr(page, "show_who_is_quoted", False):
        return None
    request = context.get("request")
    if getattr(request, "is_preview", False):
        _, result, _ = analyse_page(page)
        rows = tally(result)
    elif page.live_revision_id:
        rows = _quoted_in_revision(page.live_revision_id)
    else:
        return None
    return box(rows) or None
