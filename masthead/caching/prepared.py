"""Hot queries compiled to SQL once per process, then run again with new values.

On an uncached article page Django's ORM cost half the render, and almost none of it was the
database: building a queryset (cloning it at each `filter()`) and compiling it to SQL took
longer than running it. The "More in <section>" card query took 1.7 ms through the ORM, of
which SQLite running it and converting its rows was 0.46 ms. Yet every request runs the same
few queries, with only the ids, paths and slugs changed.

A `Prepared` query is written as an ordinary queryset, built by a function of its values.
The first call builds and compiles it twice, with two sets of stand-in values, and notes
where each value's stand-ins landed among the SQL's parameters. Every call then puts the real
values there and runs the SQL directly, turning rows into what the queryset would have given:
model instances (with their select_related objects), dicts, tuples, named tuples or flat
values.

Safe because:
- a stand-in must reach the parameters exactly as given. A value the ORM rewrites (the pattern
  of a `__startswith`, a date adapted for the database) is refused when the query is first
  compiled, so what is run is always what Django would have sent;
- only `int` (within 32 bits) and `str` values, and lists of such `int`, are accepted, and
  each type and list length compiles separately, since they change the SQL;
- the SQL is remembered per database and per generation of the site structure
  (masthead.caching.config), so a query that depends on the private paths is compiled again
  when they change, and never within an open transaction, whose changes may yet be undone;
- anything the shortcut cannot reproduce (prefetches, an empty list, which the ORM turns into
  no query at all) goes through the ORM as before.

It relies on parts of Django's compiler that are not public API (`klass_info`,
`get_related_populators`, `get_converters`), as Django's own iterables use them; Django is
pinned, and tests/caching/test_prepared.py compares every shape with the ORM's own results on
both databases.
"""

from __future__ import annotations

import functools
import inspect
import threading
from typing import Any, Callable

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.db.models.base import ModelState
from django.db.models.fields.files import FileDescriptor, ImageFileDescriptor
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query import (
    FlatValuesListIterable,
    ModelIterable,
    NamedValuesListIterable,
    ValuesIterable,
    ValuesListIterable,
    get_related_populators,
)
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init
from django.db.models.utils import create_namedtuple_class

from . import config

MAX_LIST = 64  # longer lists are rare (a full page of cards is 20-30) and go through the ORM
MAX_SHAPES = 128  # compiled variants kept per query (types, list lengths): a few KB each
# Stand-ins, in two sets: each is compiled, and a parameter is a value's slot only where the two
# differ as their stand-ins do, so a constant of the query can never be mistaken for a value.
# Integers stay within a small-integer column's range: the ORM answers an out-of-range value
# without asking the database (EmptyResultSet), and would never show where it goes. Texts hold
# the characters a LIKE escapes (% _ \\), upper case and a non-ASCII letter, so a lookup that
# escapes or folds its value (SQLite's __iexact) changes them and is refused.
_INT_MARKS = (32_000, 31_000)
_STR_MARKS = ("\x1eMasthead%_\\É-a{}\x1e", "\x1eMasthead%_\\É-b{}\x1e")
# Real integers beyond 32 bits go through the ORM, which knows which columns they cannot match.
_INT_RANGE = range(-(2**31), 2**31)


class PreparedQueryError(TypeError):
    """A query the shortcut cannot run exactly as the ORM would: a mistake in our code."""


class Prepared:
    """A queryset, built by `build(*values)`, compiled once and run as plain SQL thereafter.

    `build` must hand its values to the ORM and never look at them (it is run with stand-ins),
    and may depend on nothing else but the site structure: never on the request.
    """

    def __init__(self, name: str, build: Callable[..., QuerySet], *, using: str = DEFAULT_DB_ALIAS):
        self.name = name
        self.build = build
        self.using = using
        self._compiled: dict[tuple, tuple[int, Compiled]] = {}
        self._lock = threading.Lock()

    def __call__(self, *values: Any) -> list:
        """The rows `list(build(*values))` would give."""
        shape = _shape(values)
        if shape is None:
            return list(self.build(*values))
        connection = connections[self.using]
        # Within a transaction the structure may be changing: compile afresh, remember nothing.
        # Such calls (and calls outside a request) cost about two compiles, twice the ORM's
        # price; they are rare (commands, an editor's publish), and they keep every test, run
        # in a transaction, on the path readers' pages take.
        current = None if connection.in_atomic_block else config.generation()
        key = (connection.vendor, shape)
        hit = self._compiled.get(key)
        if current is not None and hit is not None and hit[0] == current:
            return hit[1].run(values, connection)
        try:
            compiled = Compiled(self.name, self.build, values, self.using)
        except EmptyResultSet:  # the query needs no database at all: the ORM knows what to give
            return list(self.build(*values))
        if current is not None:
            with self._lock:
                if key not in self._compiled and len(self._compiled) >= MAX_SHAPES:
                    self._compiled.pop(next(iter(self._compiled)), None)
                self._compiled[key] = (current, compiled)
        return compiled.run(values, connection)


