"""Django's SQLite backend, with each query's placeholder rewriting done once, not per run.

Django writes SQL with `%s` placeholders; Python's sqlite3 wants `?`. Django's SQLite cursor
rewrites every query with a regular expression (`(?<!%)%s`), which steps through the whole SQL
text a character at a time, on every execution. The queries of a page are the same texts each
time (masthead.caching.prepared runs the same SQL strings again, with new values), so the
rewritten text is remembered per query text. Measured on the uncached seed article (13 queries,
13,000 characters of SQL): the rewriting was 8 % of the request's instructions under callgrind
(bench/render_split.py --instructions) and 0.46 ms a request in a timed loop on a slow machine;
remembered, it costs a dictionary lookup. Named-parameter queries and very long texts (bulk
inserts) are rewritten as Django does, every time. PostgreSQL needs none of this: psycopg
keeps its own cache of converted queries.
"""

from __future__ import annotations

import functools

from django.db.backends.sqlite3 import base

# Bounds what is remembered: 512 texts of at most 8,000 characters, each kept with its rewritten
# copy, about 8 MB a process at worst (more if the SQL holds non-Latin characters); a page's
# queries are a few dozen texts of 1,000-4,000 characters, and the least recently used go first.
REMEMBERED = 512
LONGEST = 8_000


class CursorWrapper(base.SQLiteCursorWrapper):
    def convert_query(self, query: str, *, param_names: list | None = None) -> str:
        if param_names is None and len(query) <= LONGEST:
            return _qmark(query)
        return super().convert_query(query, param_names=param_names)


@functools.lru_cache(maxsize=REMEMBERED)
def _qmark(query: str) -> str:
    """Django's "format" to "qmark" rewriting (SQLiteCursorWrapper.convert_query), remembered."""
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


class DatabaseWrapper(base.DatabaseWrapper):
    def create_cursor(self, name=None):
        return self.connection.cursor(factory=CursorWrapper)
