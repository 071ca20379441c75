#!/usr/bin/env python3
"""Search latency at scale: p50/p95/p99 of /search/ with N articles, on SQLite and PostgreSQL.

What it does, for each database asked for (--database sqlite, postgres or both, one after the
other so the two never compete for the CPU):

1. makes a throwaway installation: a temporary MASTHEAD_DATA_DIR for SQLite, or a database
   masthead_bench_<random> on --pg-url (loopback only), created and dropped here with psycopg;
2. in a child process (Django is configured once per process), migrates it and builds
   --articles articles fast: sections, authors and tags through the ORM; pages with their tree
   paths through bulk_create; article rows, bylines, tags, further sections and one search
   index row per article as batched INSERTs. The index rows are written the way Wagtail's
   database backend writes them (tsvectors with the same weights and concatenation on
   PostgreSQL; the same joined texts on SQLite, where Wagtail's triggers fill the FTS5 table),
   and a random sample is then re-indexed through the backend itself and compared, so the
   benchmark fails rather than measure an index Wagtail would not have built. Text is drawn
   from a Zipf distribution over the demo's real news vocabulary plus a long tail of made-up
   names, ~450 words per article, so there are common, middling and rare words to look for;
3. PostgreSQL: VACUUM ANALYZE (as autovacuum would); SQLite: an FTS5 'optimize' and no
   ANALYZE (masthead never runs it, so its queries must plan well without statistics); warms
   up, and times --queries varied searches (single common/mid/rare words, two and three word
   queries, author names, tags, with section/author/date filters, deeper pages):
   * "page": the whole /search/ request through Django's test client (URL routing, form,
     count, ranked page, card data, snippets, template), which is what a reader waits for
     minus the network;
   * "engine": the database part alone (the count and the ids of the first page);
4. times the article page's related reading (`related.reading()`) and the on-publish
   computation of related ids (`related.compute_related_ids()`) for a sample of articles;
5. with --compare-wagtail (the default), times a sample of the same queries through Wagtail's
   own `QuerySet.search()` for comparison, each aborted after --wagtail-timeout seconds.

It prints a Markdown table for BENCHMARKS.md (and --json FILE writes the raw numbers). The
installation is removed at the end (--keep keeps it). Exit status 0 on success, 1 if a child
failed or timed out, 2 on bad arguments.

    .venv/bin/python bench/search_bench.py --articles 100000
    .venv/bin/python bench/search_bench.py --articles 5000 --database sqlite --queries 50
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

# bench/harness.py (shared with the other benchmarks): bench/ is on sys.path when this runs as a
# script; imported from elsewhere, it is put there.
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from harness import REPO  # noqa: E402

LOOPBACK = {"127.0.0.1", "localhost", "::1", ""}

log = harness.logger("search-bench")


# --------------------------------------------------------------------------------------------
# Parent: installations, child processes, the report


def pg_conninfo(url: str, dbname: str) -> str:
    parts = urllib.parse.urlsplit(url.replace("postgres://", "postgresql://", 1))
    return urllib.parse.urlunsplit(("postgresql", parts.netloc, "/" + dbname, parts.query, ""))


def check_loopback(url: str) -> None:
    host = urllib.parse.urlsplit(url.replace("postgres://", "postgresql://", 1)).hostname or ""
    if host not in LOOPBACK:
        raise SystemExit(f"--pg-url must point at this machine (127.0.0.1/localhost), not {host!r}")


def machine() -> dict:
    import sqlite3

    return {
        "nproc": os.cpu_count(),
        "cpu": harness.cpu_model() or platform.processor(),
        "ram": harness.memory_total(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "date": time.strftime("%Y-%m-%d"),
    }


def run_child(args, database: str) -> dict | None:
    data_dir = Path(tempfile.mkdtemp(prefix=f"masthead-search-bench-{database}-"))
    result_file = data_dir / "result.json"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(
        MASTHEAD_DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="masthead.settings.test",  # DEBUG off, plain static files
        PYTHONUNBUFFERED="1",
    )
    pg_db = ""
    try:
        if database == "postgres":
            import psycopg

            pg_db = f"masthead_bench_{secrets.token_hex(5)}"
            with psycopg.connect(pg_conninfo(args.pg_url, "postgres"), autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'CREATE DATABASE "{pg_db}"')
            log(f"created PostgreSQL database {pg_db}")
            env["DATABASE_URL"] = pg_conninfo(args.pg_url, pg_db).replace("postgresql://", "postgres://", 1)
        command = [
            sys.executable, __file__, "--child", database,
            "--articles", str(args.articles), "--queries", str(args.queries), "--seed", str(args.seed),
            "--result-file", str(result_file), "--wagtail-sample", str(args.wagtail_sample),
            "--wagtail-timeout", str(args.wagtail_timeout),
        ]  # fmt: skip
        log(f"{database}: building {args.articles} articles and timing {args.queries} queries in {data_dir}")
        started = time.monotonic()
        try:
            completed = subprocess.run(command, cwd=REPO, env=env, timeout=args.timeout, check=False)
        except subprocess.TimeoutExpired:
            log(f"{database}: gave up after --timeout {args.timeout} s")
            return None
        if completed.returncode != 0 or not result_file.exists():
            log(f"{database}: child failed with exit status {completed.returncode}")
            return None
        result = json.loads(result_file.read_text())
        result["wall_seconds"] = round(time.monotonic() - started, 1)
        return result
    finally:
        if args.keep:
            log(f"kept {data_dir}" + (f" and database {pg_db}" if pg_db else ""))
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
            if pg_db:
                import psycopg

                try:
                    with psycopg.connect(
                        pg_conninfo(args.pg_url, "postgres"), autocommit=True, connect_timeout=5
                    ) as conn:
                        conn.execute(f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)')
                    log(f"dropped PostgreSQL database {pg_db}")
                except Exception as exc:  # noqa: BLE001
                    log(f"WARNING: could not drop database {pg_db}: {exc}")


def ms(value: float | None) -> str:
    return "–" if value is None else (f"{value:.1f}" if value < 100 else f"{value:.0f}")


def report(args, results: dict[str, dict]) -> str:
    info = machine()
    lines = [
        f"- command: `.venv/bin/python bench/search_bench.py {' '.join(sys.argv[1:])}`",
        f"- machine: {info['nproc']} CPUs ({info['cpu']}), {info['ram']} RAM; Python {info['python']}, "
        f"SQLite {info['sqlite']}" + (f", {results['postgres']['server']}" if "postgres" in results else ""),
        f"- date: {info['date']}",
        "",
        "| database | articles | DB size | build (s) | queries | load avg | page p50 (ms) | page p95 | page p99 | engine p50 | engine p95 | engine p99 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in results.items():
        p, e = r["page"], r["engine"]
        lines.append(
            f"| {name} | {r['articles']:,} | {r['database_mb']:,} MB | {r['build_seconds']:.0f} | {r['queries']} | "
            f"{r['load_average'][0]}–{r['load_average'][1]} | {ms(p['p50'])} | {ms(p['p95'])} | "
            f"{ms(p['p99'])} | {ms(e['p50'])} | {ms(e['p95'])} | {ms(e['p99'])} |"
        )
    lines += ["", "Page latency (ms) by kind of query:", ""]
    kinds = sorted({k for r in results.values() for k in r["by_kind"]})
    lines.append("| kind | " + " | ".join(f"{n} p50 | {n} p95" for n in results) + " | results (median, counted up to 1,000) |")
    lines.append("| --- | " + " | ".join("---: | ---:" for _ in results) + " | ---: |")
    for kind in kinds:
        cells = []
        hits = []
        for r in results.values():
            k = r["by_kind"].get(kind)
            cells.append(f"{ms(k['p50'])} | {ms(k['p95'])}" if k else "– | –")
            if k:
                hits.append(str(k["median_hits"]))
        lines.append(f"| {kind} | " + " | ".join(cells) + f" | {' / '.join(hits)} |")
    lines += ["", "Related reading (ms):", ""]
    lines.append("| database | article page `reading()` p50 | p95 | on publish `compute_related_ids()` p50 | p95 |")
    lines.append("| --- | ---: | ---: | ---: | ---: |")
    for name, r in results.items():
        rd, cp = r["reading"], r["compute_related"]
        lines.append(f"| {name} | {ms(rd['p50'])} | {ms(rd['p95'])} | {ms(cp['p50'])} | {ms(cp['p95'])} |")
    if any(r.get("wagtail") for r in results.values()):
        lines += ["", "Wagtail's own `QuerySet.search()` on the same data (count + first page, same sample):", ""]
        lines.append("| database | sample | ours p50 | ours p95 | Wagtail p50 | Wagtail p95 | Wagtail aborted |")
        lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for name, r in results.items():
            w = r.get("wagtail")
            if w:
                lines.append(
                    f"| {name} | {w['sample']} | {ms(w['ours_p50'])} | {ms(w['ours_p95'])} | {ms(w['p50'])} | "
                    f"{ms(w['p95'])} | {w['aborted']} (>{args.wagtail_timeout:g} s) |"
                )
    return "\n".join(lines)


def parent(args) -> int:
    if args.database in {"postgres", "both"}:
        check_loopback(args.pg_url)
    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    results = {}
    failed = False
    for database in databases:
        result = run_child(args, database)
        if result is None:
            failed = True
            continue
        results[database] = result
        log(f"{database}: page p50 {ms(result['page']['p50'])} ms, p95 {ms(result['page']['p95'])} ms "
            f"(build {result['build_seconds']:.0f} s, total {result['wall_seconds']:.0f} s)")  # fmt: skip
    if results:
        print(report(args, results))
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine(), "results": results}, indent=2))
    return 1 if failed else 0


# --------------------------------------------------------------------------------------------
# Child: build the data and time the queries (runs with Django configured for one database)


def percentiles(samples: list[float]) -> dict:
    if not samples:
        return {"p50": None, "p95": None, "p99": None, "n": 0}
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]

    return {"p50": statistics.median(ordered), "p95": at(0.95), "p99": at(0.99), "n": len(ordered)}


class Corpus:
    """Deterministic fake news text: real words from the demo, Zipf-distributed, plus rare names."""

    SYLLABLES = "ka ro vi ne sa lu to mi da re po sha ki lo ve na zu te bi mo ra ni gu fe".split()

    def __init__(self, seed: int, rare_words: int = 36000):
        import random
        import re
        from collections import Counter
        from itertools import accumulate

        self.random = random.Random(seed)
        text = " ".join(p.read_text() for p in sorted((REPO / "masthead/demo/content/articles").glob("*.txt")))
        counts = Counter(w.lower() for w in re.findall(r"[A-Za-z][a-z]+", text))
        real = [w for w, _ in counts.most_common()]
        known = set(real)
        rare: list[str] = []
        seen: set[str] = set()
        while len(rare) < rare_words:
            word = "".join(self.random.choice(self.SYLLABLES) for _ in range(self.random.randint(3, 4)))
            if word not in seen and word not in known:
                seen.add(word)
                rare.append(word)
        self.words = real + rare
        self.real_count = len(real)
        self.cum = list(accumulate(1.0 / (rank + 2.7) for rank in range(len(self.words))))
        from masthead.news.related import STOPWORDS

        self.stopwords = STOPWORDS

    def draw(self, k: int) -> list[str]:
        return self.random.choices(self.words, cum_weights=self.cum, k=k)

    def content_words(self, k: int) -> list[str]:
        words = []
        while len(words) < k:
            words += [w for w in self.draw(k * 2) if w not in self.stopwords and len(w) > 2]
        return words[:k]

    def band(self, start: int, end: int) -> str:
        """A content word whose frequency rank is in [start, end)."""
        while True:
            word = self.words[self.random.randrange(start, min(end, len(self.words)))]
            if word not in self.stopwords and len(word) > 2:
                return word

    def sentence(self, k: int) -> str:
        words = self.draw(k)
        return " ".join(words).capitalize() + "."


BODY_PARTS = 9  # standfirst, body, up to 2 author names, up to 5 tags: the index's "body" texts


def index_sql(vendor: str) -> str:
    """One index row per article, written as Wagtail's database backend writes it.

    PostgreSQL: each text becomes setweight(to_tsvector(text), label) and the texts of a part
    are concatenated with ||, exactly as modelsearch's ObjectIndexer does (an empty text adds
    nothing, so fixed-arity SQL with '' for missing authors/tags is equivalent). SQLite: the
    texts joined with spaces; the FTS5 table is filled by Wagtail's triggers. `verify_index`
    compares a sample with what the backend itself writes.
    """
    if vendor == "postgresql":
        from modelsearch.backends.database.postgres.weights import get_weight

        from masthead.news.models import ArticlePage

        title_weight = get_weight(next(f.boost for f in ArticlePage.get_searchable_search_fields() if f.field_name == "title"))
        body_weight = get_weight(None)
        body = " || ".join([f"setweight(to_tsvector(COALESCE((%s)::text, '')), '{body_weight}')"] * BODY_PARTS)
        return (
            "INSERT INTO wagtailsearch_indexentry (content_type_id, object_id, title, autocomplete, body, title_norm,"
            " title_text, body_text) VALUES (%s, %s,"
            f" setweight(to_tsvector(COALESCE((%s)::text, '')), '{title_weight}'),"
            " setweight(to_tsvector('simple'::regconfig, COALESCE((%s)::text, '')), 'D'),"
            f" {body}, 1.0, %s, %s)"
        )
    return (
        "INSERT INTO wagtailsearch_indexentry (content_type_id, object_id, title, autocomplete, body, title_norm)"
        " VALUES (%s, %s, %s, %s, %s, 1.0)"
    )


def index_params(vendor: str, content_type_id: int, pk: int, title: str, texts: list[str]) -> tuple:
    if vendor == "postgresql":
        padded = texts + [""] * (BODY_PARTS - len(texts))
        return (content_type_id, str(pk), title, title, *padded, title, " ".join(t for t in texts if t.strip()))
    return (content_type_id, str(pk), title, title, " ".join(texts))


def verify_index(sample_pks: list[int]) -> None:
    """The bulk-written rows of a sample equal what Wagtail's backend writes for them."""
    from django.db import connection, transaction
    from wagtail.search.backends import get_search_backend
    from wagtail.search.models import IndexEntry

    from masthead.news.models import ArticlePage

    if connection.vendor == "postgresql":
        # Lexemes with their weights; positions can differ only by the order of the tags.
        columns = [
            f"(SELECT array_agg(lexeme || ':' || array_to_string(weights, ',') ORDER BY lexeme) FROM unnest({c}))"
            for c in ("title", "autocomplete", "body")
        ] + ["title_text", "body_text"]
    else:
        columns = ["title", "autocomplete", "body"]

    def read() -> dict:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT object_id, {', '.join(columns)} FROM wagtailsearch_indexentry WHERE object_id IN "
                f"({', '.join(['%s'] * len(sample_pks))})",
                [str(pk) for pk in sample_pks],
            )
            rows = {}
            for row in cursor.fetchall():
                values = list(row[1:])
                if connection.vendor == "postgresql":
                    values[-1] = sorted(values[-1].split())  # body_text: tag order aside
                else:
                    values[-1] = sorted(values[-1].split())
                rows[row[0]] = values
            return rows

    ours = read()
    with transaction.atomic():
        objs = list(ArticlePage.get_indexed_objects().prefetch_related("bylines__author").filter(pk__in=sample_pks))
        get_search_backend().add_bulk(ArticlePage, objs)
    theirs = read()
    if ours != theirs or len(ours) != len(sample_pks):
        for key in theirs:
            if ours.get(key) != theirs[key]:
                log(f"index mismatch for {key}:\n ours   {ours.get(key)}\n wagtail {theirs[key]}")
                break
        raise SystemExit("the bulk-written search index differs from what Wagtail writes")
    assert IndexEntry.objects.filter(object_id__in=[str(pk) for pk in sample_pks]).count() == len(sample_pks)


