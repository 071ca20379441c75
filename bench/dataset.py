"""Bulk generator of published articles for the benchmarks (bench/peers_bench.py, bench/scale_bench.py).

`generate(...)` adds generated articles to an existing masthead site (the demo, which provides
the home page, the sections and a few authors), with bylines, tags, further sections ("Main
Stories") and comment threads. It is fast because it skips Wagtail's per-page machinery:

* pages are bulk-inserted with their treebeard paths (the next free position under each
  section), url_path, translation_key, live/published dates, so Wagtail serves them as usual;
* the article rows go in as one batched INSERT per batch (the multi-table child rows of the
  pages above), with the StreamField body and word_count prepared as `ArticlePage.save()` would;
* bylines, tags, further sections and comments (top-level and one level of replies) go in with
  bulk_create;
* each section's numchild is updated at the end.

What it does not do (the caller decides): no revisions, no page log entries, no search index
rows. related_ids stays empty unless `related=True`, which fills it cheaply with up to
related.STORED other generated articles of the same section (not the publish-time computation
of masthead.news.related, but the same shape, so article pages render both related lists).

Options for the scale benchmark:

* `section_weights`: {section slug: weight}, so one section can hold far more articles than
  the others (default: every section equally likely);
* `prolific`: (number of authors, share of bylines): that many generated authors write that share
  of all bylines between them (default: every author equally likely).

Requires Django to be set up (DJANGO_SETTINGS_MODULE and the site's DATABASE_URL/MASTHEAD_DATA_DIR).
Works on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

BENCH = Path(__file__).resolve().parent
SEED = 20261126
COMMENTER_NAMES = [
    "Amina K.",
    "Daniel R.",
    "Priya S.",
    "Jonas W.",
    "Lea M.",
    "Tariq H.",
    "Mei L.",
    "Oskar N.",
    "Rosa P.",
]


def corpus(rnd: random.Random):
    """The demo's vocabulary, Zipf-distributed, plus rare names (bench/search_bench.py's Corpus)."""
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    from search_bench import Corpus

    c = Corpus(SEED, rare_words=4000)
    c.random = rnd
    return c


def generate(
    articles: int,
    comments_per_article: float = 4.0,
    *,
    rnd: random.Random | None = None,
    extra_authors: int = 40,
    tag_names: int = 400,
    section_weights: dict[str, float] | None = None,
    prolific: tuple[int, float] | None = None,
    related: bool = False,
    batch: int = 500,
    body_words: tuple[int, int] = (300, 700),
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Add `articles` generated articles; return what was made (counts, seconds, prolific slugs)."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction
    from django.utils import timezone
    from django.utils.text import slugify
    from taggit.models import Tag
    from wagtail.models import Locale, Page
    from wagtail.rich_text import RichText

    from masthead.comments.models import Comment
    from masthead.news.models import ArticleByline, ArticlePage, ArticleTag, Author, SectionPage
    from masthead.news.related import STORED

    rnd = rnd or random.Random(SEED)
    words = corpus(rnd)
    now = timezone.now()
    t0 = time.monotonic()

    sections = [s for s in SectionPage.objects.order_by("path") if s.title != "Main Stories"]
    if not sections:
        raise RuntimeError("no sections: build the demo first (masthead demo --no-serve)")
    main_stories = SectionPage.objects.filter(title="Main Stories").first()
    weights = None
    if section_weights:
        share = 1.0 / len(sections)
        weights = [section_weights.get(s.slug, share) for s in sections]

    authors = list(Author.objects.all())
    extra = [
        f"{words.band(2000, len(words.words)).capitalize()} {words.band(2000, len(words.words)).capitalize()}"
        for _ in range(extra_authors)
    ]
    stamp = Author.objects.count()  # unique slugs when generating twice into one site
    new_authors = Author.objects.bulk_create(
        [Author(name=n, slug=f"{slugify(n)}-{stamp + i}", role="Reporter") for i, n in enumerate(extra)]
    )
    authors += new_authors
    author_weights = None
    prolific_authors: list = []
    if prolific and prolific[0] > 0 and new_authors:
        count, share = min(prolific[0], len(new_authors)), prolific[1]
        prolific_authors = new_authors[:count]
        rest = len(authors) - count
        author_weights = [
            (share / count) if a in prolific_authors else ((1 - share) / rest if rest else 0) for a in authors
        ]

    names = {words.band(40, 3000).title() for _ in range(tag_names)}
    existing = {t.name.casefold() for t in Tag.objects.all()}
    Tag.objects.bulk_create(
        [Tag(name=n, slug=slugify(n)) for n in sorted(names) if n.casefold() not in existing]
    )
    tags = list(Tag.objects.all())

    content_type = ContentType.objects.get_for_model(ArticlePage)
    locale = Locale.get_default()
    next_pos = {s.pk: s.numchild for s in sections}
    recent: dict[int, list[int]] = {s.pk: [] for s in sections}  # for related_ids
    fields = list(ArticlePage._meta.local_concrete_fields)
    cols = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    insert_sql = (
        f"INSERT INTO {connection.ops.quote_name(ArticlePage._meta.db_table)} ({cols}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    oldest = dt.timedelta(days=730).total_seconds()
    made = n_comments = n_bylines = n_tags = n_further = 0
    while made < articles:
        count = min(batch, articles - made)
        pages, extras = [], []
        for i in range(count):
            number = made + i + 1
            section = rnd.choices(sections, weights)[0] if weights else rnd.choice(sections)
            next_pos[section.pk] += 1
            title_words = words.content_words(rnd.randint(6, 11))
            title = " ".join(title_words).capitalize()
            slug = f"{slugify(' '.join(title_words[:6]))[:60]}-{number}"
            when = now - dt.timedelta(days=1) - dt.timedelta(seconds=rnd.random() * oldest)
            pages.append(
                Page(
                    title=title,
                    draft_title=title,
                    slug=slug,
                    content_type=content_type,
                    locale=locale,
                    path=Page._get_path(section.path, section.depth + 1, next_pos[section.pk]),
                    depth=section.depth + 1,
                    numchild=0,
                    url_path=f"{section.url_path}{slug}/",
                    live=True,
                    has_unpublished_changes=False,
                    first_published_at=when,
                    last_published_at=when,
                    latest_revision_created_at=when,
                )
            )
            paragraphs, remaining = [], rnd.randint(*body_words)
            while remaining > 0:
                size = min(remaining, rnd.randint(40, 90))
                paragraphs.append(words.sentence(size))
                remaining -= size
            extras.append((section.pk, words.sentence(rnd.randint(18, 30)), paragraphs, when))
        with transaction.atomic():
            Page.objects.bulk_create(pages)
            rows, bylines, tagged, further, comments = [], [], [], [], []
            for page, (section_pk, standfirst, paragraphs, when) in zip(pages, extras):
                art = ArticlePage(
                    page_ptr_id=page.pk,
                    standfirst=standfirst,
                    body=[("paragraph", RichText(f"<p>{p}</p>")) for p in paragraphs],
                )
                art.word_count = len(art.plain_text().split())
                if related:
                    pool = recent[section_pk]
                    art.related_ids = rnd.sample(pool, min(STORED, len(pool)))
                    pool.append(page.pk)
                    if len(pool) > 64:
                        del pool[: len(pool) - 64]
                rows.append([f.get_db_prep_save(f.pre_save(art, True), connection) for f in fields])
                chosen = rnd.choices(authors, author_weights, k=rnd.choice([1, 1, 1, 2]))
                for k, author in enumerate(dict.fromkeys(chosen)):
                    bylines.append(ArticleByline(article_id=page.pk, author=author, sort_order=k))
                for tag in dict.fromkeys(rnd.choices(tags, k=rnd.randint(1, 4))):
                    tagged.append(ArticleTag(content_object_id=page.pk, tag=tag))
                if main_stories and rnd.random() < 0.05:
                    further.append(page.pk)
                k = (
                    min(40, int(rnd.expovariate(1 / comments_per_article)))
                    if comments_per_article > 0
                    else 0
                )
                for _ in range(k):
                    comments.append(
                        Comment(
                            article_id=page.pk,
                            author_name=rnd.choice(COMMENTER_NAMES),
                            author_email=f"reader{rnd.randint(1, 5000)}@example.org",
                            body=words.sentence(rnd.randint(8, 60)),
                            state=Comment.State.APPROVED,
                            created_at=when + dt.timedelta(minutes=rnd.randint(5, 3000)),
                            idempotency_key=uuid.UUID(int=rnd.getrandbits(128)),
                        )
                    )
            with connection.cursor() as cursor:
                cursor.executemany(insert_sql, rows)
            ArticleByline.objects.bulk_create(bylines)
            ArticleTag.objects.bulk_create(tagged)
            if further:
                through = ArticlePage.additional_sections.through
                through.objects.bulk_create(
                    [through(articlepage_id=pk, sectionpage_id=main_stories.pk) for pk in further]
                )
            top = Comment.objects.bulk_create(comments)
            # A third of the threads get replies (one level).
            replies = []
            for parent in top:
                if rnd.random() < 0.3:
                    replies.append(
                        Comment(
                            article_id=parent.article_id,
                            parent=parent,
                            root=parent,
                            depth=1,
                            author_name=rnd.choice(COMMENTER_NAMES),
                            author_email=f"reader{rnd.randint(1, 5000)}@example.org",
                            body=words.sentence(rnd.randint(8, 40)),
                            state=Comment.State.APPROVED,
                            created_at=parent.created_at + dt.timedelta(minutes=rnd.randint(1, 600)),
                            idempotency_key=uuid.UUID(int=rnd.getrandbits(128)),
                        )
                    )
            Comment.objects.bulk_create(replies)
            n_comments += len(top) + len(replies)
            n_bylines += len(bylines)
            n_tags += len(tagged)
            n_further += len(further)
        made += count
        if progress:
            progress(made, articles)
    for s in sections:
        Page.objects.filter(pk=s.pk).update(numchild=next_pos[s.pk])
    return {
        "generated": made,
        "generated_comments": n_comments,
        "generated_bylines": n_bylines,
        "generated_tags": n_tags,
        "generated_further": n_further,
        "generated_authors": len(new_authors),
        "prolific_authors": [a.slug for a in prolific_authors],
        "per_section": {s.slug: next_pos[s.pk] - s.numchild for s in sections},
        "generate_seconds": round(time.monotonic() - t0, 1),
    }
