"""A query compiled once and run again with other values (masthead.caching.prepared) gives
exactly what the ORM gives for those values, and refuses what it cannot run as the ORM would."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.models import Count, Model, Prefetch
from django.db.models.signals import post_init, pre_init
from taggit.models import Tag
from wagtail.models import Page

from masthead.caching import config
from masthead.caching.prepared import (
    MAX_LIST,
    Compiled,
    Prepared,
    PreparedQueryError,
    _plainly_made,
)
from masthead.comments.models import Comment
from masthead.news import cards
from masthead.news.models import ArticleByline, ArticlePage

from .test_config import a_request


@pytest.fixture
def stories(desk, make_article, make_image):
    made = [
        make_article(desk.world, "First story", authors=[desk.ada, desk.ben], tags=["Gaza"], lead_image=make_image("One")),
        make_article(desk.world, "Second story", authors=[desk.ben], tags=["Gaza", "Aid"]),
        make_article(desk.politics, "Third story", authors=[desk.ada], lead_image=make_image("Three")),
    ]
    for article in made[:2]:
        Comment.objects.create(article=article, author_name="Reader", author_email="r@example.org", body="Yes.",
                               state=Comment.State.APPROVED)
    return made


def compiled_for(build, compile_with: tuple, run_with: tuple) -> tuple[list, list]:
    """What the ORM gives for `run_with`, and what the query compiled from `compile_with` does."""
    compiled = Compiled("test", build, compile_with, "default")
    return list(build(*run_with)), compiled.run(run_with)


def articles_named(slug, depth):
    return ArticlePage.objects.filter(slug=slug, depth=depth, live=True).select_related("lead_image")


def test_model_instances_with_their_related_objects(stories):
    first, second, third = stories
    expected, got = compiled_for(articles_named, (first.slug, first.depth), (third.slug, third.depth))
    assert [a.pk for a in got] == [a.pk for a in expected] == [third.pk]
    article = got[0]
    assert type(article) is ArticlePage and article._state.db == "default" and not article._state.adding
    assert (article.title, article.url_path, article.first_published_at, article.standfirst) == (
        third.title, third.url_path, third.first_published_at, third.standfirst)
    assert list(article.body.raw_data) == list(expected[0].body.raw_data)
    assert article.lead_image.title == "Three"  # loaded with the row: no query
    _, none = compiled_for(articles_named, (first.slug, first.depth), (second.slug, second.depth))
    assert none[0].pk == second.pk and none[0].lead_image is None


def test_named_rows_with_an_annotation_among_the_fields(stories):
    def live_among(ids):
        return cards.published_rows().filter(pk__in=ids).order_by("pk")

    ids = [a.pk for a in stories]
    expected, got = compiled_for(live_among, ([1, 2],), (ids[1:],))
    assert got == expected and len(got) == 2
    assert got[0]._fields == expected[0]._fields
    assert got[0].comment_count == 1 and got[0].lead_image__id is None


def test_dicts_tuples_flat_values_and_groups(stories):
    ids = [a.pk for a in stories]

    def as_dicts(pks):
        return ArticleByline.objects.filter(article_id__in=pks).order_by("pk").values("article_id", "author__name")

    def as_tuples(pks):
        return ArticleByline.objects.filter(article_id__in=pks).order_by("pk").values_list("article_id", "author__name")

    def flat(section_path, depth):
        return Page.objects.filter(path__gt=section_path, depth=depth).order_by("pk").values_list("pk", flat=True)

    def counted(article_id):
        return (Comment.objects.filter(article_id=article_id).order_by().values("article_id")
                .annotate(n=Count("pk")).values_list("n", "article_id"))

    for build, compile_with, run_with in [
        (as_dicts, ([7, 8, 9],), (ids,)),
        (as_tuples, ([7],), (ids[:1],)),
        (flat, ("0001", 2), (stories[0].path[:-4], stories[0].depth)),
        (counted, (99,), (ids[0],)),
        (counted, (99,), (ids[2],)),  # no comment: no group at all
    ]:
        expected, got = compiled_for(build, compile_with, run_with)
        assert got == expected, build.__name__
    assert compiled_for(counted, (1,), (ids[0],))[1] == [(1, ids[0])]


def test_a_constant_equal_to_a_stand_in_is_left_alone(stories):
    def build(pk):
        return Page.objects.filter(pk=pk).exclude(depth=32_000).exclude(depth=31_000).values_list("pk", flat=True)

    expected, got = compiled_for(build, (5,), (stories[1].pk,))
    assert got == expected == [stories[1].pk]


def test_what_the_orm_rewrites_or_prefetches_is_refused(stories):
    with pytest.raises(PreparedQueryError, match="rewritten"):
        Compiled("like", lambda path: Page.objects.filter(path__startswith=path), ("0001",), "default")
    # SQLite's __iexact escapes its value for a LIKE: refused. PostgreSQL's compares UPPER()s
    # in SQL and sends the value as it is: prepared, and as exact as the ORM.
    def by_slug(slug):
        return Page.objects.filter(slug__iexact=slug).values_list("pk", flat=True)

    if connection.vendor == "sqlite":
        with pytest.raises(PreparedQueryError, match="rewritten"):
            Compiled("iexact", by_slug, ("home",), "default")
    else:
        for slug in (stories[0].slug.upper(), "first%", "first_story"):
            assert Compiled("iexact", by_slug, ("home",), "default").run((slug,)) == list(by_slug(slug))
    with pytest.raises(PreparedQueryError, match="prefetch"):
        Compiled("prefetch", lambda pk: ArticlePage.objects.filter(pk=pk).prefetch_related(Prefetch("bylines")),
                 (1,), "default")
    with pytest.raises(PreparedQueryError, match="changes with the values"):
        Compiled("shape", lambda word: Page.objects.filter(title=word) if "-a" in word else Page.objects.all(),
                 ("x",), "default")


def test_values_it_cannot_vouch_for_go_through_the_orm(stories, django_assert_num_queries):
    calls = []

    def build(ids):
        calls.append(ids)
        return ArticlePage.objects.filter(pk__in=ids).order_by("pk").values_list("pk", flat=True)

    by_ids = Prepared("test:fallback", build)
    with django_assert_num_queries(0):
        assert by_ids([]) == []  # the ORM knows an empty IN needs no query
    many = [a.pk for a in stories] + list(range(10_000, 10_000 + MAX_LIST))
    assert by_ids(many) == [a.pk for a in stories]
    assert calls == [[], many]  # built once each, with the real values: not compiled
    by_id = Prepared("test:huge", lambda pk: Page.objects.filter(pk=pk).values_list("pk", flat=True))
    with django_assert_num_queries(0):
        assert by_id(2**63) == []  # beyond any id column: the ORM answers without the database
    live = Prepared("test:bool", lambda pk, flag: Page.objects.filter(pk=pk, live=flag).values_list("pk", flat=True))
    assert live(stories[0].pk, True) == [stories[0].pk] and live(stories[0].pk, False) == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_compiled_once_per_generation_and_never_inside_a_transaction(stories):
    builds = []

    def build(slug, depth):
        builds.append(slug)
        return articles_named(slug, depth)

    named = Prepared("test:remembered", build)
    first, second, third = stories
    with a_request():
        assert [a.pk for a in named(first.slug, first.depth)] == [first.pk]
        assert len(builds) == 2  # two sets of stand-ins, and no build with the real values
        assert [a.pk for a in named(third.slug, third.depth)] == [third.pk]
        assert named("no-such-story", 3) == []
        assert len(builds) == 2  # the same SQL, run with other values
    config.bump()  # the site's structure changed: compiled again, for the new generation
    with a_request():
        assert [a.pk for a in named(second.slug, second.depth)] == [second.pk]
        assert len(builds) == 4
        with transaction.atomic():
            assert [a.pk for a in named(second.slug, second.depth)] == [second.pk]
            assert len(builds) == 6  # within a transaction nothing is reused or kept
        assert [a.pk for a in named(first.slug, first.depth)] == [first.pk]
        assert len(builds) == 6


def shown_comments(article_id):
    return Comment.objects.filter(article_id=article_id).order_by("pk")


def test_plain_models_are_filled_without_their_init_and_equal_the_orms(stories, monkeypatch):
    # Comment has no __init__ of its own and only plain descriptors: its instances are made by
    # filling their __dict__. They must be what the ORM makes, post_init receivers included
    # (masthead.caching.invalidation notes on each comment whether it was shown).
    first, second, _ = stories
    compiled = Compiled("test", shown_comments, (first.pk,), "default")
    inits = []
    real_init = Model.__init__

    def counting_init(self, *args, **kwargs):
        inits.append(type(self))
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(Model, "__init__", counting_init)
    got = compiled.run((second.pk,))
    assert inits == []  # not one Model.__init__
    monkeypatch.setattr(Model, "__init__", real_init)
    expected = list(shown_comments(second.pk))
    assert len(got) == len(expected) == 1
    mine, theirs = dict(vars(got[0])), dict(vars(expected[0]))
    for state in (mine.pop("_state"), theirs.pop("_state")):
        # The ORM's has an empty cache of related objects already (its foreign keys' setters
        # looked at it); a filled instance makes its own on first use.
        assert (state.adding, state.db, getattr(state, "fields_cache", {})) == (False, "default", {})
    assert mine == theirs and mine["_cache_was_shown"] is True
    assert got[0].article.pk == second.pk  # a foreign key still reads its row


def test_a_pre_init_receiver_gets_what_the_orm_would_give_it(stories):
    first, second, _ = stories
    compiled = Compiled("test", shown_comments, (first.pk,), "default")
    heard = []

    def receiver(sender, args, kwargs, **extra):
        heard.append((sender, len(args)))

    pre_init.connect(receiver, sender=Comment)
    try:
        got = compiled.run((second.pk,))
    finally:
        pre_init.disconnect(receiver, sender=Comment)
    assert heard == [(Comment, len(Comment._meta.concrete_fields))]
    assert got[0].pk == Comment.objects.get(article=second).pk


def test_models_with_their_own_init_or_converting_descriptors_go_through_it():
    from wagtail.images import get_image_model

    assert _plainly_made(Comment) and _plainly_made(Tag)
    assert not _plainly_made(get_image_model())  # AbstractImage has an __init__ of its own
    assert not _plainly_made(ArticlePage)  # modelcluster's __init__, and a StreamField's descriptor



def test_post_init_receivers_see_the_state_from_db_would_show_them(stories):
    # Model.from_db sets the state (not adding, its database) after __init__ and its post_init.
    first, second, _ = stories
    compiled = Compiled("test", shown_comments, (first.pk,), "default")
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append((instance._state.adding, instance._state.db))

    post_init.connect(receiver, sender=Comment)
    try:
        got = compiled.run((second.pk,))
        orm = list(shown_comments(second.pk))
    finally:
        post_init.disconnect(receiver, sender=Comment)
    assert seen[0] == seen[1] == (True, None)
    for made in (got[0], orm[0]):
        assert (made._state.adding, made._state.db) == (False, "default")


def test_a_filled_rendition_equals_the_orms(make_image):
    # Renditions are filled (news/renditions.py loads every picture's): an image file field,
    # whose descriptor and dimension receiver must leave them as the ORM does.
    from wagtail.images import get_image_model

    image = make_image("Rendered")
    rendition = image.get_rendition("fill-40x20")
    Rendition = get_image_model().get_rendition_model()

    def renditions_of(image_id):
        return Rendition.objects.filter(image_id=image_id)

    def deferred(image_id):
        return Rendition.objects.filter(image_id=image_id).only("file", "width")

    assert _plainly_made(Rendition)
    for build in (renditions_of, deferred):
        expected, got = compiled_for(build, (image.pk,), (image.pk,))
        mine, orm = dict(vars(got[0])), dict(vars(expected[0]))
        mine.pop("_state"), orm.pop("_state")
        assert mine == orm
    full, _ = compiled_for(renditions_of, (image.pk,), (image.pk,))
    shown = full[0]
    assert (shown.width, shown.height) == (rendition.width, rendition.height)
    assert shown.file.url == rendition.file.url
    assert "filter_spec" not in vars(got[0])  # deferred, as the ORM leaves it