def build(n_articles: int, seed: int) -> dict:
    """Sections, authors and tags through the ORM; articles and their index rows in bulk."""
    import datetime as dt

    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction
    from django.utils import timezone
    from django.utils.text import slugify
    from taggit.models import Tag
    from wagtail.models import Locale, Page
    from wagtail.search.backends import get_search_backend

    from masthead.news.models import ArticleByline, ArticlePage, ArticleTag, Author, HomePage, SectionPage

    corpus = Corpus(seed)
    rnd = corpus.random
    vendor = connection.vendor
    started = time.monotonic()

    home = HomePage.objects.get()
    sections = []
    for title in ["World", "Politics", "Business", "Science", "Culture", "Sport", "Opinion", "Main Stories"]:
        section = SectionPage(title=title, slug=slugify(title), show_in_menus=True)
        home.add_child(instance=section)
        section.save_revision().publish()
        sections.append(section)
    for title, parent in [("Middle East", sections[0]), ("Europe", sections[0])]:
        section = SectionPage(title=title, slug=slugify(title), show_in_menus=False)
        parent.add_child(instance=section)
        section.save_revision().publish()
        sections.append(section)
    filing = sections[:7] + sections[8:]  # articles are filed everywhere but Main Stories
    filing_weights = [14, 12, 10, 7, 6, 8, 4, 8, 6]
    main_stories = sections[7]

    def person() -> str:
        return " ".join(
            "".join(rnd.choice(Corpus.SYLLABLES) for _ in range(rnd.randint(2, 3))).capitalize() for _ in range(2)
        )

    names = sorted({person() for _ in range(450)})[:400]
    authors = Author.objects.bulk_create([Author(name=name, slug=slugify(name), role="Reporter") for name in names])
    tag_names: set[str] = set()
    while len(tag_names) < 3000:
        tag_names.add(" ".join(corpus.band(40, 20000) for _ in range(rnd.choice([1, 1, 2]))).title())
    tags = Tag.objects.bulk_create([Tag(name=name, slug=slugify(name)) for name in sorted(tag_names)])
    rnd.shuffle(tags)
    from itertools import accumulate

    tag_cum = list(accumulate(1.0 / (rank + 1.5) for rank in range(len(tags))))
    author_cum = list(accumulate(1.0 / (rank + 5) for rank in range(len(authors))))

    content_type = ContentType.objects.get_for_model(ArticlePage)
    locale = Locale.get_default()
    now = timezone.now()
    span = dt.timedelta(days=5 * 365).total_seconds()
    next_position = {s.pk: s.numchild for s in sections}
    json_param = "%s::jsonb" if vendor == "postgresql" else "%s"
    article_sql = (
        "INSERT INTO news_articlepage (page_ptr_id, standfirst, lead_image_id, lead_image_caption, lead_image_credit,"
        f" body, comments_open, word_count, import_key, related_ids) VALUES (%s, %s, NULL, '', '', {json_param},"
        f" %s, %s, '', {json_param})"
    )
    entry_sql = index_sql(vendor)
    byline_sql = "INSERT INTO news_articlebyline (sort_order, article_id, author_id) VALUES (%s, %s, %s)"
    tag_sql = "INSERT INTO news_articletag (tag_id, content_object_id) VALUES (%s, %s)"
    further_sql = "INSERT INTO news_articlepage_additional_sections (articlepage_id, sectionpage_id) VALUES (%s, %s)"
    batch_size = 2000
    made = 0
    phase = {"generate": 0.0, "pages": 0.0, "rows": 0.0, "index": 0.0}
    while made < n_articles:
        count = min(batch_size, n_articles - made)
        t0 = time.monotonic()
        pages, extras = [], []
        for i in range(count):
            number = made + i + 1
            section = rnd.choices(filing, weights=filing_weights)[0]
            next_position[section.pk] += 1
            headline_words = corpus.content_words(rnd.randint(6, 11))
            title = " ".join(headline_words).capitalize()
            slug = f"{slugify(' '.join(headline_words[:6]))[:60]}-{number}"
            when = now - dt.timedelta(seconds=rnd.random() * span)
            pages.append(
                Page(
                    title=title, draft_title=title, slug=slug, content_type=content_type, locale=locale,
                    path=Page._get_path(section.path, section.depth + 1, next_position[section.pk]),
                    depth=section.depth + 1, numchild=0, url_path=f"{section.url_path}{slug}/",
                    live=True, has_unpublished_changes=False, first_published_at=when,
                    last_published_at=when, latest_revision_created_at=when,
                )  # fmt: skip
            )
            paragraphs = []
            remaining = rnd.randint(300, 600)
            while remaining > 0:
                size = min(remaining, rnd.randint(40, 90))
                paragraphs.append(corpus.sentence(size))
                remaining -= size
            standfirst = corpus.sentence(rnd.randint(18, 30))
            writers = list(dict.fromkeys(rnd.choices(authors, cum_weights=author_cum, k=rnd.choice([1, 1, 1, 2]))))
            chosen = list(dict.fromkeys(rnd.choices(tags, cum_weights=tag_cum, k=rnd.randint(2, 5))))
            extras.append((standfirst, paragraphs, writers, chosen, rnd.random() < 0.05))
        t1 = time.monotonic()
        with transaction.atomic():
            Page.objects.bulk_create(pages)
            t2 = time.monotonic()
            article_rows, entry_rows, byline_rows, tag_rows, further_rows = [], [], [], [], []
            for page, (standfirst, paragraphs, writers, chosen, further) in zip(pages, extras):
                body = [{"type": "paragraph", "value": f"<p>{p}</p>", "id": f"p{page.pk}-{j}"} for j, p in enumerate(paragraphs)]
                word_count = len(standfirst.split()) + sum(len(p.split()) for p in paragraphs)
                article_rows.append((page.pk, standfirst, json.dumps(body), True, word_count, "[]"))
                texts = [standfirst, ", ".join(paragraphs), *(a.name for a in writers), *(t.name for t in chosen)]
                entry_rows.append(index_params(vendor, content_type.pk, page.pk, page.title, texts))
                byline_rows += [(j, page.pk, a.pk) for j, a in enumerate(writers)]
                tag_rows += [(t.pk, page.pk) for t in chosen]
                if further:
                    further_rows.append((page.pk, main_stories.pk))
            with connection.cursor() as cursor:
                cursor.executemany(article_sql, article_rows)
                cursor.executemany(byline_sql, byline_rows)
                cursor.executemany(tag_sql, tag_rows)
                if further_rows:
                    cursor.executemany(further_sql, further_rows)
                t3 = time.monotonic()
                cursor.executemany(entry_sql, entry_rows)
        t4 = time.monotonic()
        for name, took in zip(phase, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
            phase[name] += took
        made += count
        if made % 10000 == 0 or made == n_articles:
            log(f"  {made} articles inserted and indexed ({time.monotonic() - started:.0f} s; "
                + ", ".join(f"{k} {v:.0f} s" for k, v in phase.items()) + ")")
    for section in sections:
        Page.objects.filter(pk=section.pk).update(numchild=next_position[section.pk])
    inserted = time.monotonic()

    backend = get_search_backend()
    index = backend.get_index_for_model(ArticlePage)
    index._refresh_title_norms(full=True)  # what a full `update_index` finishes with
    sample = list(ArticlePage.objects.order_by("?").values_list("pk", flat=True)[:5])
    verify_index(sample)  # re-indexes the sample through Wagtail, which refreshes their title norms
    log(f"  index verified against Wagtail's own indexing for articles {sample}")
    verified = time.monotonic()

    with connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")  # what autovacuum does on a live server
        else:
            # No ANALYZE: masthead never runs it on SQLite, so the planner works without
            # statistics there (and with them, Wagtail's view-restriction query on an empty
            # table turns into a scan of every page). FTS5 merges its segments as it grows;
            # 'optimize' stands in for a long-running site's merged index.
            cursor.execute("INSERT INTO wagtailsearch_indexentry_fts(wagtailsearch_indexentry_fts) VALUES('optimize')")
    analysed = time.monotonic()
    return {
        "corpus": corpus,
        "sections": sections,
        "authors": authors,
        "tags": tags,
        "timings": {
            **{k: round(v, 1) for k, v in phase.items()},
            "insert_and_index": round(inserted - started, 1),
            "verify_and_title_norms": round(verified - inserted, 1),
            "analyze": round(analysed - verified, 1),
        },
    }


def make_queries(built: dict, n: int, seed: int) -> list[tuple[str, dict]]:
    """(kind, GET parameters) for n varied searches, the same for both databases."""
    import random

    corpus = built["corpus"]
    rnd = random.Random(seed + 1)
    corpus.random = rnd
    real = corpus.real_count
    sections = built["sections"]
    authors = built["authors"]
    tags = built["tags"]
    mix = [
        ("1 common word", 36, lambda: {"q": corpus.band(30, 300)}),
        ("1 common word, page 3", 10, lambda: {"q": corpus.band(30, 300), "page": "3"}),
        ("1 mid word", 30, lambda: {"q": corpus.band(300, real)}),
        ("1 rare word", 20, lambda: {"q": corpus.band(real + 15000, real + 36000)}),
        ("2 words", 30, lambda: {"q": f"{corpus.band(30, 300)} {corpus.band(300, real)}"}),
        ("3 words", 20, lambda: {"q": f"{corpus.band(30, 300)} {corpus.band(30, 1000)} {corpus.band(300, real)}"}),
        ("author name", 14, lambda: {"q": rnd.choice(authors[:100]).name}),
        ("tag", 14, lambda: {"q": rnd.choice(tags[:300]).name}),
        ("word + section", 13, lambda: {"q": corpus.band(30, 1000), "section": str(rnd.choice(sections).pk)}),
        ("word + author", 6, lambda: {"q": corpus.band(30, 300), "author": rnd.choice(authors[:50]).slug}),
        ("word + date range", 7, lambda: _with_dates(rnd, {"q": corpus.band(30, 1000)})),
    ]
    queries = []
    for kind, weight, make in mix:
        queries += [(kind, make()) for _ in range(weight)]
    while len(queries) < n:
        queries += queries[: n - len(queries)]
    rnd.shuffle(queries)
    return queries[:n]


def _with_dates(rnd, params: dict) -> dict:
    import datetime as dt

    start = dt.date.today() - dt.timedelta(days=rnd.randint(60, 5 * 365))
    params.update({"from": start.isoformat(), "to": (start + dt.timedelta(days=365)).isoformat()})
    return params


def engine_time(params: dict) -> tuple[float, int]:
    """The database part of one search, as the view runs it: the count and the requested page."""
    from masthead.search import engine, views
    from masthead.search.forms import SearchForm

    started = time.perf_counter()
    form = SearchForm(params)
    assert form.is_valid(), form.errors
    terms = engine.terms_of(form.cleaned_data["q"])
    articles = views.filtered_articles(form)
    paginator = views.SearchPaginator(engine.search(articles, terms), engine.matching(articles, terms), views.per_page())
    total = paginator.count
    page = paginator.page(min(int(params.get("page", 1)), paginator.num_pages))
    list(page.object_list.values_list("pk", flat=True))
    return (time.perf_counter() - started) * 1000, total


def wagtail_time(params: dict, timeout: float) -> float | None:
    """The same search through Wagtail's QuerySet.search(): count + first page, or None if aborted."""
    from django.db import OperationalError, connection, transaction
    from django.db.utils import DatabaseError

    from masthead.news import queries

    qs = queries.published_articles().order_by()
    started = time.perf_counter()
    try:
        if connection.vendor == "postgresql":
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL statement_timeout = {int(timeout * 1000)}")
                results = qs.search(params["q"], operator="and")
                results.count()
                list(results[:20])
        else:
            deadline = time.perf_counter() + timeout
            connection.ensure_connection()
            connection.connection.set_progress_handler(lambda: int(time.perf_counter() > deadline), 10000)
            try:
                results = qs.search(params["q"], operator="and")
                results.count()
                list(results[:20])
            finally:
                connection.connection.set_progress_handler(None, 0)
    except (OperationalError, DatabaseError):
        return None
    return (time.perf_counter() - started) * 1000


def child(args) -> int:
    import django

    django.setup()
    import random

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from masthead.news import queries as news_queries
    from masthead.news import related
    from masthead.news.models import ArticlePage

    call_command("migrate", verbosity=0, interactive=False)
    started = time.monotonic()
    built = build(args.articles, args.seed)
    build_seconds = time.monotonic() - started
    log(f"  built in {build_seconds:.0f} s {built['timings']}")

    searches = make_queries(built, args.queries, args.seed)
    load_before = os.getloadavg()[0]
    client = Client(HTTP_HOST="127.0.0.1")
    for _, params in searches[:20]:  # warm up: caches, prepared plans, the OS page cache
        client.get("/search/", params)
    page_ms, engine_ms, by_kind = [], [], {}
    for kind, params in searches:
        t0 = time.perf_counter()
        response = client.get("/search/", params)
        elapsed = (time.perf_counter() - t0) * 1000
        if response.status_code != 200:
            raise SystemExit(f"/search/ {params} answered {response.status_code}")
        db_ms, hits = engine_time(params)
        page_ms.append(elapsed)
        engine_ms.append(db_ms)
        entry = by_kind.setdefault(kind, {"ms": [], "hits": []})
        entry["ms"].append(elapsed)
        entry["hits"].append(hits)
    load_after = os.getloadavg()[0]
    log(f"  timed {len(searches)} searches (load average {load_before:.1f} before, {load_after:.1f} after)")

    rnd = random.Random(args.seed + 2)
    max_pk = ArticlePage.objects.order_by("-pk").values_list("pk", flat=True).first()
    sample = list(
        ArticlePage.objects.filter(pk__in=[rnd.randint(1, max_pk) for _ in range(200)]).order_by("pk")[:40]
    )
    compute_ms = []
    for article in sample:
        t0 = time.perf_counter()
        ids = related.compute_related_ids(article)
        compute_ms.append((time.perf_counter() - t0) * 1000)
        ArticlePage.objects.filter(pk=article.pk).update(related_ids=ids)
    reading_ms = []
    for article in ArticlePage.objects.filter(pk__in=[a.pk for a in sample]):
        trail = news_queries.section_trail(article)
        t0 = time.perf_counter()
        related.reading(article, section=trail[-1] if trail else None)
        reading_ms.append((time.perf_counter() - t0) * 1000)
    log("  timed related reading")

    wagtail = None
    if args.wagtail_sample:
        picked = [s for s in searches if set(s[1]) == {"q"}][: args.wagtail_sample]
        ours, theirs, aborted = [], [], 0
        for _, params in picked:
            ours.append(engine_time(params)[0])
            took = wagtail_time(params, args.wagtail_timeout)
            if took is None:
                aborted += 1
                took = args.wagtail_timeout * 1000
            theirs.append(took)
        o, t = percentiles(ours), percentiles(theirs)
        wagtail = {"sample": len(picked), "ours_p50": o["p50"], "ours_p95": o["p95"], "p50": t["p50"],
                   "p95": t["p95"], "aborted": aborted}  # fmt: skip
        log("  timed Wagtail's QuerySet.search() for comparison")

    server = ""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            server = f"PostgreSQL {cursor.fetchone()[0]}"
            cursor.execute("SELECT pg_database_size(current_database())")
            size = cursor.fetchone()[0]
            cursor.execute("SHOW shared_buffers")
            server += f" (shared_buffers {cursor.fetchone()[0]})"
        else:
            size = sum(p.stat().st_size for p in Path(os.environ["MASTHEAD_DATA_DIR"]).glob("masthead.sqlite3*"))
    result = {
        "database": connection.vendor,
        "server": server,
        "articles": args.articles,
        "queries": len(searches),
        "build_seconds": build_seconds,
        "build": built["timings"],
        "load_average": [round(load_before, 1), round(load_after, 1)],
        "database_mb": round(size / 1024 / 1024),
        "page": percentiles(page_ms),
        "engine": percentiles(engine_ms),
        "by_kind": {
            kind: {**percentiles(v["ms"]), "median_hits": int(statistics.median(v["hits"]))}
            for kind, v in by_kind.items()
        },
        "reading": percentiles(reading_ms),
        "compute_related": percentiles(compute_ms),
        "wagtail": wagtail,
    }
    Path(args.result_file).write_text(json.dumps(result, indent=2))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--pg-url", default=os.environ.get("MASTHEAD_BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432"),
        help="a PostgreSQL server on this machine; a throwaway database is created and dropped on it",
    )  # fmt: skip
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed per database")
    parser.add_argument("--wagtail-sample", type=int, default=20, help="queries also run through QuerySet.search() (0: skip)")
    parser.add_argument("--wagtail-timeout", type=float, default=10.0)
    parser.add_argument("--keep", action="store_true", help="keep the data directory and database")
    parser.add_argument("--json", help="also write the raw results to this file")
    parser.add_argument("--child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    parser.add_argument("--result-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.articles < 100 or args.queries < 20:
        parser.error("--articles must be at least 100 and --queries at least 20")
    if args.child:
        sys.path.insert(0, str(REPO))
        return child(args)
    return parent(args)


if __name__ == "__main__":
    sys.exit(main())
