"""The read API: shapes, filters, pagination, published-only, no internals, bad input, queries."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone
from wagtail.models import PageViewRestriction
from wagtail.rich_text import RichText

from masthead.api import cursor
from masthead.comments.models import Comment
from masthead.news.models import ArticlePage

API = "/api/v1"

SUMMARY_KEYS = {
    "id", "headline", "standfirst", "url", "published_at", "updated_at", "section", "further_sections",
    "authors", "tags", "lead_image", "word_count", "reading_minutes", "comment_count",
}  # fmt: skip
DETAIL_KEYS = SUMMARY_KEYS | {"body"}
PICTURE_KEYS = {"url", "width", "height", "alt", "caption", "credit"}
SECTION_REF_KEYS = {"id", "title", "slug", "url"}
AUTHOR_REF_KEYS = {"name", "slug", "url"}
TAG_REF_KEYS = {"name", "slug", "url"}
SECTION_KEYS = {"id", "title", "slug", "path", "url", "parent_id", "intro"}
AUTHOR_KEYS = {"name", "slug", "role", "bio", "photo", "url"}
PHOTO_KEYS = {"url", "width", "height"}
TAG_KEYS = {"name", "slug", "url", "article_count"}
ERROR_KEYS = {"detail", "errors"}
BLOCK_KEYS = {
    "paragraph": {"type", "html"},
    "subhead": {"type", "text"},
    "quote": {"type", "text", "attribution"},
    "image": {"type"} | PICTURE_KEYS,
    "embed": {"type", "url", "title", "caption", "provider"},
}
# Names that would mean a model was serialised wholesale or an internal leaked.
FORBIDDEN_KEYS = {
    "email", "author_email", "user", "owner", "locked_by", "revision", "latest_revision", "live_revision",
    "latest_revision_id", "content_type", "content_type_id", "import_key", "depth", "numchild", "url_path",
    "draft_title", "live", "has_unpublished_changes", "search_description", "index_entries", "ip_hash",
    "translation_key", "locale", "comments_open", "password",
}  # fmt: skip


def get(client, url: str, status: int = 200):
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), url
    return response.json()


def keys_everywhere(value) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            found.add(key)
            found |= keys_everywhere(item)
    elif isinstance(value, list):
        for item in value:
            found |= keys_everywhere(item)
    return found


@pytest.fixture
def pub(desk, make_section, make_article, make_image):
    """Published articles in nested sections, plus a draft, an unpublished and two private ones."""
    world, mideast, politics, main = desk.world, desk.mideast, desk.politics, desk.main
    ada, ben = desk.ada, desk.ben
    world_story = make_article(
        world, "World story", authors=[ada], tags=["Gaza"], days_ago=5, lead_image=make_image("World lead")
    )
    mideast_story = make_article(
        mideast, "Mideast story", authors=[ada, ben], tags=["Gaza", "Peace"], days_ago=4
    )
    politics_story = make_article(politics, "Politics story", authors=[ben], further=[main], days_ago=3)
    front_story = make_article(politics, "Front story", further=[world], tags=["Vote"], days_ago=2)

    draft = make_article(world, "Draft story", authors=[ada], tags=["Embargoed"], publish=False)
    unpublished = make_article(world, "Pulled story", tags=["Embargoed"], days_ago=1)
    unpublished.unpublish()
    members = make_section("Members")
    PageViewRestriction.objects.create(
        page=members, restriction_type=PageViewRestriction.PASSWORD, password="x"
    )
    members_story = make_article(members, "Members story", tags=["Embargoed"], days_ago=1)
    private_story = make_article(world, "Private story", tags=["Embargoed"], days_ago=1)
    PageViewRestriction.objects.create(page=private_story, restriction_type=PageViewRestriction.LOGIN)
    hidden_section = make_section("Hidden section")
    hidden_section.unpublish()

    return SimpleNamespace(
        world=world,
        mideast=mideast,
        politics=politics,
        main=main,
        members=members,
        hidden_section=hidden_section,
        ada=ada,
        ben=ben,
        published=[front_story, politics_story, mideast_story, world_story],  # newest first
        world_story=world_story,
        mideast_story=mideast_story,
        politics_story=politics_story,
        front_story=front_story,
        hidden=[draft, unpublished, members_story, private_story],
    )


def ids(page: dict) -> list[int]:
    return [item["id"] for item in page["results"]]


def walk(client, url: str) -> list[dict]:
    """Every item of a paginated list, following `next` to the end."""
    items: list[dict] = []
    while url:
        page = get(client, url)
        items.extend(page["results"])
        url = page["next"]
        assert len(items) < 1000, "pagination does not end"
    return items


# Shapes -------------------------------------------------------------------------------------------


def test_index_points_at_every_list_and_the_schema(client, db):
    index = get(client, f"{API}/")
    assert index == {
        "articles": "http://testserver/api/v1/articles/",
        "sections": "http://testserver/api/v1/sections/",
        "authors": "http://testserver/api/v1/authors/",
        "tags": "http://testserver/api/v1/tags/",
        "openapi": "http://testserver/api/v1/openapi.json",
    }


def test_article_list_items_have_exactly_the_documented_fields(client, pub):
    page = get(client, f"{API}/articles/")
    assert set(page) == {"next", "next_cursor", "results"}
    assert ids(page) == [a.pk for a in pub.published]
    item = next(i for i in page["results"] if i["id"] == pub.world_story.pk)
    assert set(item) == SUMMARY_KEYS
    assert item["headline"] == "World story"
    assert item["url"] == "http://testserver/world/world-story/"
    assert item["section"] == {
        "id": pub.world.pk, "title": "World", "slug": "world", "url": "http://testserver/world/",
    }  # fmt: skip
    assert item["authors"] == [
        {"name": "Ada Reporter", "slug": "ada-reporter", "url": "http://testserver/authors/ada-reporter/"}
    ]
    assert item["tags"] == [{"name": "Gaza", "slug": "gaza", "url": "http://testserver/tags/gaza/"}]
    assert set(item["lead_image"]) == PICTURE_KEYS
    assert item["lead_image"]["url"].startswith("http://testserver/media/images/")
    assert item["lead_image"]["alt"] == "A picture: World lead"
    assert (item["lead_image"]["width"], item["lead_image"]["height"]) == (320, 180)
    assert item["word_count"] > 0 and item["reading_minutes"] == 1 and item["comment_count"] == 0
    assert item["updated_at"] is None
    front = next(i for i in page["results"] if i["id"] == pub.front_story.pk)
    assert front["further_sections"] == [
        {"id": pub.world.pk, "title": "World", "slug": "world", "url": "http://testserver/world/"}
    ]
    assert front["lead_image"] is None


def test_article_detail_has_body_blocks_with_safe_html(client, pub, make_image):
    article = pub.world_story
    picture = make_image("Inline")
    article.body = [
        (
            "paragraph",
            RichText(
                '<p data-block-key="k1">Read <a href="https://example.com/x" onclick="evil()">this</a>'
                f' and <a linktype="page" id="{pub.politics_story.pk}">that</a>'
                "<script>alert(1)</script> <b>now</b></p>"
            ),
        ),
        ("subhead", "What next"),
        ("quote", {"quote": "We will see.", "attribution": "A minister"}),
        ("image", {"image": picture, "alt_text": "", "caption": "A caption", "credit": "Photographer"}),
        ("embed", {"url": "https://www.example.org/watch?v=1", "title": "The video", "caption": ""}),
    ]
    article.lead_image_caption, article.lead_image_credit = "Lead caption", "Lead credit"
    article.save_revision().publish()
    ArticlePage.objects.filter(pk=article.pk).update(
        last_published_at=article.first_published_at + timedelta(hours=2)
    )

    detail = get(client, f"{API}/articles/{article.pk}/")
    assert set(detail) == DETAIL_KEYS
    for block in detail["body"]:
        assert set(block) == BLOCK_KEYS[block["type"]]
    paragraph, subhead, quote, image, embed = detail["body"]
    html = paragraph["html"]
    assert "<script" not in html and "onclick" not in html and "data-block-key" not in html
    assert 'href="https://example.com/x"' in html and "<b>now</b>" in html
    assert 'href="http://testserver/politics/politics-story/"' in html  # internal links: absolute
    assert subhead == {"type": "subhead", "text": "What next"}
    assert quote == {"type": "quote", "text": "We will see.", "attribution": "A minister"}
    assert image["url"].startswith("http://testserver/media/images/")
    assert (image["alt"], image["caption"], image["credit"]) == (
        "A picture: Inline",
        "A caption",
        "Photographer",
    )
    assert embed == {
        "type": "embed", "url": "https://www.example.org/watch?v=1", "title": "The video", "caption": "",
        "provider": "example.org",
    }  # fmt: skip
    assert (detail["lead_image"]["caption"], detail["lead_image"]["credit"]) == (
        "Lead caption",
        "Lead credit",
    )
    assert detail["updated_at"] is not None


def test_comment_count_is_approved_comments_and_no_commenter_data_leaks(client, pub):
    article = pub.world_story
    for state in (Comment.State.APPROVED, Comment.State.APPROVED, Comment.State.PENDING, Comment.State.SPAM):
        Comment.objects.create(
            article=article,
            author_name="Reader",
            author_email="reader-secret@example.com",
            body="Hi",
            state=state,
        )
    detail = get(client, f"{API}/articles/{article.pk}/")
    assert detail["comment_count"] == 2
    listed = get(client, f"{API}/articles/?author=ada-reporter")
    assert next(i for i in listed["results"] if i["id"] == article.pk)["comment_count"] == 2
    assert b"reader-secret" not in client.get(f"{API}/articles/{article.pk}/").content


def test_sections_list_and_detail(client, pub):
    page = get(client, f"{API}/sections/")
    assert set(page) == {"count", "next", "results"}
    by_slug = {s["slug"]: s for s in page["results"]}
    assert set(by_slug) == {"world", "middle-east", "politics", "main-stories"}  # no private, no unpublished
    assert page["count"] == 4
    for section in page["results"]:
        assert set(section) == SECTION_KEYS
    assert by_slug["middle-east"] == {
        "id": pub.mideast.pk,
        "title": "Middle East",
        "slug": "middle-east",
        "path": "/world/middle-east/",
        "url": "http://testserver/world/middle-east/",
        "parent_id": pub.world.pk,
        "intro": "",
    }
    assert by_slug["world"]["parent_id"] is None
    assert get(client, f"{API}/sections/{pub.mideast.pk}/") == by_slug["middle-east"]


def test_authors_list_and_detail(client, pub, make_image):
    pub.ada.photo = make_image("Ada portrait")
    pub.ada.save()
    page = get(client, f"{API}/authors/")
    assert [a["slug"] for a in page["results"]] == ["ada-reporter", "ben-writer"]
    assert page["count"] == 2
    ada = get(client, f"{API}/authors/ada-reporter/")
    assert set(ada) == AUTHOR_KEYS
    assert set(ada["photo"]) == PHOTO_KEYS
    assert ada["photo"]["url"].startswith("http://testserver/media/images/")
    assert (ada["name"], ada["role"], ada["bio"]) == ("Ada Reporter", "Reporter", "Ada Reporter reports.")
    assert ada["url"] == "http://testserver/authors/ada-reporter/"
    assert get(client, f"{API}/authors/ben-writer/")["photo"] is None


def test_tags_count_published_articles_only(client, pub):
    page = get(client, f"{API}/tags/")
    counts = {t["slug"]: t["article_count"] for t in page["results"]}
    # "Embargoed" is only on the draft, unpublished and private articles: it does not exist here.
    assert counts == {"gaza": 2, "peace": 1, "vote": 1}
    for tag in page["results"]:
        assert set(tag) == TAG_KEYS
    assert get(client, f"{API}/tags/gaza/") == {
        "name": "Gaza", "slug": "gaza", "url": "http://testserver/tags/gaza/", "article_count": 2,
    }  # fmt: skip
    get(client, f"{API}/tags/embargoed/", 404)


# Published only ---------------------------------------------------------------------------------


def test_drafts_unpublished_and_private_articles_never_appear(client, pub):
    listed = {item["id"] for item in walk(client, f"{API}/articles/?limit=1")}
    assert listed == {a.pk for a in pub.published}
    for article in pub.hidden:
        assert get(client, f"{API}/articles/{article.pk}/", 404) == {"detail": "Not found.", "errors": []}
    for section in (pub.members, pub.hidden_section):
        get(client, f"{API}/sections/{section.pk}/", 404)
        assert get(client, f"{API}/articles/?section_id={section.pk}")["results"] == []
    # Page ids of other kinds are not articles or sections.
    get(client, f"{API}/articles/{pub.world.pk}/", 404)
    get(client, f"{API}/sections/{pub.world_story.pk}/", 404)


def test_no_internal_fields_anywhere(client, pub):
    urls = [
        f"{API}/articles/",
        f"{API}/articles/{pub.mideast_story.pk}/",
        f"{API}/sections/",
        f"{API}/sections/{pub.mideast.pk}/",
        f"{API}/authors/",
        f"{API}/authors/ada-reporter/",
        f"{API}/tags/",
        f"{API}/tags/gaza/",
    ]
    for url in urls:
        data = get(client, url)
        assert not keys_everywhere(data) & FORBIDDEN_KEYS, url
        text = json.dumps(data)
        assert "/home/" not in text and '"0001' not in text, url  # no url_path or tree path


# Filters ----------------------------------------------------------------------------------------


def test_section_filter_includes_subsections_and_further_articles(client, pub):
    # World: its own story, the Middle East (subsection) story, and the story listing it as further.
    expected = [pub.front_story.pk, pub.mideast_story.pk, pub.world_story.pk]
    assert ids(get(client, f"{API}/articles/?section=world")) == expected
    assert ids(get(client, f"{API}/articles/?section_id={pub.world.pk}")) == expected
    assert ids(get(client, f"{API}/articles/?section=middle-east")) == [pub.mideast_story.pk]
    assert ids(get(client, f"{API}/articles/?section=main-stories")) == [pub.politics_story.pk]
    assert get(client, f"{API}/articles/?section=nowhere")["results"] == []
    assert get(client, f"{API}/articles/?section=members")["results"] == []


def test_author_tag_and_date_filters(client, pub):
    assert ids(get(client, f"{API}/articles/?author=ada-reporter")) == [
        pub.mideast_story.pk,
        pub.world_story.pk,
    ]
    assert ids(get(client, f"{API}/articles/?author=ben-writer")) == [
        pub.politics_story.pk,
        pub.mideast_story.pk,
    ]
    assert ids(get(client, f"{API}/articles/?tag=gaza")) == [pub.mideast_story.pk, pub.world_story.pk]
    assert ids(get(client, f"{API}/articles/?tag=gaza&author=ben-writer")) == [pub.mideast_story.pk]
    assert get(client, f"{API}/articles/?tag=embargoed")["results"] == []

    cut = (timezone.now() - timedelta(days=3, hours=12)).isoformat()
    after = get(client, f"{API}/articles/?" + f"published_after={cut}".replace("+", "%2B"))
    assert ids(after) == [pub.front_story.pk, pub.politics_story.pk]
    before = get(client, f"{API}/articles/?" + f"published_before={cut}".replace("+", "%2B"))
    assert ids(before) == [pub.mideast_story.pk, pub.world_story.pk]
    # A time without an offset is UTC; a date alone is its midnight.
    naive = (timezone.now() - timedelta(days=3, hours=12)).replace(tzinfo=None).isoformat()
    assert ids(get(client, f"{API}/articles/?published_after={naive}")) == ids(after)
    assert ids(get(client, f"{API}/articles/?published_after=2000-01-01")) == [a.pk for a in pub.published]


def test_filters_are_kept_in_next_links(client, pub):
    page = get(client, f"{API}/articles/?section=world&limit=2")
    assert "section=world" in page["next"] and "limit=2" in page["next"]
    rest = get(client, page["next"])
    assert ids(page) + ids(rest) == [pub.front_story.pk, pub.mideast_story.pk, pub.world_story.pk]
    assert rest["next"] is None and rest["next_cursor"] is None


# Pagination -------------------------------------------------------------------------------------


def test_cursor_walk_has_no_duplicates_or_gaps_even_with_equal_times(client, make_section, make_article):
    section = make_section("World")
    articles = [make_article(section, f"Story {i}", days_ago=i / 10) for i in range(13)]
    # Five articles published at the very same instant: the id breaks the tie.
    same = timezone.now() - timedelta(days=3)
    ArticlePage.objects.filter(pk__in=[a.pk for a in articles[3:8]]).update(first_published_at=same)
    expected = list(
        ArticlePage.objects.filter(pk__in=[a.pk for a in articles])
        .order_by("-first_published_at", "-pk")
        .values_list("pk", flat=True)
    )
    for limit in (1, 2, 3, 5, 13, 100):
        walked = walk(client, f"{API}/articles/?limit={limit}")
        assert [item["id"] for item in walked] == expected, limit
    first = get(client, f"{API}/articles/?limit=4")
    assert first["next"].startswith("http://testserver/api/v1/articles/?")
    assert ids(get(client, f"{API}/articles/?limit=4&cursor={first['next_cursor']}")) == expected[4:8]


def test_articles_published_during_a_walk_do_not_shift_later_pages(client, make_section, make_article):
    section = make_section("World")
    olds = [make_article(section, f"Old {i}", days_ago=10 + i) for i in range(4)]
    first = get(client, f"{API}/articles/?limit=2")
    make_article(section, "Breaking")  # newest: belongs before the cursor, not in later pages
    rest = walk(client, first["next"])
    assert ids(first) + [i["id"] for i in rest] == [a.pk for a in olds]


def test_offset_lists_walk_with_next(client, make_author, make_section, make_article):
    authors = [make_author(f"Person {i:02d}") for i in range(7)]
    section = make_section("World")
    for i in range(5):
        make_article(section, f"Story {i}", tags=[f"Topic {i}"])
    walked = walk(client, f"{API}/authors/?limit=3")
    assert [a["slug"] for a in walked] == [a.slug for a in authors]
    assert [t["slug"] for t in walk(client, f"{API}/tags/?limit=2")] == [f"topic-{i}" for i in range(5)]
    assert [s["slug"] for s in walk(client, f"{API}/sections/?limit=1")] == ["world"]
    page = get(client, f"{API}/authors/?limit=3&offset=6")
    assert page["count"] == 7 and len(page["results"]) == 1 and page["next"] is None
    assert get(client, f"{API}/authors/?offset=100")["results"] == []


def test_limit_defaults_to_20(client, make_section, make_article):
    section = make_section("World")
    for i in range(21):
        make_article(section, f"Story {i}")
    page = get(client, f"{API}/articles/")
    assert len(page["results"]) == 20 and page["next"]
    assert len(get(client, page["next"])["results"]) == 1


# Bad input --------------------------------------------------------------------------------------


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


BAD_REQUESTS = [
    "/articles/abc/",
    "/articles/0/",
    "/articles/-1/",
    "/articles/99999999999999999999999999/",
    "/sections/1.5/",
    "/authors/no%20spaces/",
    "/tags/%00/",
    "/articles/?limit=10000",
    "/articles/?limit=0",
    "/articles/?limit=ten",
    "/articles/?section_id=abc",
    "/articles/?section_id=99999999999999999999999",
    "/articles/?section=a%20b",
    "/articles/?author=%00",
    "/articles/?tag=" + "x" * 300,
    "/articles/?published_after=yesterday",
    "/articles/?published_before=2024-13-45T00:00:00Z",
    "/articles/?published_after=9999-12-31T23:59:59-23:59",
    "/articles/?published_before=0001-01-01T00:00:00%2B23:59",
    "/articles/?cursor=not*a*cursor",
    "/articles/?cursor=" + b64(b"not json"),
    "/articles/?cursor=" + b64(b'{"a": 1}'),
    "/articles/?cursor=" + b64(b'["2024-01-01T00:00:00", 5]'),  # no offset
    "/articles/?cursor=" + b64(b'["2024-01-01T00:00:00+00:00", -5]'),
    "/articles/?cursor=" + b64(b'["2024-01-01T00:00:00+00:00", 5, 6]'),
    "/articles/?cursor=" + b64(b'["2024-01-01T00:00:00+00:00", true]'),
    "/articles/?cursor=" + b64(b'["9999-12-31T23:59:59-23:59", 5]'),
    "/articles/?cursor=" + b64(b"\xff\xfe"),
    "/articles/?cursor=" + "A" * 500,
    "/sections/?offset=-1",
    "/sections/?offset=99999999999999999999",
    "/tags/?limit=101",
]


@pytest.mark.parametrize("path", BAD_REQUESTS)
def test_bad_input_is_a_json_400_never_a_500(client, db, path):
    body = get(client, f"{API}{path}", 400)
    assert set(body) == ERROR_KEYS and body["detail"]
    assert body["errors"] and all(set(e) == {"loc", "msg"} for e in body["errors"])


@pytest.mark.parametrize(
    "path", ["/nothing/", "/articles/1/extra/", "/authors/nobody/", "/tags/nothing/", "/sections/999999/"]
)
def test_unknown_addresses_are_a_json_404(client, db, path):
    assert get(client, f"{API}{path}", 404) == {"detail": "Not found.", "errors": []}


def test_only_get(client, pub):
    assert client.post(f"{API}/articles/").status_code == 405
    assert client.delete(f"{API}/articles/{pub.world_story.pk}/").status_code == 405


def test_cursor_round_trip():
    when = timezone.now()
    assert cursor.decode(cursor.encode(when, 42)) == (when, 42)


# Headers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/articles/", "/articles/?limit=0", "/tags/nothing/", "/nothing/", "/openapi.json"]
)
def test_public_read_headers(client, db, path):
    response = client.get(f"{API}{path}")
    assert response["Access-Control-Allow-Origin"] == "*"
    # Browsers keep it a minute; masthead.caching adds s-maxage and stale-* for shared caches.
    assert response["Cache-Control"].startswith("public, max-age=60")
    assert "Set-Cookie" not in response and "Cookie" not in response.get("Vary", "")


# Queries ----------------------------------------------------------------------------------------


def test_query_counts_do_not_grow_with_page_size(
    client, count_queries, desk, make_author, make_article, make_image
):
    world, main = desk.world, desk.main
    sections = [world, desk.mideast, desk.politics]

    def add(count: int) -> None:
        for _ in range(count):
            n = ArticlePage.objects.count()
            make_article(
                sections[n % 3],
                authors=[make_author(), make_author()],
                tags=[f"tag {n}", "shared"],
                further=[main, world],
                lead_image=make_image(),
            )

    urls = [
        f"{API}/articles/?limit=100",
        f"{API}/articles/?limit=100&section=world&tag=shared",
        f"{API}/sections/?limit=100",
        f"{API}/authors/?limit=100",
        f"{API}/tags/?limit=100",
    ]
    add(5)
    small = {url: count_queries(url) for url in urls}
    small_detail = count_queries(f"{API}/articles/{ArticlePage.objects.first().pk}/")
    add(45)
    assert ArticlePage.objects.count() == 50
    large = {url: count_queries(url) for url in urls}
    assert large == small
    assert len(get(client, urls[0])["results"]) == 50
    assert max(small.values()) <= 12, small
    # An article with many bylines, tags and sections costs what one with few does.
    big = ArticlePage.objects.order_by("pk").last()
    assert count_queries(f"{API}/articles/{big.pk}/") == small_detail


# Schema and docs --------------------------------------------------------------------------------


def test_openapi_schema_is_served_and_strict(client, db):
    schema = get(client, f"{API}/openapi.json")
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        f"{API}/", f"{API}/articles/", f"{API}/articles/{{article_id}}/", f"{API}/sections/",
        f"{API}/sections/{{section_id}}/", f"{API}/authors/", f"{API}/authors/{{slug}}/", f"{API}/tags/",
        f"{API}/tags/{{slug}}/",
    }  # fmt: skip
    assert all(set(ops) == {"get"} for ops in schema["paths"].values())
    for name, component in schema["components"]["schemas"].items():
        assert component.get("additionalProperties") is False, name


def test_docs_are_served_without_third_party_requests(client, db):
    response = client.get(f"{API}/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "https://" not in page and "http://" not in page and "//cdn" not in page
    assert '"validatorUrl": null' in page
    assert f'"url": "{API}/openapi.json"' in page
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-init.js"):
        assert f"{API}/docs/assets/{name}" in page
        asset = client.get(f"{API}/docs/assets/{name}")
        assert asset.status_code == 200 and asset["Cache-Control"].startswith("public")
        assert b"".join(asset.streaming_content)  # read to the end, which closes it as a server would
    assert client.get(f"{API}/docs/assets/settings.py").status_code == 404
    assert client.get(f"{API}/docs/assets/..%2F..%2F__init__.py").status_code != 200