def _shape(values: tuple) -> tuple | None:
    """What of the values changes the SQL (their types, list lengths); None when the ORM must
    run the query itself: an empty or long list, or a type whose adaptation we cannot vouch for."""
    shape = []
    for value in values:
        if type(value) is str or (type(value) is int and value in _INT_RANGE):
            shape.append(type(value).__name__)
        elif (
            type(value) in (list, tuple)
            and 0 < len(value) <= MAX_LIST
            and all(type(v) is int and v in _INT_RANGE for v in value)
        ):
            shape.append(len(value))
        else:
            return None
    return tuple(shape)


def _stand_ins(values: tuple, which: int) -> list:
    """A distinct, recognisable value in place of each value (and each list item)."""
    made, n = [], 0
    for value in values:
        if type(value) in (list, tuple):
            made.append([_INT_MARKS[which] + n + k for k in range(len(value))])
            n += len(value)
        else:
            made.append(_INT_MARKS[which] + n if type(value) is int else _STR_MARKS[which].format(n))
            n += 1
    return made


class Compiled:
    """One shape of a prepared query: its SQL, where the values go, and how rows become results."""

    def __init__(self, name: str, build: Callable[..., QuerySet], values: tuple, using: str):
        queryset = build(*_stand_ins(values, 0))
        if queryset._prefetch_related_lookups or queryset._known_related_objects:
            raise PreparedQueryError(f"prepared query {name!r}: prefetches and related managers are not supported")
        self.using = using
        compiler = queryset.query.get_compiler(using=using)
        self.sql, params = compiler.as_sql()
        self.params = list(params)
        other_sql, other_params = build(*_stand_ins(values, 1)).query.get_compiler(using=using).as_sql()
        if other_sql != self.sql or len(other_params) != len(params):
            raise PreparedQueryError(f"prepared query {name!r}: its SQL changes with the values")
        self.slots = _find_slots(name, self.params, list(other_params), values)
        fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
        # (position, converters, expression) per column the database gives in its own form
        # (dates as text on SQLite, JSON): functions of the value and the connection's
        # settings, so those found with this thread's connection serve every thread.
        self.converters = [(position, *found) for position, found in compiler.get_converters(fields).items()]
        # Columns added only for the ordering are dropped, as the ORM does.
        self.width = compiler.col_count if compiler.has_extra_select else None
        self.make = _row_maker(name, queryset, compiler, using)

    def run(self, values: tuple, connection=None) -> list:
        """The rows for these values; `connection` is this query's database connection when the
        caller has it already (each `connections[alias]` is a context-local read)."""
        connection = connection if connection is not None else connections[self.using]
        params = self.params.copy()
        for index, value_index, item in self.slots:
            params[index] = values[value_index] if item is None else values[value_index][item]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if self.width is not None:
            rows = [row[: self.width] for row in rows]
        if self.converters:
            rows = _converted(rows, self.converters, connection)
        return self.make(rows)


def _converted(rows: list, converters: list, connection) -> list:
    """The rows with their values in Python's form, as the compiler's apply_converters does."""
    done = []
    for row in rows:
        row = list(row)
        for position, functions, expression in converters:
            value = row[position]
            for function in functions:
                value = function(value, expression, connection)
            row[position] = value
        done.append(row)
    return done


def _find_slots(name: str, params: list, other: list, values: tuple) -> list[tuple[int, int, int | None]]:
    """(parameter index, value index, list item or None) for each value in `params`, which were
    compiled from the first set of stand-ins, and `other`, from the second."""
    places: dict[tuple[Any, Any], tuple[int, int | None]] = {}
    for value_index, (mark, other_mark) in enumerate(zip(_stand_ins(values, 0), _stand_ins(values, 1))):
        if isinstance(mark, list):
            places.update({pair: (value_index, item) for item, pair in enumerate(zip(mark, other_mark))})
        else:
            places[(mark, other_mark)] = (value_index, None)
    slots, found = [], set()
    for index, pair in enumerate(zip(params, other)):
        if pair[0] == pair[1]:
            continue  # a constant of the query
        if pair not in places or type(pair[0]) is not type(pair[1]):
            raise PreparedQueryError(f"prepared query {name!r}: a value reaches the SQL rewritten ({pair[0]!r})")
        slots.append((index, *places[pair]))
        found.add(pair)
    if len(found) != len(places):
        raise PreparedQueryError(f"prepared query {name!r}: some values do not reach the SQL")
    return slots


