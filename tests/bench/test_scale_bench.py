"""bench/dataset.py (the generator bench/peers_bench.py and bench/scale_bench.py share) and
bench/scale_bench.py's own steps, at a tiny size, so the benchmark cannot rot between runs.

The generator runs on this run's test database (SQLite or PostgreSQL): 30 articles with bylines,
tags, comments and related_ids, counted, then served. The database helpers scale_bench.py uses to
create and drop its PostgreSQL database run against the loopback server (--pg-url's default):
skipped without PostgreSQL, except under CI=true, where that is a failure.
"""

from __future__ import annotations

import os
import random

import pytest

PG_URL = os.environ.get("MASTHEAD_SCALE_PG_URL", "postgres://postgres@127.0.0.1:5432")


@pytest.fixture
def bench_modules(on_bench_path):
    import dataset
    import scale_bench

    return dataset, scale_bench


def test_generator_counts_and_pages(bench_modules, desk, client):
    from django.conf import settings
    from taggit.models import Tag
    from wagtail.models import Page

    from masthead.comments.models import Comment
    from masthead.news.models import ArticleByline, ArticlePage, ArticleTag, Author, SectionPage

    dataset, scale_bench = bench_modules
    before = {
        "articles": ArticlePage.objects.count(),
        "comments": Comment.objects.count(),
        "bylines": ArticleByline.objects.count(),
        "tagged": ArticleTag.objects.count(),
        "authors": Author.objects.count(),
        "last_pk": Page.objects.order_by("-pk").values_list("pk", flat=True).first(),
    }
    made = dataset.generate(
        30,
        2.0,
        rnd=random.Random(7),
        extra_authors=6,
        tag_names=20,
        section_weights={"world": 20.0},
        prolific=(2, 0.8),
        related=True,
        batch=8,  # several batches
        body_words=(60, 120),
    )

    assert made["generated"] == 30
    assert sum(made["per_section"].values()) == 30
    assert made["per_section"]["world"] > made["per_section"]["politics"]
    assert ArticlePage.objects.count() == before["articles"] + 30
    assert ArticlePage.objects.live().count() == before["articles"] + 30
    assert Comment.objects.count() == before["comments"] + made["generated_comments"]
    assert ArticleByline.objects.count() == before["bylines"] + made["generated_bylines"] >= before["bylines"] + 30
    assert ArticleTag.objects.count() == before["tagged"] + made["generated_tags"] >= before["tagged"] + 30
    assert Author.objects.count() == before["authors"] + 6
    assert Tag.objects.exists()
    assert len(made["prolific_authors"]) == 2
    prolific = ArticleByline.objects.filter(author__slug__in=made["prolific_authors"]).count()
    assert prolific > made["generated_bylines"] / 2  # they wrote most of them

    # The tree is consistent: paths, depths and numchild as treebeard keeps them.
    assert Page.find_problems() == ([], [], [], [], [])
    for section in SectionPage.objects.all():
        assert section.numchild == section.get_children().count()
    generated = list(ArticlePage.objects.filter(pk__gt=before["last_pk"]))
    assert len(generated) == 30
    ids = {a.pk for a in generated}
    assert any(article.related_ids for article in generated)
    for article in generated:
        assert article.word_count > 50
        assert article.last_published_at is not None  # the sitemaps' lastmod
        assert set(article.related_ids) <= ids and article.pk not in article.related_ids

    # What scale_bench.py times: the article, section and author pages it picks answer 200.
    targets = scale_bench.target_pages("world", made["prolific_authors"])
    assert targets["author_articles"] > 0
    for path in (targets["article_path"], targets["section_path"], targets["author_path"], "/feeds/rss/"):
        assert client.get(path).status_code == 200, path
    sitemap = client.get("/sitemaps/articles-1.xml")
    assert sitemap.status_code == 200
    assert sitemap.content.count(b"<lastmod>") >= 30
    assert settings.MASTHEAD_PAGE_SIZE > 0


def test_pagination_link_discovery_and_percentiles(bench_modules):
    _, scale_bench = bench_modules
    html = '<ul><li><a rel="prev" href="?page=1">Newer</a></li><li><a rel="next" href="?before=2026-01-01T00%3A00%3A00Z&amp;id=9">Older articles</a></li></ul>'
    assert scale_bench.next_link(html) == "?before=2026-01-01T00%3A00%3A00Z&id=9"
    assert scale_bench.next_link('<a href="?page=3" rel="next">Older</a>') == "?page=3"
    assert scale_bench.next_link("<p>one page</p>") is None
    values = sorted(float(v) for v in range(1, 201))
    assert scale_bench.percentile(values, 50) == 100.0
    assert scale_bench.percentile(values, 99) == 198.0
    assert scale_bench.parse_args(["--articles", "30", "--db", "masthead_scale_t"]).articles == 30


def postgres_unreachable() -> str:
    try:
        import psycopg

        psycopg.connect(
            PG_URL.replace("postgres://", "postgresql://", 1) + "/postgres", connect_timeout=3
        ).close()
    except Exception as exc:  # noqa: BLE001
        return f"PostgreSQL at {PG_URL} is not reachable: {str(exc).splitlines()[0] if str(exc) else exc!r}"
    return ""


def test_postgres_database_helpers(bench_modules):
    """Create, find and drop a database the way scale_bench.py's build and --drop do."""
    reason = postgres_unreachable()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}, and CI=true requires it")
        pytest.skip(reason)
    _, scale_bench = bench_modules
    name = f"masthead_scale_t{os.getpid()}"
    scale_bench.pg_admin(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    try:
        scale_bench.pg_admin(PG_URL, f'CREATE DATABASE "{name}"')
        assert scale_bench.database_exists(PG_URL, name)
        assert scale_bench.database_url(PG_URL, name).endswith(f"/{name}")
    finally:
        scale_bench.pg_admin(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    assert not scale_bench.database_exists(PG_URL, name)
