"""masthead's SQLite backend (masthead/sqlite): Django's, with each query's placeholder
rewriting remembered, and nothing else changed."""

from __future__ import annotations

import contextlib
import sqlite3

import pytest
from django.db import connection
from django.db.backends.sqlite3 import base as django_sqlite

from masthead.sqlite import base

TEXTS = [
    "SELECT 1",
    "SELECT %s",
    "SELECT a FROM t WHERE b = %s AND c IN (%s, %s)",
    "SELECT '100%%' || %s",  # a literal percent sign, doubled
    "SELECT '%%s' || %s",  # a literal "%s", which is not a placeholder
    "SELECT %s || '%%%%'",
    "SELECT 'É' || %s || 'x%%'",
]


def django_rewrite(query: str) -> str:
    with contextlib.closing(sqlite3.connect(":memory:")) as database:
        return database.cursor(factory=django_sqlite.SQLiteCursorWrapper).convert_query(query)


@pytest.fixture
def ours():
    """A cursor of masthead's backend on a database of its own (no Django connection)."""
    with contextlib.closing(sqlite3.connect(":memory:")) as database:
        yield database.cursor(factory=base.CursorWrapper)


@pytest.fixture
def fresh():
    base._qmark.cache_clear()
    yield
    base._qmark.cache_clear()


@pytest.mark.parametrize("query", TEXTS)
def test_queries_are_rewritten_as_django_rewrites_them(fresh, ours, query):
    assert ours.convert_query(query) == django_rewrite(query)


def test_a_query_text_is_rewritten_once(fresh, ours, monkeypatch):
    runs = []
    pattern = django_sqlite.FORMAT_QMARK_REGEX

    class Counting:
        def sub(self, replacement, text):
            runs.append(text)
            return pattern.sub(replacement, text)

    monkeypatch.setattr(django_sqlite, "FORMAT_QMARK_REGEX", Counting())
    query = "SELECT a FROM t WHERE b = %s"
    for _ in range(3):
        assert ours.convert_query(query) == "SELECT a FROM t WHERE b = ?"
    assert runs == [query]


def test_long_texts_and_named_parameters_are_rewritten_as_django_does_every_time(fresh, ours):
    long = "SELECT " + ", ".join(["%s"] * (base.LONGEST // 3))
    assert len(long) > base.LONGEST
    assert ours.convert_query(long) == django_rewrite(long)
    named = "SELECT %(a)s, %(b)s"
    assert ours.convert_query(named, param_names=["a", "b"]) == "SELECT :a, :b"
    assert base._qmark.cache_info().currsize == 0  # neither was remembered


@pytest.mark.django_db
def test_the_sqlite_connection_uses_it():
    if connection.vendor != "sqlite":
        pytest.skip("the PostgreSQL pass runs psycopg, which keeps its own converted queries")
    assert connection.settings_dict["ENGINE"] == "masthead.sqlite"
    with connection.cursor() as cursor:
        assert type(cursor.cursor) is base.CursorWrapper
        cursor.execute("SELECT %s || '%%', '%%s'", ["5"])
        assert cursor.fetchone() == ("5%", "%s")