def _row_maker(name: str, queryset: QuerySet, compiler, using: str) -> Callable[[Any], list]:
    """What turns converted rows into the queryset's own results, as its iterable class does
    (Django 5.2's: the columns come in the order the results name them)."""
    query = queryset.query
    kind = queryset._iterable_class
    if kind is ModelIterable:
        return _model_maker(compiler, using)
    if kind is FlatValuesListIterable:
        return lambda rows: [row[0] for row in rows]
    if kind is ValuesListIterable:
        return lambda rows: [tuple(row) for row in rows]
    if kind is ValuesIterable:
        names = list(query.selected) if query.selected else [*query.extra_select, *query.values_select, *query.annotation_select]
        return lambda rows: [dict(zip(names, row)) for row in rows]
    if kind is NamedValuesListIterable:
        names = queryset._fields or [*query.extra_select, *query.values_select, *query.annotation_select]
        record = create_namedtuple_class(*names)
        return lambda rows: [tuple.__new__(record, row) for row in rows]
    raise PreparedQueryError(f"prepared query {name!r}: results of {kind.__name__} are not supported")


def _model_maker(compiler, using: str) -> Callable[[Any], list]:
    """Model instances with their select_related objects and annotations, as ModelIterable
    makes them (its populators are worked out once here, not on every run)."""
    select, klass_info, annotation_col_map = compiler.select, compiler.klass_info, compiler.annotation_col_map
    model = klass_info["model"]
    start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    init_list = [f[0].target.attname for f in select[start:end]]
    populators = get_related_populators(klass_info, select, using)
    annotations = list(annotation_col_map.items())

    def make(rows) -> list:
        made = []
        from_db = _instance_maker(model, init_list, using)  # per run: receivers may come and go
        for row in rows:
            obj = from_db(row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            for attr, position in annotations:
                setattr(obj, attr, row[position])
            made.append(obj)
        return made

    return make


# The descriptors that store a value given to them in the instance's __dict__ under the field's
# attname and nothing else (a file's wraps it only when read; a foreign key's id clears a cached
# related object, which a new instance does not have).
_PLAIN_DESCRIPTORS = (DeferredAttribute, ForeignKeyDeferredAttribute, FileDescriptor, ImageFileDescriptor)


def _instance_maker(model, attnames: list[str], using: str | None) -> Callable[[Any], Any]:
    """`model.from_db(using, attnames, values)` as a function of the values.

    For a model whose __init__ would do no more than put each value in the instance's __dict__
    (`_plainly_made`), with no pre_init receiver now, the instance is filled directly: its
    state, then its values, then post_init, as Model.__init__ does, without its loop over every
    field through setattr (about 3 % of an uncached article page's instructions: its comments,
    renditions and tags). Any other model is made by its own from_db."""
    if not _plainly_made(model) or pre_init.has_listeners(model):
        return functools.partial(model.from_db, using, attnames)
    new = object.__new__

    def from_db(values) -> Any:
        obj = new(model)
        state = ModelState()
        fields = obj.__dict__
        fields["_state"] = state
        fields.update(zip(attnames, values))
        post_init.send(sender=model, instance=obj)
        # As Model.from_db: a post_init receiver sees the state __init__ left, a new instance's.
        state.adding = False
        state.db = using
        return obj

    return from_db


@functools.cache
def _plainly_made(model) -> bool:
    """Whether `Model.__init__` would do no more for this model than put each value in the
    instance's __dict__: no __init__, __new__ or __setattr__ of its own anywhere in its classes
    (Wagtail's images have an __init__), no metaclass that makes instances its own way, no
    from_db of its own, and only plain descriptors on its fields (a StreamField's, say, converts
    what it is given). Kept per model: models and their fields are fixed once Django is set up."""
    if type(model).__call__ is not type.__call__:
        return False
    own = ("__init__", "__new__", "__setattr__")
    if any(name in vars(klass) for klass in model.__mro__ if klass not in (Model, object) for name in own):
        return False
    if model.from_db.__func__ is not Model.from_db.__func__:
        return False
    return all(
        type(inspect.getattr_static(model, field.attname, None)) in _PLAIN_DESCRIPTORS
        for field in model._meta.concrete_fields
    )
