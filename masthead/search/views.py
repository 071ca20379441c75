"""/search/: ranked full-text search of published articles, with filters and pages."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import cached_property

from masthead.news import cards, queries
from masthead.news.models import ArticleByline, ArticlePage

from . import engine, highlight
from .forms import SearchForm

MAX_PER_PAGE = 20
# Counting stops here: "more than 1,000 results" (50 pages) is all a reader needs to know, and
# counting every match of a common word is most of the cost of a search on a large site.
COUNT_LIMIT = 1000


class SearchPaginator(Paginator):
    """Pages of ranked results, counted (up to COUNT_LIMIT) by an unranked query."""

    def __init__(self, ranked, unranked, per_page: int) -> None:
        super().__init__(ranked, per_page)
        self.unranked = unranked
        self.count_is_capped = False

    @cached_property
    def count(self) -> int:
        found = self.unranked[: COUNT_LIMIT + 1].count()
        self.count_is_capped = found > COUNT_LIMIT
        return min(found, COUNT_LIMIT)


def per_page() -> int:
    return max(1, min(settings.MASTHEAD_PAGE_SIZE, MAX_PER_PAGE))


def filtered_articles(form: SearchForm):
    """Live, public articles narrowed by the form's filters (the form must be valid)."""
    data = form.cleaned_data
    section = data.get("section")
    # A section includes its subsections and the articles filed there as a further section.
    articles = queries.section_articles(section) if section else queries.published_articles()
    if data.get("author"):
        bylines = ArticleByline.objects.filter(author=data["author"])
        articles = articles.filter(pk__in=bylines.values("article_id"))
    start, end = form.published_range()
    if start:
        articles = articles.filter(first_published_at__gte=start)
    if end:
        articles = articles.filter(first_published_at__lt=end)
    return articles


def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    context = {"form": form, "query": request.GET.get("q", "").strip(), "terms": [], "searched": False}
    if not form.is_valid():
        return render(request, "search/search.html", context)

    terms = engine.terms_of(form.cleaned_data["q"])
    context["terms"] = terms
    if not terms:
        return render(request, "search/search.html", context)

    articles = filtered_articles(form)
    paginator = SearchPaginator(engine.search(articles, terms), engine.matching(articles, terms), per_page())
    try:
        page_obj = paginator.page(request.GET.get("page", 1))
    except PageNotAnInteger:
        page_obj = paginator.page(1)
    except EmptyPage:
        raise Http404("No such page of results")
    # Rank and cut the page on ids alone, then load the cards of those few: sorting the matches
    # with their card columns (body, comment counts) costs far more when a word is common.
    ids = list(page_obj.object_list.values_list("pk", flat=True))
    results = cards.load(ids, request)
    # The snippets are cut from the text, which cards leave out: one more query, for this page.
    texts = {a.pk: a.plain_text() for a in ArticlePage.objects.filter(pk__in=ids).only("standfirst", "body")}
    for card in results:
        card.snippet = highlight.snippet(texts.get(card.pk, ""), terms)
    page_obj.object_list = results
    context.update(page_obj=page_obj, searched=True)
    return render(request, "search/search.html", context)
