"""Ranked full-text search over articles, on the database's own engine.

The index is Wagtail's: `wagtailsearch_indexentry` (one row per article, kept up to date by
Wagtail's save/delete signals and by our publish handler in `signals.py`), with a `title`
part (the headline) and a `body` part (standfirst, body, author names, tags). On PostgreSQL
those are tsvectors; on SQLite they are mirrored into the FTS5 table
`wagtailsearch_indexentry_fts` by triggers.

We query that index ourselves instead of through `QuerySet.search()`, for two reasons that
show at 100,000 articles (see BENCHMARKS.md):

* ranking: the backend's SQLite ranking cannot tell a headline match from a body match, and
  a headline match must come first. We weight the headline in both engines (`TITLE_WEIGHT`).
* cost: the backend matches PostgreSQL rows on `title || body`, which no index covers (a
  sequential scan of the whole index per query; our migration adds that GIN index), joins
  pages through `page.id::text`, and on SQLite scores each result with a correlated
  subquery. Here the match drives the query and each hit joins its page by primary key.

`search()` returns an ordinary QuerySet of live, public articles (so every filter is an ORM
filter) annotated with `search_rank` and ordered best first, newest first among equals.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import QuerySet

# Words only: no query syntax reaches either engine, so no input can raise a syntax error.
WORD_RE = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 12
# How much more a headline hit counts than a hit in the standfirst, body, bylines or tags.
TITLE_WEIGHT = 4.0

INDEX = "wagtailsearch_indexentry"
FTS = "wagtailsearch_indexentry_fts"


def terms_of(query: str) -> list[str]:
    """The words of a query, in order, without repeats (case-insensitive), at most MAX_TERMS."""
    seen: set[str] = set()
    terms = []
    for word in WORD_RE.findall(unicodedata.normalize("NFC", query or "")):
        word = word.strip("_")
        key = word.casefold()
        if word and key not in seen:
            seen.add(key)
            terms.append(word)
    return terms[:MAX_TERMS]


def _article_content_type_id() -> int:
    from masthead.news.models import ArticlePage

    return ContentType.objects.get_for_model(ArticlePage).pk  # cached by Django after the first call


@functools.lru_cache(maxsize=1)
def _text_search_config() -> str | None:
    from wagtail.search.backends import get_search_backend

    return getattr(get_search_backend(), "config", None)


def search(articles: QuerySet, terms: list[str], *, match_any: bool = False) -> QuerySet:
    """`articles` (ArticlePage, already filtered) that contain every term, best first.

    With `match_any`, articles containing any of the terms (for "similar text").
    """
    if not terms:
        return articles.none()
    match, rank, rank_params = _match(terms, match_any)
    return (
        articles.extra(select={"search_rank": rank}, select_params=rank_params, **match)
        .order_by("-search_rank", "-first_published_at", "-pk")
    )


def matching(articles: QuerySet, terms: list[str], *, match_any: bool = False) -> QuerySet:
    """The same articles as `search()`, unranked and unordered: for counting them cheaply."""
    if not terms:
        return articles.none()
    match, _, _ = _match(terms, match_any)
    return articles.extra(**match).order_by()


def _match(terms: list[str], match_any: bool) -> tuple[dict, str, list]:
    """The `extra()` arguments that join and match the index, and the rank expression."""
    if connection.vendor == "postgresql":
        return _match_postgres(terms, match_any)
    if connection.vendor == "sqlite":
        return _match_sqlite(terms, match_any)
    raise NotImplementedError(f"search is not implemented for {connection.vendor}")


def _match_postgres(terms: list[str], match_any: bool) -> tuple[dict, str, list]:
    # The same text search configuration the index was built with (None: the server default).
    # plainto_tsquery parses plain words (stemmed, stop words dropped): no syntax to inject.
    config = _text_search_config()
    one = "plainto_tsquery(%s::regconfig, %s)" if config else "plainto_tsquery(%s)"
    prefix = [config] if config else []
    if match_any:
        tsquery = "(" + " || ".join([one] * len(terms)) + ")"
        query_params = [p for term in terms for p in (*prefix, term)]
    else:
        tsquery, query_params = one, [*prefix, " ".join(terms)]
    # Labels A-D all count 1: the title/body split is what weights a headline.
    rank = (
        f"({TITLE_WEIGHT} * ts_rank('{{1,1,1,1}}', {INDEX}.title, {tsquery})"
        f" + ts_rank('{{1,1,1,1}}', {INDEX}.body, {tsquery}, 1))"
    )
    match = {
        "tables": [INDEX],
        "where": [
            f"({INDEX}.title || {INDEX}.body) @@ {tsquery}",  # GIN index from search/migrations
            f"{INDEX}.content_type_id = %s",
            # object_id is text; the guard keeps the cast safe for other models' ids.
            f"news_articlepage.page_ptr_id = (CASE WHEN {INDEX}.object_id ~ '^[0-9]{{1,18}}$'"
            f" THEN {INDEX}.object_id::bigint END)",
        ],
        "params": [*query_params, _article_content_type_id()],
    }
    return match, rank, query_params * 2


def fts5_query(terms: list[str], match_any: bool = False) -> str:
    """An FTS5 MATCH expression: every term (or any), quoted, in the headline or body."""
    quoted = ['"{}"'.format(term.replace('"', '""')) for term in terms]
    joined = " OR ".join(quoted) if match_any else " ".join(quoted)
    return f"{{title body}} : ({joined})"


def _match_sqlite(terms: list[str], match_any: bool) -> tuple[dict, str, list]:
    # bm25() is negative, lower is better; its column weights follow the FTS5 table's column
    # order (autocomplete, body, title).
    rank = f"-bm25({FTS}, 0.0, 1.0, {TITLE_WEIGHT})"
    match = {
        "tables": [INDEX, FTS],
        "where": [
            f"{FTS} MATCH %s",
            f"{FTS}.rowid = {INDEX}.id",
            # The unary + keeps SQLite from reaching the index table through its content type
            # index and probing FTS5 once per row; the MATCH must drive the query.
            f"+{INDEX}.content_type_id = %s",
            f"news_articlepage.page_ptr_id = CAST({INDEX}.object_id AS INTEGER)",
        ],
        "params": [fts5_query(terms, match_any), _article_content_type_id()],
    }
    return match, rank, []
