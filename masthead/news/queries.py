"""Every listing the public pages show, each in a fixed number of queries.

A front must cost the same whether the site has ten articles or a million, and however many
authors, tags or sections it has: lists are fetched with their bylines, images and sections in
bulk (prefetch, one window query for all section blocks), never one query per item.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from django.apps import apps
from django.conf import settings
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import F, Prefetch, Q, QuerySet, Window
from django.db.models.functions import RowNumber, Substr
from wagtail.images import get_image_model
from wagtail.models import Page

if TYPE_CHECKING:
    from django.core.paginator import Page as PaginatorPage
    from django.http import HttpRequest

    from .models import ArticlePage, HomePage, SectionPage

MAIN_STORIES = 5
PER_SECTION = 4
CARD_RENDITIONS = ("width-400", "width-800")


def _model(name: str):
    return apps.get_model("news", name)


def published_articles() -> QuerySet:
    """Live articles readers may see, newest first."""
    return (
        _model("ArticlePage")
        .objects.live()
        .public()
        .order_by("-first_published_at", "-pk")
    )


def with_card_data(queryset: QuerySet) -> QuerySet:
    """What an article card shows, fetched in bulk: bylines, authors, lead image renditions."""
    from masthead.comments.queries import approved_count_subquery

    Byline = _model("ArticleByline")
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
    return articles


def paginate(request: HttpRequest, queryset: QuerySet) -> PaginatorPage:
    paginator = Paginator(queryset, settings.MASTHEAD_PAGE_SIZE)
    try:
        page_obj = paginator.page(request.GET.get("page", 1))
    except PageNotAnInteger:
        page_obj = paginator.page(1)
    except EmptyPage:
        from django.http import Http404

        raise Http404("No such page of articles")
    page_obj.object_list = attach_sections(with_card_data(page_obj.object_list))
    return page_obj


def top_sections(home: Page) -> QuerySet:
    """The sections directly under the home front that editors put in the menu."""
    return _model("SectionPage").objects.child_of(home).live().public().filter(show_in_menus=True)


def home_front(home: HomePage) -> dict:
    picks = [
        story.article
        for story in home.main_stories.select_related("article").order_by("sort_order")
        if story.article.live
    ]
    pick_ids = [article.pk for article in picks]
    fill = MAIN_STORIES - len(picks)
    base = published_articles()  # built once: .public() costs a query each time it is built
    newest = list(base.exclude(pk__in=pick_ids).values_list("pk", flat=True)[:fill]) if fill > 0 else []
    main_ids = pick_ids + newest
    # Load the main stories once more with their card data (one query set, order kept).
    loaded = {a.pk: a for a in with_card_data(base.filter(pk__in=main_ids))}
    main_stories = attach_sections(loaded[pk] for pk in main_ids if pk in loaded)

    sections = list(top_sections(home))
    prefix_length = len(home.path) + Page.steplen
    top_path = Substr("path", 1, prefix_length)
    latest = with_card_data(
        base.exclude(pk__in=main_ids)
        .annotate(
            section_path=top_path,
            rank=Window(RowNumber(), partition_by=[top_path], order_by=[F("first_published_at").desc(), F("pk").desc()]),
        )
        .filter(rank__lte=PER_SECTION)
    )
    by_section: dict[str, list] = {}
    for article in attach_sections(latest):
        by_section.setdefault(article.section_path, []).append(article)
    section_blocks = [
        {"section": section, "articles": by_section[section.path]}
        for section in sections
        if section.path in by_section
    ]
    return {"main_stories": main_stories, "section_blocks": section_blocks}


def section_articles(section: SectionPage) -> QuerySet:
    """Articles whose primary section is this one or below it, or that list it as a further section."""
    Through = _model("ArticlePage").additional_sections.through
    further = Through.objects.filter(sectionpage__path__startswith=section.path).values("articlepage_id")
    return published_articles().filter(Q(path__startswith=section.path) | Q(pk__in=further))


def section_trail(page: Page) -> list[SectionPage]:
    """The sections from the top down to `page` (inclusive when it is a section)."""
    return list(_model("SectionPage").objects.ancestor_of(page, inclusive=True).live().order_by("depth"))


def author_articles(author) -> QuerySet:
    return published_articles().filter(bylines__author=author)


def tag_articles(tag) -> QuerySet:
    return published_articles().filter(tagged_items__tag=tag)


def article_context(article: ArticlePage) -> dict:
    """Bylines, sections and tags of one article.

    Read through the article's own relations rather than fresh queries, so an editor's preview
    of unsaved changes (held in memory by modelcluster) shows what they typed.
    """
    further = [section for section in article.additional_sections.all() if section.live]
    breadcrumb = section_trail(article)
    context = {
        "breadcrumb": breadcrumb,
        "further_sections": sorted(further, key=lambda section: section.title),
        "article_tags": sorted(article.tags.all(), key=lambda tag: tag.name.casefold()),
        "bylines": list(article.bylines.select_related("author__photo").order_by("sort_order")),
    }
    # Related reading under the story ("Related", "More in <section>"): a fixed number of
    # queries, from ids stored on publish. See masthead/news/related.py.
    from .related import reading

    context.update(reading(article, section=breadcrumb[-1] if breadcrumb else None))
    return context
