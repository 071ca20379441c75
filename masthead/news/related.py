"""Related reading: "Related" and "More in <section>" under each article.

"Related" is computed when an article is published (never on a reader's request) and stored
on the article as `related_ids`, best first:

1. articles sharing its tags, scored by the shared tags weighted by rarity (a tag on few
   articles says more than one on thousands), ties broken by recency, newest first;
2. if fewer than STORED share a tag, the list is filled with the articles of its sections
   whose text is most like its headline and standfirst, ranked by the database's full-text
   engine (masthead.search.engine: BM25 on SQLite, ts_rank on PostgreSQL).

More ids are stored than shown, so an article that is later unpublished or deleted just drops
out at render time and the next one moves up. Publishing an article also refreshes the lists
of the articles it lists, so older stories can point to the newer one.

"More in <section>" is the newest articles of the primary section (the parent page): their ids
are site structure, remembered per generation (`newest_in_section`), and their cards are read
with the related ones, in one query.
"""

from __future__ import annotations

import logging
import math
import re

from django.db import transaction
from django.db.models import Case, Count, FloatField, Max, Sum, Value, When
from wagtail.models import Page

from masthead.caching import config
from masthead.caching.prepared import Prepared

from . import cards, queries, renditions

logger = logging.getLogger(__name__)

SHOWN = 4  # cards in each of "Related" and "More in <section>"
STORED = 8  # related ids kept per article, so unpublished ones can drop out
TEXT_TERMS = 12  # words of headline and standfirst used to find similar text

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers him his how i if in into is it its itself just
    me more most my no nor not now of off on once only or other our out over own said same she
    should so some such than that the their them then there these they this those through to
    too under until up very was we were what when where which while who whom why will with
    would you your says say new""".split()
)
WORD_RE = re.compile(r"[^\W\d_]{3,}", re.UNICODE)


def _model(name: str):
    from django.apps import apps

    return apps.get_model("news", name)


def key_terms(article) -> list[str]:
    """Distinctive words of the headline, then the standfirst, for the similar-text query."""
    seen: set[str] = set()
    terms = []
    for word in WORD_RE.findall(f"{article.title} {article.standfirst}"):
        key = word.casefold()
        if key not in STOPWORDS and key not in seen:
            seen.add(key)
            terms.append(word)
    return terms[:TEXT_TERMS]


def _by_shared_tags(article, live) -> list[int]:
    """Ids of live articles sharing tags with `article`, best first (at most STORED)."""
    ArticleTag = _model("ArticleTag")
    tag_ids = list(ArticleTag.objects.filter(content_object_id=article.pk).values_list("tag_id", flat=True))
    if not tag_ids:
        return []
    tagged = ArticleTag.objects.filter(tag_id__in=tag_ids, content_object__live=True)
    counts = dict(tagged.order_by().values_list("tag_id").annotate(n=Count("id")))
    weights = {tag_id: 1.0 / math.log(2 + counts.get(tag_id, 0)) for tag_id in tag_ids}
    score = Sum(
        Case(*(When(tag_id=t, then=Value(w)) for t, w in weights.items()), default=Value(0.0)),
        output_field=FloatField(),
    )
    ranked = (
        tagged.exclude(content_object_id=article.pk)
        .values("content_object_id")
        .annotate(score=score, published=Max("content_object__first_published_at"))
        .order_by("-score", "-published", "-content_object_id")
        .values_list("content_object_id", flat=True)[: STORED * 3]
    )
    ranked = list(ranked)
    # Keep only what readers may see (view restrictions), in rank order.
    visible = set(live.filter(pk__in=ranked).values_list("pk", flat=True))
    return [pk for pk in ranked if pk in visible][:STORED]


def _by_similar_text(article, live, exclude: list[int], limit: int) -> list[int]:
    """Ids of live articles in the article's sections with the most similar text."""
    from masthead.search import engine

    terms = key_terms(article)
    section = article.get_parent()
    if not terms or section is None or limit <= 0:
        return []
    section = section.specific
    if not isinstance(section, _model("SectionPage")):
        return []
    candidates = queries.section_articles(section).exclude(pk__in=[article.pk, *exclude])
    hits = engine.search(candidates, terms, match_any=True)
    return list(hits.values_list("pk", flat=True)[:limit])


def compute_related_ids(article) -> list[int]:
    """The related articles of `article`, best first, from the database as it is now."""
    live = queries.published_articles()
    ids = _by_shared_tags(article, live)
    if len(ids) < STORED:
        ids += _by_similar_text(article, live, exclude=ids, limit=STORED - len(ids))
    return ids


