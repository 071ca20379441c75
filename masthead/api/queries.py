"""The query sets behind the read API: published content of the request's site only.

"Published" means what a reader of the site can open: live pages that carry no view restriction
(themselves or above them), under the root page of the site the request is for. Drafts,
unpublished and private pages are filtered out here, once, for lists and single items alike.

Lists fetch their relations in bulk (`with_list_data`), so a page of 100 articles costs the same
queries as a page of 5.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Lower
from django.http import HttpRequest
from taggit.models import Tag
from wagtail.models import Page, Site

from masthead.news import queries as news_queries
from masthead.news.models import ArticleByline, ArticlePage, ArticleTag, Author, SectionPage


def site_root_path(request: HttpRequest) -> str | None:
    """The tree path of the request's site root (one query, then remembered on the request)."""
    if not hasattr(request, "_api_root_path"):
        site = Site.find_for_request(request)
        root = (
            Page.objects.filter(pk=site.root_page_id).values_list("path", flat=True).first() if site else None
        )
        request._api_root_path = root
    return request._api_root_path


def _on_site(request: HttpRequest, queryset: QuerySet) -> QuerySet:
    root = site_root_path(request)
    if root is None:
        return queryset.none()
    return queryset.filter(path__startswith=root, depth__gt=len(root) // Page.steplen)


def articles(request: HttpRequest) -> QuerySet:
    """Published articles of this site, newest first."""
    # Publishing always sets first_published_at; a page made live some other way without it
    # could not be placed in the newest-first order the cursor walks, so it is left out.
    return _on_site(request, news_queries.published_articles()).filter(first_published_at__isnull=False)


def sections(request: HttpRequest) -> QuerySet:
    """Published sections of this site, in tree order (a section comes before its subsections)."""
    return _on_site(request, SectionPage.objects.live().public()).order_by("path")


def with_list_data(queryset: QuerySet) -> QuerySet:
    """Card data (bylines, lead image, comment count) plus tags and further sections, in bulk."""
    return news_queries.with_card_data(queryset).prefetch_related(
        Prefetch("tagged_items", queryset=ArticleTag.objects.select_related("tag")),
        Prefetch("additional_sections", queryset=SectionPage.objects.live().public()),
    )


def attach_sections(articles: list[ArticlePage]) -> list[ArticlePage]:
    return news_queries.attach_sections(articles)


def filter_articles(
    request: HttpRequest,
    queryset: QuerySet,
    *,
    section: str | None = None,
    section_id: int | None = None,
    author: str | None = None,
    tag: str | None = None,
    published_after: datetime | None = None,
    published_before: datetime | None = None,
) -> QuerySet:
    """Narrow an article query set. A section includes its subsections and the articles that list
    it (or a subsection) as a further section; a slug shared by two sections matches both."""
    Through = ArticlePage.additional_sections.through
    for lookup in (
        {"slug": section} if section is not None else None,
        {"pk": section_id} if section_id else None,
    ):
        if lookup is None:
            continue
        paths = list(sections(request).filter(**lookup).values_list("path", flat=True))
        if not paths:
            return queryset.none()
        in_tree = Q()
        further = Q()
        for path in paths:
            in_tree |= Q(path__startswith=path)
            further |= Q(sectionpage__path__startswith=path)
        queryset = queryset.filter(
            in_tree | Q(pk__in=Through.objects.filter(further).values("articlepage_id"))
        )
    if author is not None:
        queryset = queryset.filter(
            pk__in=ArticleByline.objects.filter(author__slug=author).values("article_id")
        )
    if tag is not None:
        queryset = queryset.filter(
            pk__in=ArticleTag.objects.filter(tag__slug=tag).values("content_object_id")
        )
    if published_after is not None:
        queryset = queryset.filter(first_published_at__gte=published_after)
    if published_before is not None:
        queryset = queryset.filter(first_published_at__lt=published_before)
    return queryset


def parent_ids(section_list: list[SectionPage]) -> dict[str, int]:
    """Tree path -> id of the live sections that directly enclose the given ones (one query).

    A view restriction covers everything below its page, so the parent of a public section is
    public too; only `live` needs checking.
    """
    wanted = {section.path[: -Page.steplen] for section in section_list}
    if not wanted:
        return {}
    return dict(SectionPage.objects.live().filter(path__in=wanted).values_list("path", "pk"))


def authors() -> QuerySet:
    return (
        Author.objects.select_related("photo")
        .prefetch_related("photo__renditions")
        .order_by(Lower("name"), "pk")
    )


def tags(request: HttpRequest) -> QuerySet:
    """Tags that at least one published article of this site carries, with how many do."""
    counts = (
        ArticleTag.objects.filter(tag=OuterRef("pk"), content_object__in=articles(request).values("pk"))
        .order_by()
        .values("tag")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        Tag.objects.annotate(article_count=Coalesce(Subquery(counts, output_field=IntegerField()), 0))
        .filter(article_count__gt=0)
        .order_by(Lower("name"), "pk")
    )
