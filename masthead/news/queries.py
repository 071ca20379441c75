"""Every listing the public pages show, each in a fixed number of queries.

A front must cost the same whether the site has ten articles or a million, and however many
authors, tags or sections it has: lists are fetched with their bylines, images and sections in
bulk (prefetch, one query for all section blocks), never one query per item.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from django.apps import apps
from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.urls import get_script_prefix
from taggit.models import Tag
from wagtail.images import get_image_model
from wagtail.models import Page, Site

from masthead.caching import config
from masthead.caching import keys as surrogate
from masthead.caching.prepared import Prepared

from . import renditions
from .visibility import ancestor_paths, public

if TYPE_CHECKING:
    from django.http import HttpRequest

    from .cards import NavLink, SectionLink
    from .models import ArticlePage, HomePage, SectionPage
    from .pagination import KeysetPage

MAIN_STORIES = 5
PER_SECTION = 4


def _model(name: str):
    return apps.get_model("news", name)


def published_articles() -> QuerySet:
    """Live articles readers may see, newest first."""
    return public(_model("ArticlePage").objects.live()).order_by("-first_published_at", "-pk")


def with_card_data(queryset: QuerySet) -> QuerySet:
    """An article list's items as page models with bylines, authors and lead image renditions
    fetched in bulk: for the read API, which serialises fields a card does not show (the pages'
    own cards come from news/cards.py)."""
    from masthead.comments.queries import approved_count_subquery

    Byline = _model("ArticleByline")
    # No card shows the body: leaving it out spares reading and decoding each story's StreamField.
    queryset = queryset.defer_streamfields()
    return queryset.annotate(comment_count=approved_count_subquery()).select_related("lead_image").prefetch_related(
        Prefetch("bylines", queryset=Byline.objects.select_related("author").order_by("sort_order")),
        Prefetch("lead_image__renditions", queryset=get_image_model().get_rendition_model().objects.all()),
    )


def attach_sections(articles: Iterable[ArticlePage]) -> list[ArticlePage]:
    """Set `article.section` (its primary section, the parent page) with one query for all."""
    articles = list(articles)
    parent_paths = {article.path[: -Page.steplen] for article in articles}
    if not parent_paths:
        return articles
    sections = {s.path: s for s in _model("SectionPage").objects.filter(path__in=parent_paths)}
    for article in articles:
        article.section = sections.get(article.path[: -Page.steplen])
    surrogate.add_articles(articles)  # every API item passes here
    return articles


def paginate(request: HttpRequest, queryset: QuerySet) -> KeysetPage:
    """The requested page of a list as cards: keyset pages (news/pagination.py) of card rows
    (news/cards.py)."""
    from . import cards
    from .pagination import paginate as keyset_page

    page_obj = keyset_page(request, cards.rows(queryset))
    page_obj.object_list = cards.from_rows(page_obj.object_list, request)
    return page_obj


# The live, public sections right under a page, in tree order, as rows (compiled once).
_child_sections = Prepared(
    "queries:child-sections",
    lambda low, high, depth: public(
        _model("SectionPage").objects.filter(path__range=(low, high), depth=depth).live()
    )
    .order_by("path")
    .values_list("pk", "title", "url_path", "path", "slug", "show_in_menus"),
)


def child_sections(
    parent: Page, request: HttpRequest | None = None, *, menu_only: bool = False
) -> tuple[NavLink, ...]:
    """The live, public sections directly under `parent` as links, in tree order; with
    `menu_only`, only those editors put in the menu."""
    from .cards import NavLink, page_url

    rows = _child_sections(*descendant_bounds(parent.path), parent.depth + 1)
    return tuple(
        NavLink(pk, title, page_url(url_path, request), path, slug)
        for pk, title, url_path, path, slug, in_menu in rows
        if in_menu or not menu_only
    )


def menu(root: Page, request: HttpRequest | None = None) -> tuple[NavLink, ...]:
    """The sections under `root` that editors put in the menu, as links (the menu, and the home
    front's section blocks): site structure, so read once per generation
    (masthead.caching.config). Their URLs are relative to the request's site and start with
    where the site is mounted, so they are remembered per site and mount point."""
    site = Site.find_for_request(request) if request is not None else None
    surrogate.add(surrogate.NAV)
    return config.remembered(
        f"nav:{site.pk if site else ''}:{get_script_prefix()}:{root.pk}",
        lambda: child_sections(root, request, menu_only=True),
    )


# The home front's queries, compiled once (masthead.caching.prepared): a front asks the same
# questions on every request, and building them through the ORM cost three times running them.
_picked_ids = Prepared(
    "queries:main-stories",
    lambda home_pk: _model("HomeMainStory")
    .objects.filter(home_id=home_pk, article__live=True)
    .order_by("sort_order", "pk")
    .values_list("article_id", flat=True),
)
# The newest stories, enough to fill the main stories whichever of them editors picked.
_newest_ids = Prepared(
    "queries:newest", lambda: published_articles().values_list("pk", flat=True)[: 2 * MAIN_STORIES]
)
_newest_per_section_ids = Prepared(
    "queries:newest-per-section",
    lambda skip, *bounds: published_articles()
    .filter(pk__in=_newest_per_section(published_articles().exclude(pk__in=skip), bounds))
    .values_list("pk", flat=True),
)


def home_front(home: HomePage, request: HttpRequest | None = None) -> dict:
    from . import cards

    surrogate.add(surrogate.HOME)
    sections = menu(home, request)
    bounds = [bound for section in sections for bound in descendant_bounds(section.path)]
    if _stored(home, "main_stories"):
        # Which stories the front shows is site structure: the editors' picks are saved with the
        # home page, and the newest stories change only when a page is published, unpublished,
        # moved or deleted (each a new generation, masthead.caching.config). So the ids are
        # remembered per generation; asking SQLite for each section's newest was four tenths of
        # an uncached home front. Their cards are read on every page.
        key = (home.pk, tuple(section.path for section in sections))  # the bounds follow from these
        main_ids, latest_ids = config.remembered_item(
            "home-front-ids", key, lambda: _front_ids(_picked_ids(home.pk), bounds)
        )
    else:  # an editor's preview of picks not saved yet
        picked = [story.article_id for story in home.main_stories.all() if story.article.live]
        main_ids, latest_ids = _front_ids(picked, bounds)
    # The main stories and every section's newest as cards, in one load (order kept).
    loaded = cards.load(main_ids + latest_ids, request)
    main_stories = [card for card in loaded if card.pk in main_ids]
    by_section: dict[str, list] = {}
    for card in loaded[len(main_stories) :]:
        top = card.path[: len(home.path) + Page.steplen]
        by_section.setdefault(top, []).append(card)
    section_blocks = [
        {"section": section, "articles": by_section[section.path]}
        for section in sections
        if section.path in by_section
    ]
    return {"main_stories": main_stories, "section_blocks": section_blocks}


def _front_ids(picked: list[int], bounds: list[str]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The ids of the main stories (the picks, then the newest) and of each section's newest
    stories under them (`bounds`: each menu section's `descendant_bounds`)."""
    pick_ids = list(dict.fromkeys(picked))  # a story picked twice is shown once
    fill = MAIN_STORIES - len(pick_ids)
    newest = [pk for pk in _newest_ids() if pk not in pick_ids][:fill] if fill > 0 else []
    main_ids = pick_ids + newest
    latest_ids = _newest_per_section_ids(main_ids, *bounds) if bounds else []
    return tuple(main_ids), tuple(latest_ids)


def descendant_bounds(path: str) -> tuple[str, str]:
    """The range of tree paths below `path`, for `path__range`: what `path__startswith` asks,
    in a form a prepared query takes (the ORM rewrites a prefix into a LIKE pattern). Every
    step is drawn from the tree's alphabet, whose last letter sorts highest."""
    field = Page._meta.get_field("path")
    return path, path + Page.alphabet[-1] * (field.max_length - len(path))


def _newest_per_section(articles: QuerySet, bounds: tuple | list) -> QuerySet | list:
    """The ids of the PER_SECTION newest `articles` under each section, as one subquery;
    `bounds` holds each section's `descendant_bounds`, one after the other.

    Each part is a small top-N read of the first_published_at index. PostgreSQL takes them as
    a UNION ALL (0.9 ms at 200,000 articles, where an OR of the parts scanned every article for
    1.5 s); SQLite refuses LIMIT inside a UNION but plans the OR of the parts well. (A window
    function over all articles, partitioned by section, read the whole table everywhere.)
    """
    parts = [
        articles.filter(path__range=(bounds[i], bounds[i + 1])).values("pk")[:PER_SECTION]
        for i in range(0, len(bounds), 2)
    ]
    if not parts:
        return []
    if connection.features.supports_slicing_ordering_in_compound:
        return parts[0].union(*parts[1:], all=True)
    in_any = Q(pk__in=parts[0])
    for part in parts[1:]:
        in_any |= Q(pk__in=part)
    return articles.filter(in_any).values("pk")


def section_articles(section: SectionPage) -> QuerySet:
    """Articles whose primary section is this one or below it, or that list it as a further section."""
    surrogate.add(surrogate.section_list(section.pk), surrogate.section_name(section.pk))
    Through = _model("ArticlePage").additional_sections.through
    further = Through.objects.filter(sectionpage__path__startswith=section.path).values("articlepage_id")
    return published_articles().filter(Q(path__startswith=section.path) | Q(pk__in=further))


def section_trail(
    page: Page, request: HttpRequest | None = None, known: dict[str, SectionLink] | None = None
) -> list[SectionLink]:
    """The live sections from the top down to `page` (inclusive when it is one), as links;
    `known` is `live_sections(request).by_path` when the caller has it."""
    from .cards import live_sections

    known = known if known is not None else live_sections(request).by_path
    trail = [known[path] for path in ancestor_paths(page.path) if path in known]
    surrogate.add(*(surrogate.section_name(section.pk) for section in trail))
    return trail


def author_articles(author) -> QuerySet:
    surrogate.add(surrogate.author_list(author.pk), surrogate.author_name(author.pk))
    return published_articles().filter(bylines__author=author)


def tag_articles(tag) -> QuerySet:
    surrogate.add(surrogate.tag_list(tag.pk), surrogate.tag_name(tag.pk))
    return published_articles().filter(tagged_items__tag=tag)


def _stored(page: Page, relation: str) -> bool:
    """Whether the page's `relation` is as stored, not an editor's unsaved change that
    modelcluster holds in memory (a preview): then it can be read by a compiled query."""
    return bool(page.pk) and relation not in getattr(page, "_cluster_related_objects", {})


# An article's own relations, as article_context shows them, compiled once per process.
_further_section_ids = Prepared(
    "queries:further-section-ids",
    lambda pk: _model("ArticlePage")
    .additional_sections.through.objects.filter(articlepage_id=pk)
    .values_list("sectionpage_id", flat=True),
)
_tags_of = Prepared("queries:tags", lambda pk: Tag.objects.filter(news_articletag_items__content_object_id=pk))
_article_bylines = Prepared(
    "queries:bylines",
    lambda pk: _model("ArticleByline").objects.filter(article_id=pk).select_related("author__photo").order_by("sort_order"),
)


def article_context(article: ArticlePage, request: HttpRequest | None = None) -> dict:
    """Bylines, sections and tags of one article.

    An editor's preview of unsaved changes (held in memory by modelcluster) is read through the
    article's own relations, so it shows what they typed.
    """
    from .cards import live_sections

    pk = article.pk
    if _stored(article, "additional_sections"):
        further_ids = _further_section_ids(pk)
    else:
        further_ids = [section.pk for section in article.additional_sections.all()]
    sections = live_sections(request)
    live = sections.by_pk
    tags = _tags_of(pk) if _stored(article, "tagged_items") else article.tags.all()
    if _stored(article, "bylines"):
        bylines = _article_bylines(pk)
    else:
        bylines = list(article.bylines.select_related("author__photo").order_by("sort_order"))
    # The lead picture's srcset and structured data, and the bylines' portraits: their
    # renditions are read with the related cards' pictures, in one query (related.reading).
    pictures = [article.lead_image] + [byline.author.photo for byline in bylines]
    pictures = [p for p in pictures if p is not None and getattr(p, "prefetched_renditions", None) is None]
    breadcrumb = section_trail(article, request, sections.by_path)
    context = {
        "breadcrumb": breadcrumb,
        "further_sections": sorted((live[pk] for pk in further_ids if pk in live), key=lambda s: s.title),
        "article_tags": sorted(tags, key=lambda tag: tag.name.casefold()),
        "bylines": bylines,
    }
    # Related reading under the story ("Related", "More in <section>"): a fixed number of
    # queries, from ids stored on publish. See masthead/news/related.py.
    from .related import reading

    section = breadcrumb[-1] if breadcrumb else None
    context.update(reading(article, section=section, request=request, pictures=pictures))
    _add_article_keys(article, context)
    return context


def _add_article_keys(article: ArticlePage, context: dict) -> None:
    """What an article page shows, for its surrogate keys (from the lists above, no query)."""
    if surrogate.current() is None or not article.pk:
        return
    pk = article.pk
    names = [surrogate.article(pk), surrogate.comments(pk), surrogate.related(pk)]
    names += [surrogate.section_name(section.pk) for section in context["further_sections"]]
    names += [surrogate.tag_name(tag.pk) for tag in context["article_tags"]]
    names += [surrogate.author_name(byline.author_id) for byline in context["bylines"]]
    if context.get("primary_section") is not None:  # "More in <section>"
        names.append(surrogate.section_direct(context["primary_section"].pk))
    surrogate.add(*names)
    surrogate.current().published(article.last_published_at)