def update_related(article, *, refresh_listed: bool = True) -> list[int]:
    """Compute and store `article.related_ids`; then refresh the lists of the ones it shows."""
    ArticlePage = _model("ArticlePage")
    ids = compute_related_ids(article)
    ArticlePage.objects.filter(pk=article.pk).update(related_ids=ids)  # no revision, no signals
    if ids[:STORED] != list(article.related_ids or [])[:STORED]:
        from masthead.caching.purge import purge_after_commit

        purge_after_commit([f"r{article.pk}"], f"related reading of {article.pk} recomputed")
    article.related_ids = ids
    if refresh_listed:
        for other in ArticlePage.objects.live().filter(pk__in=ids[:SHOWN]):
            update_related(other, refresh_listed=False)
    return ids


def update_related_after_commit(article) -> None:
    """Recompute once the publish has committed; a failure is logged, never blocks publishing."""
    pk = article.pk

    def run() -> None:
        try:
            with transaction.atomic():
                current = _model("ArticlePage").objects.filter(pk=pk).first()
                if current is not None and current.live:
                    update_related(current)
        except Exception:  # derived data: the article is published either way
            logger.exception("could not compute related articles for page %s", pk)

    transaction.on_commit(run)


def rebuild_all(batch_size: int = 200) -> int:
    """Recompute every live article's list (after an import, or to seed an existing site)."""
    ArticlePage = _model("ArticlePage")
    count = 0
    for pk in ArticlePage.objects.live().order_by("pk").values_list("pk", flat=True).iterator(batch_size):
        article = ArticlePage.objects.get(pk=pk)
        update_related(article, refresh_listed=False)
        count += 1
    return count


# The ids of a section's newest articles, newest first: a range of the path index plus a top-N
# sort. The range (children's paths are the parent's plus one step of 0-9A-Z) rather than
# path__startswith, whose LIKE cannot use an index on SQLite (LIKE ignores case there). One
# more than "More in" ever needs: the article being read may be among them.
_newest_in_section = Prepared(
    "related:newest-in-section",
    lambda low, high, depth: cards.published_rows()
    .filter(path__gt=low, path__lte=high, depth=depth)
    .values_list("pk", flat=True)[: 2 * SHOWN + 1],
)


def newest_in_section(section_path: str, depth: int) -> tuple[int, ...]:
    """The ids of the newest live, public articles directly in the section at `section_path`.

    They change only when a page is published, unpublished, moved or deleted, or a section made
    private, and each of those starts a new generation of the site's structure
    (masthead.caching.config), so they are remembered per generation like the menu: one query
    per section and generation, where every article page used to ask it again (a scan of the
    whole section's range and a sort, 5 % of an uncached article). The cards themselves are
    still read on every page: their comment counts change without a new generation."""
    return config.remembered_item(
        "related:newest-in-sections",
        (section_path, depth),
        lambda: tuple(_newest_in_section(section_path, section_path + "Z" * Page.steplen, depth)),
    )


def reading(article, section=None, request=None, pictures: list | None = None) -> dict:
    """What the article page shows under the story, in a fixed number of queries.

    `section` is the article's primary section if the caller already has it (the breadcrumb's
    last entry). Queries: the newest in the section (1) and the stored ones still live (1, when
    there are any), both as card rows, then what the cards shown need (news/cards.py).
    The renditions of `pictures` (the page's own: its lead image, its bylines' portraits) are
    read with the cards' own, in the same query.
    """
    empty = {"related_articles": [], "more_in_section": [], "primary_section": None}
    parent_path = article.path[: -Page.steplen] if article.pk and article.path else None
    if parent_path is None or section is None or section.path != parent_path:
        # A preview of an article never saved, or one whose parent is not a live section.
        renditions.load(pictures or [])
        return empty
    stored = [pk for pk in (article.related_ids or []) if isinstance(pk, int) and pk != article.pk][:STORED]
    newest = [pk for pk in newest_in_section(parent_path, article.depth) if pk != article.pk][: 2 * SHOWN]
    # Both lists' cards in one query, by plain ids: an OR of "stored" and "newest" subqueries
    # made PostgreSQL join every article (74-126 ms at 200,000 articles; this: 0.3 ms).
    wanted = list(dict.fromkeys(stored + newest))
    alive = {row.pk: row for row in cards.live_rows_among(wanted)} if wanted else {}
    related_rows = [alive[pk] for pk in stored if pk in alive][:SHOWN]
    shown = {row.pk for row in related_rows}
    more_rows = [alive[pk] for pk in newest if pk in alive and pk not in shown][:SHOWN]  # newest first
    made = cards.from_rows(related_rows + more_rows, request, pictures=pictures)
    related, more = made[: len(related_rows)], made[len(related_rows) :]
    return {"related_articles": related, "more_in_section": more, "primary_section": section}
