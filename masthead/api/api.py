"""The public read API, /api/v1/: articles, sections, authors and tags, as JSON.

Read-only and public: GET only, no authentication, `Access-Control-Allow-Origin: *` and a short
shared cache lifetime on every response. The OpenAPI schema is served at /api/v1/openapi.json and
generated from the explicit output schemas in masthead.api.schemas.

Bad input never reaches the database: path and query parameters are typed and bounded in the
schema (ids fit a 64-bit column, slugs are slug characters, limit is 1-100), and anything that
fails is answered with 400 and a JSON error naming the parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from ninja import NinjaAPI, Path, Query
from ninja.errors import HttpError, ValidationError
from wagtail.models import Page

from . import cursor, queries, schemas, serialize
from .docs import LocalSwagger

API_VERSION = "v1"
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_OFFSET = 1_000_000
MAX_ID = cursor.MAX_ID
SLUG_PATTERN = r"^[-\w]+$"
SLUG_MAX_LENGTH = 255
CACHE_CONTROL = "public, max-age=60"

ERRORS = {400: schemas.Error, 404: schemas.Error}


def public_headers(response: HttpResponse) -> HttpResponse:
    """Any origin may read; shared caches may keep a response for a minute."""
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = CACHE_CONTROL
    return response


def public_read(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        return public_headers(view(request, *args, **kwargs))

    return wrapper


class ReadAPI(NinjaAPI):
    def create_response(self, request, data, *, status=None, temporal_response=None) -> HttpResponse:
        response = super().create_response(request, data, status=status, temporal_response=temporal_response)
        return public_headers(response)


api = ReadAPI(
    title="masthead read API",
    version=API_VERSION,
    description=(
        "Published articles, sections, authors and tags of this site, as JSON. Read-only and "
        "public. Lists are paginated: articles with an opaque cursor (follow `next`), the others "
        "with limit and offset."
    ),
    urls_namespace="api-v1",
    docs=LocalSwagger(),
    docs_url="/docs/",
    docs_decorator=public_read,
)


def error(request: HttpRequest, status: int, detail: str, errors: list | None = None) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "errors": errors or []}, status=status)


@api.exception_handler(ValidationError)
def invalid_request(request, exc: ValidationError):
    items = [
        {
            "loc": [part for part in item.get("loc", ()) if isinstance(part, (str, int))],
            "msg": str(item.get("msg", "")),
        }
        for item in exc.errors
    ]
    return error(request, 400, "Invalid request.", items)


@api.exception_handler(Http404)
def not_found(request, exc):
    return error(request, 404, "Not found.")


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    return error(request, exc.status_code, exc.message)


def _slug(description: str):
    return Query(None, description=description, pattern=SLUG_PATTERN, max_length=SLUG_MAX_LENGTH)


def _slug_in_path(description: str):
    return Path(..., pattern=SLUG_PATTERN, max_length=SLUG_MAX_LENGTH, description=description)


def _id_in_path(description: str):
    return Path(..., ge=1, le=MAX_ID, description=description)


def _utc(value: datetime | None, name: str) -> datetime | None:
    """An aware UTC datetime (naive ones are taken as UTC); one that cannot be is a 400."""
    if value is None:
        return None
    try:
        if timezone.is_naive(value):
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValidationError([{"loc": ("query", name), "msg": "Date out of range."}]) from None


def _url_with(request: HttpRequest, **params) -> str:
    query = request.GET.copy()
    for key, value in params.items():
        query[key] = str(value)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


def _first_or_404(queryset):
    found = queryset.first()
    if found is None:
        raise Http404
    return found


def offset_list(
    path: str,
    *,
    name: str,
    operation_id: str,
    response: type[schemas.Schema],
    summary: str,
    rows: Callable[[HttpRequest], QuerySet],
    results: Callable[[HttpRequest, list], list[dict]],
):
    """Register GET `path`: the `rows` of a request, paged by limit and offset, each page
    turned into `results` (a list of dicts) in one call, so it can fetch what it needs in bulk."""

    def view(
        request,
        limit: int = Query(
            DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Items per page, at most {MAX_LIMIT}."
        ),
        offset: int = Query(0, ge=0, le=MAX_OFFSET, description="Items to skip."),
    ):
        queryset = rows(request)
        count = queryset.count()
        items = list(queryset[offset : offset + limit])
        following = offset + limit
        return {
            "count": count,
            "next": _url_with(request, limit=limit, offset=following) if following < count else None,
            "results": results(request, items),
        }

    view.__name__ = view.__qualname__ = operation_id
    return api.get(
        path,
        operation_id=operation_id,
        response={200: response, **ERRORS},
        url_name=name,
        summary=summary,
        tags=[name],
    )(view)


# Index ------------------------------------------------------------------------------------------


@api.get("/", operation_id="index", response=schemas.Index, summary="Where everything is", tags=["index"])
def index(request):
    def url(name: str) -> str:
        return request.build_absolute_uri(reverse(f"api-v1:{name}"))

    return {
        "articles": url("articles"),
        "sections": url("sections"),
        "authors": url("authors"),
        "tags": url("tags"),
        "openapi": url("openapi-json"),
    }


# Articles ---------------------------------------------------------------------------------------


@api.get(
    "/articles/",
    operation_id="listArticles",
    response={200: schemas.ArticleList, **ERRORS},
    url_name="articles",
    summary="Published articles, newest first",
    tags=["articles"],
)
def list_articles(
    request,
    # Optional parameters are typed without None so that the schema offers no `null` for a
    # query string, which cannot carry one; absent, they keep their default of None.
    limit: int = Query(
        DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Articles per page, at most {MAX_LIMIT}."
    ),
    cursor_token: str = Query(
        None,
        alias="cursor",
        description="Where to continue: the `next_cursor` of the previous page.",
        pattern=r"^[A-Za-z0-9_-]+$",
        max_length=cursor.MAX_LENGTH,
    ),
    section: str = _slug(
        "Section slug: articles in it, its subsections, or listing it as a further section."
    ),
    section_id: int = Query(None, ge=1, le=MAX_ID, description="Section id, the same way as `section`."),
    author: str = _slug("Author slug."),
    tag: str = _slug("Tag slug."),
    published_after: datetime = Query(
        None, description="First published at or after this ISO 8601 time (UTC when no offset is given)."
    ),
    published_before: datetime = Query(None, description="First published before this time."),
):
    queryset = queries.filter_articles(
        request,
        queries.articles(request),
        section=section,
        section_id=section_id,
        author=author,
        tag=tag,
        published_after=_utc(published_after, "published_after"),
        published_before=_utc(published_before, "published_before"),
    )
    try:
        queryset = cursor.after(queryset, cursor_token)
    except cursor.InvalidCursor:
        raise ValidationError([{"loc": ("query", "cursor"), "msg": "Invalid cursor."}]) from None
    found = list(queries.with_list_data(queryset)[: limit + 1])
    page = queries.attach_sections(found[:limit])
    next_cursor = None
    if len(found) > limit:
        last = page[-1]
        next_cursor = cursor.encode(last.first_published_at, last.pk)
    return {
        "next": _url_with(request, cursor=next_cursor) if next_cursor else None,
        "next_cursor": next_cursor,
        "results": [serialize.article_summary(request, article) for article in page],
    }


@api.get(
    "/articles/{article_id}/",
    operation_id="getArticle",
    response={200: schemas.ArticleDetail, **ERRORS},
    url_name="article",
    summary="One published article, with its body",
    tags=["articles"],
)
def get_article(request, article_id: int = _id_in_path("The article's id.")):
    # .defer(None): the list data leaves the body out, and this one shows it.
    found = list(queries.with_list_data(queries.articles(request).filter(pk=article_id)).defer(None))
    if not found:
        raise Http404
    (article,) = queries.attach_sections(found)
    return serialize.article_detail(request, article)


# Sections ---------------------------------------------------------------------------------------


def _sections_out(request: HttpRequest, section_list: list) -> list[dict]:
    parents = queries.parent_ids(section_list)
    return [
        serialize.section_detail(request, section, parents.get(section.path[: -Page.steplen]))
        for section in section_list
    ]


offset_list(
    "/sections/",
    name="sections",
    operation_id="listSections",
    response=schemas.SectionList,
    summary="Published sections, in tree order",
    rows=queries.sections,
    results=_sections_out,
)


@api.get(
    "/sections/{section_id}/",
    operation_id="getSection",
    response={200: schemas.Section, **ERRORS},
    url_name="section",
    summary="One published section",
    tags=["sections"],
)
def get_section(request, section_id: int = _id_in_path("The section's id.")):
    return _sections_out(request, [_first_or_404(queries.sections(request).filter(pk=section_id))])[0]


# Authors ----------------------------------------------------------------------------------------


offset_list(
    "/authors/",
    name="authors",
    operation_id="listAuthors",
    response=schemas.AuthorList,
    summary="Authors, by name",
    rows=lambda request: queries.authors(),
    results=lambda request, items: [serialize.author_detail(request, author) for author in items],
)


@api.get(
    "/authors/{slug}/",
    operation_id="getAuthor",
    response={200: schemas.Author, **ERRORS},
    url_name="author",
    summary="One author",
    tags=["authors"],
)
def get_author(request, slug: str = _slug_in_path("The author's slug.")):
    return serialize.author_detail(request, _first_or_404(queries.authors().filter(slug=slug)))


# Tags -------------------------------------------------------------------------------------------


offset_list(
    "/tags/",
    name="tags",
    operation_id="listTags",
    response=schemas.TagList,
    summary="Tags of published articles, by name",
    rows=queries.tags,
    results=lambda request, items: [serialize.tag_detail(request, tag) for tag in items],
)


@api.get(
    "/tags/{slug}/",
    operation_id="getTag",
    response={200: schemas.Tag, **ERRORS},
    url_name="tag",
    summary="One tag of published articles",
    tags=["tags"],
)
def get_tag(request, slug: str = _slug_in_path("The tag's slug.")):
    return serialize.tag_detail(request, _first_or_404(queries.tags(request).filter(slug=slug)))
