"""Structured data and cards, read back from the rendered HTML the way crawlers read them.

JSON-LD is extracted with extruct (what the shared quality recipes use), then checked property by
property: schema.org NewsArticle and BreadcrumbList on articles, NewsMediaOrganization and WebSite
on the home front. OpenGraph and Twitter meta, the canonical link and the meta description are
checked on every public page type.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import extruct
import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.models import Site

from masthead.comments.identity import POSTED_SALT, sign
from masthead.comments.models import Comment
from masthead.distribution import structured_data
from masthead.distribution.models import PublicationSettings
from masthead.news.models import ArticlePage

HOST = "http://localhost"  # the default Site's host; requests are sent to it
SITE_NAME = "The Masthead"
DESCRIPTION = "Independent reporting on the world, from people who live in it."

pytestmark = pytest.mark.usefixtures("fresh_cache")


# --- reading a page ------------------------------------------------------------------------------


class Page:
    """One rendered page: its HTML, its JSON-LD items (via extruct) and its <head> meta."""

    def __init__(self, response, url: str):
        self.response = response
        self.text = response.content.decode()
        self.doc = BeautifulSoup(self.text, "html.parser")
        data = extruct.extract(self.text, base_url=HOST + url, syntaxes=["json-ld"], uniform=True)
        self.items = [node for block in data["json-ld"] for node in block.get("@graph", [block])]

    def of_type(self, schema_type: str) -> list[dict]:
        return [item for item in self.items if schema_type in _types(item)]

    def one(self, schema_type: str) -> dict:
        found = self.of_type(schema_type)
        assert len(found) == 1, (schema_type, self.items)
        return found[0]

    def prop(self, name: str) -> str | None:
        tag = self.doc.find("meta", attrs={"property": name})
        return tag["content"] if tag else None

    def props(self, name: str) -> list[str]:
        return [tag["content"] for tag in self.doc.find_all("meta", attrs={"property": name})]

    def name(self, name: str) -> str | None:
        tag = self.doc.find("meta", attrs={"name": name})
        return tag["content"] if tag else None

    @property
    def canonical(self) -> str | None:
        links = self.doc.select("link[rel=canonical]")
        assert len(links) <= 1, links
        return links[0]["href"] if links else None

    @property
    def description(self) -> str:
        tags = self.doc.find_all("meta", attrs={"name": "description"})
        assert len(tags) == 1, tags
        return tags[0]["content"]


def _types(item: dict) -> list[str]:
    value = item.get("@type", [])
    return value if isinstance(value, list) else [value]


def is_absolute(url) -> bool:
    parts = urlsplit(url if isinstance(url, str) else "")
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def aware(value: str) -> datetime:
    """An ISO 8601 date-time with its UTC offset (a naive one fails)."""
    moment = datetime.fromisoformat(value)
    assert moment.tzinfo is not None and moment.utcoffset() is not None, value
    return moment


# --- a small publication -------------------------------------------------------------------------


@pytest.fixture
def publication(desk, make_article, make_image):
    """Requests go to the default Site's host (localhost:80), so page URLs (from the Site) and
    author, tag and image URLs (from the request) share one origin."""
    site = Site.objects.get(is_default_site=True)
    assert (site.hostname, site.port) == ("localhost", 80)
    settings_row = PublicationSettings.for_site(site)
    settings_row.description = DESCRIPTION
    settings_row.social_handle = "@masthead"
    settings_row.save()

    ada = desk.ada
    ada.role, ada.bio, ada.photo = "Middle East correspondent", "Ada has reported from the region since 2009.", make_image()
    ada.save()
    article = make_article(
        desk.mideast,
        "Talks resume as ceasefire hopes rise",
        authors=[ada, desk.ben],
        tags=["Gaza", "Diplomacy"],
        further=[desk.main],
        standfirst="Negotiators met again on Tuesday, the first time in a month.",
        lead_image=make_image("Lead"),
        days_ago=2,
    )
    return {"site": site, "settings": settings_row, **vars(desk), "article": article}


@pytest.fixture
def get(client):
    def fetch(url: str, status: int = 200) -> Page:
        response = client.get(url, HTTP_HOST="localhost")
        assert response.status_code == status, (url, response.status_code)
        return Page(response, url)

    return fetch


# --- NewsArticle ---------------------------------------------------------------------------------


def test_article_has_a_complete_news_article(get, client, publication):
    article, ada, ben = publication["article"], publication["ada"], publication["ben"]
    page = get(article.url)
    canonical = HOST + article.url
    assert page.canonical == canonical == article.get_full_url()

    news = page.one("NewsArticle")
    assert news["@context"] == "https://schema.org"
    assert news["@id"] == canonical + "#article"
    assert news["url"] == canonical
    assert news["headline"] == article.title
    assert news["description"] == article.standfirst
    published, modified = aware(news["datePublished"]), aware(news["dateModified"])
    assert published == article.first_published_at.replace(microsecond=0)
    assert modified == article.last_published_at.replace(microsecond=0) and modified >= published
    assert news["author"] == [
        {"@type": "Person", "name": "Ada Reporter", "url": f"{HOST}/authors/ada-reporter/",
         "jobTitle": "Middle East correspondent"},
        {"@type": "Person", "name": "Ben Writer", "url": f"{HOST}/authors/ben-writer/", "jobTitle": "Reporter"},
    ]
    assert client.get(urlsplit(news["author"][0]["url"]).path).status_code == 200

    publisher = news["publisher"]
    assert _types(publisher) == ["NewsMediaOrganization"]
    assert publisher["name"] == SITE_NAME and publisher["url"] == f"{HOST}/"
    assert publisher["@id"] == f"{HOST}/#organization"
    assert publisher["logo"] == {"@type": "ImageObject", "url": f"{HOST}/static/masthead/logo.png",
                                 "width": 600, "height": 60}

    assert isinstance(news["image"], list) and len(news["image"]) >= 1
    for url in news["image"]:
        assert is_absolute(url) and urlsplit(url).path.startswith("/media/images/"), url
        served = client.get(urlsplit(url).path)
        assert served.status_code == 200 and served["Content-Type"].startswith("image/"), url
        served.close()
    assert any("width-1200" in url for url in news["image"])

    assert news["articleSection"] == ["Middle East", "Main Stories"]  # primary first
    assert news["keywords"] == ["Diplomacy", "Gaza"]
    assert news["mainEntityOfPage"] == {"@type": "WebPage", "@id": canonical}
    assert news["isAccessibleForFree"] is True
    assert news["inLanguage"] == "en"
    assert news["wordCount"] == article.word_count


def test_article_breadcrumb_list_follows_the_section_trail(get, publication):
    page = get(publication["article"].url)
    crumbs = page.one("BreadcrumbList")["itemListElement"]
    assert [(c["@type"], c["position"], c["name"], c["item"]) for c in crumbs] == [
        ("ListItem", 1, "Home", f"{HOST}/"),
        ("ListItem", 2, "World", f"{HOST}/world/"),
        ("ListItem", 3, "Middle East", f"{HOST}/world/middle-east/"),
    ]
    # The same trail as the visible breadcrumb.
    assert [a.get_text() for a in page.doc.select("nav.breadcrumb a")] == [c["name"] for c in crumbs]


def test_long_headline_is_cut_at_a_word_to_110_characters(get, publication, make_article):
    title = "Ministers from eleven countries agree a framework for talks " * 3
    article = make_article(publication["world"], title.strip())
    headline = get(article.url).one("NewsArticle")["headline"]
    assert len(headline) <= 110 and headline.endswith("…")
    assert article.title.startswith(headline[:-1]) and article.title[len(headline) - 1] == " "


def test_hostile_headline_cannot_break_out_of_the_json_ld(get, publication, make_article):
    title = 'He said "</script><script>alert(1)</script>" & <!-- then \' left'
    standfirst = "Line\u2028separators\u2029and ]]> too."
    article = make_article(publication["world"], title, standfirst=standfirst)
    page = get(article.url)
    assert "<script>alert(1)" not in page.text and "<!-- then" not in page.text
    news = page.one("NewsArticle")
    assert news["headline"] == title
    assert news["description"] == "Line separators and ]]> too."  # one line: U+2028/9 are whitespace
    blocks = page.doc.find_all("script", type="application/ld+json")
    assert len(blocks) == 2  # NewsArticle and BreadcrumbList, nothing split off
    for block in blocks:
        raw = block.string
        assert raw.isascii() and "<" not in raw and ">" not in raw and "&" not in raw
        json.loads(raw)
    assert page.prop("og:title") == title  # attribute-escaped, still the exact text


def test_json_ld_serialiser_escapes_markup():
    text = structured_data.json_ld({"a": "</script><!--&\u2028é"})
    assert str(text) == '{"a":"\\u003c/script\\u003e\\u003c!--\\u0026\\u2028\\u00e9"}'
    assert json.loads(text) == {"a": "</script><!--&\u2028é"}


@pytest.mark.parametrize(
    "text, limit, expected",
    [
        ("Short enough", 110, "Short enough"),
        ("  Spaces\n and\tlines  ", 110, "Spaces and lines"),
        ("one two three four", 12, "one two…"),
        ("one two, three four", 14, "one two…"),
        ("Supercalifragilistic", 10, "Supercali…"),
    ],
)
def test_truncate(text, limit, expected):
    assert structured_data.truncate(text, limit) == expected
    assert len(structured_data.truncate(text, limit)) <= limit


def test_dates_carry_the_sites_time_zone(get, publication, settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    article = publication["article"]
    page = get(article.url)
    published = aware(page.one("NewsArticle")["datePublished"])
    assert published.utcoffset() == timedelta(hours=5, minutes=30)
    assert published == article.first_published_at.replace(microsecond=0)
    assert page.prop("article:published_time") == page.one("NewsArticle")["datePublished"]


def test_publisher_logo_comes_from_the_settings_without_another_query(client, get, publication, make_image):
    url = publication["article"].url

    def count() -> int:
        client.get(url)  # warm: renditions are made once
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        return len(ctx.captured_queries)

    without_logo = count()
    publication["settings"].publisher_logo = make_image("Logo")
    publication["settings"].save()
    assert count() == without_logo
    logo = get(url).one("NewsArticle")["publisher"]["logo"]
    assert logo["@type"] == "ImageObject" and is_absolute(logo["url"])
    assert "/media/images/logo" in logo["url"] and (logo["width"], logo["height"]) == (320, 180)


def test_article_without_standfirst_or_image_describes_itself_from_its_text(get, publication, make_article):
    words = " ".join(f"word{i}" for i in range(60))
    article = make_article(publication["world"], "Plain story", paragraphs=[words], authors=[publication["ben"]])
    page = get(article.url)
    assert page.description.startswith("word0 word1") and page.description.endswith("…")
    assert len(page.description) <= 156
    news = page.one("NewsArticle")
    assert news["description"] == page.description
    assert "image" not in news  # no picture: no property, rather than an empty or relative one
    assert page.prop("og:image") is None and page.name("twitter:card") == "summary"


# --- home front ----------------------------------------------------------------------------------


def test_home_has_organization_and_website_with_search_action(get, publication):
    page = get("/")
    assert page.canonical == f"{HOST}/"
    org = page.one("NewsMediaOrganization")
    assert org["@id"] == f"{HOST}/#organization"
    assert org["name"] == SITE_NAME and org["url"] == f"{HOST}/"
    assert org["description"] == DESCRIPTION
    assert org["logo"]["@type"] == "ImageObject" and is_absolute(org["logo"]["url"])
    assert org["sameAs"] == ["https://x.com/masthead"]

    site = page.one("WebSite")
    assert site["@id"] == f"{HOST}/#website" and site["url"] == f"{HOST}/" and site["name"] == SITE_NAME
    assert site["publisher"] == {"@id": org["@id"]}
    assert site["inLanguage"] == "en"
    action = site["potentialAction"]
    assert action["@type"] == "SearchAction"
    assert action["target"] == {"@type": "EntryPoint", "urlTemplate": f"{HOST}/search/?q={{search_term_string}}"}
    assert action["query-input"] == "required name=search_term_string"
    assert not page.of_type("NewsArticle")


# --- OpenGraph and Twitter -----------------------------------------------------------------------


def test_article_opengraph_and_twitter_card(get, publication):
    article = publication["article"]
    page = get(article.url)
    news = page.one("NewsArticle")
    assert page.prop("og:type") == "article"
    assert page.prop("og:title") == article.title
    assert page.prop("og:description") == page.description == article.standfirst
    assert page.prop("og:url") == page.canonical
    assert page.prop("og:site_name") == SITE_NAME
    image = page.prop("og:image")
    assert is_absolute(image) and image in news["image"]
    assert int(page.prop("og:image:width")) > 0 and int(page.prop("og:image:height")) > 0
    assert page.prop("og:image:alt") == article.lead_image.default_alt_text
    assert page.prop("article:published_time") == news["datePublished"]
    assert page.prop("article:modified_time") == news["dateModified"]
    assert page.prop("article:section") == "Middle East"
    assert page.props("article:tag") == ["Diplomacy", "Gaza"]
    assert page.props("article:author") == [a["url"] for a in news["author"]]
    assert page.name("twitter:card") == "summary_large_image"
    assert page.name("twitter:site") == "@masthead"


@pytest.mark.parametrize("handle", ["masthead", "@masthead", "https://x.com/masthead", "twitter.com/masthead/"])
def test_social_handle_is_normalised(get, publication, handle):
    publication["settings"].social_handle = handle
    publication["settings"].save()
    assert get("/").name("twitter:site") == "@masthead"


def test_other_pages_are_websites_with_summary_cards(get, publication):
    publication["settings"].social_handle = ""
    publication["settings"].save()
    for url in ("/", publication["world"].url, "/tags/gaza/"):
        page = get(url)
        assert page.prop("og:type") == "website", url
        assert page.prop("og:url") == page.canonical and page.prop("og:title"), url
        assert page.prop("og:description") == page.description, url
        assert page.name("twitter:card") == "summary", url
        assert page.name("twitter:site") is None, url  # no handle set: no empty tag
    author = get(publication["ada"].get_absolute_url())
    assert author.prop("og:title") == "Ada Reporter"
    assert is_absolute(author.prop("og:image")) and author.prop("og:image:alt") == "Ada Reporter"


# --- canonical URLs and descriptions on every page type ------------------------------------------


def test_every_public_page_has_its_canonical_url(get, publication, settings, make_article):
    settings.MASTHEAD_PAGE_SIZE = 1
    world, mideast, article, ada = (publication[k] for k in ("world", "mideast", "article", "ada"))
    make_article(world, "Another story", authors=[ada], tags=["Gaza"], days_ago=5)
    expected = {
        "/": f"{HOST}/",
        world.url: f"{HOST}/world/",
        world.url + "?page=1": f"{HOST}/world/",
        world.url + "?page=2": f"{HOST}/world/?page=2",
        mideast.url: f"{HOST}/world/middle-east/",
        article.url: HOST + article.url,
        article.url + "?comments=2&utm_source=x": HOST + article.url,
        ada.get_absolute_url(): f"{HOST}/authors/ada-reporter/",
        ada.get_absolute_url() + "?page=2": f"{HOST}/authors/ada-reporter/?page=2",
        "/tags/gaza/": f"{HOST}/tags/gaza/",
        "/tags/gaza/?page=2&x=1": f"{HOST}/tags/gaza/?page=2",
    }
    expected["/search/?q=gaza&utm_source=x"] = f"{HOST}/search/?q=gaza"
    expected["/search/?utm_source=x&q=gaza&page=1&to=&from=2020-01-01"] = f"{HOST}/search/?q=gaza&from=2020-01-01"
    for url, canonical in expected.items():
        assert get(url).canonical == canonical, url
    # A page reached by its "Older" link (a cursor, masthead/news/pagination.py) is its own canonical.
    older = get(world.url).doc.select_one(".pagination a[rel=next]")["href"]
    assert "before=" in older
    assert get(older).canonical == HOST + older
    results = get("/search/?q=gaza")
    robots = results.doc.find_all("meta", attrs={"name": "robots"})
    assert len(robots) == 1 and "noindex" in robots[0]["content"]
    assert results.prop("og:url") == results.canonical and results.prop("og:type") == "website"


def test_pages_that_are_not_for_sharing_have_no_canonical_or_cards(get, client, publication):
    missing = get("/no/such/page/", status=404)
    assert missing.canonical is None and missing.prop("og:url") is None and not missing.items
    assert missing.description
    comment = Comment.objects.create(
        article=publication["article"], author_name="Ada", author_email="ada@example.org", body="Hi", state="approved"
    )
    posted = get(f"/comments/posted/{sign(str(comment.pk), POSTED_SALT)}/")
    assert posted.canonical is None and posted.prop("og:url") is None  # the signed URL stays private


def test_every_page_type_has_a_sensible_description(get, publication):
    world, ada = publication["world"], publication["ada"]
    world.intro = "Reporting from every continent."
    world.save_revision().publish()
    expected = {
        "/": DESCRIPTION,
        world.url: "Reporting from every continent.",
        publication["politics"].url: "Latest Politics news from The Masthead.",
        publication["article"].url: publication["article"].standfirst,
        ada.get_absolute_url(): "Ada Reporter, Middle East correspondent. Ada has reported from the region since 2009.",
        "/tags/gaza/": "Articles about Gaza on The Masthead.",
    }
    expected["/search/?q=gaza"] = "Search the articles of The Masthead."
    for url, description in expected.items():
        page = get(url)
        assert page.description == description, url
        assert 0 < len(page.description) <= 160, url


def test_descriptions_are_cut_to_length(get, publication, make_author):
    long_bio = "Writes about energy, climate and the economics of both. " * 10
    author = make_author("Cleo Long")
    author.bio = long_bio
    author.save()
    description = get(author.get_absolute_url()).description
    assert description.startswith("Cleo Long, Reporter. Writes about energy") and description.endswith("…")
    assert len(description) <= 156


def test_unpublished_changes_do_not_move_the_dates(get, publication):
    """dateModified is the last publication, not a draft revision saved since."""
    article = ArticlePage.objects.get(pk=publication["article"].pk)
    before = get(article.url).one("NewsArticle")["dateModified"]
    article.standfirst = "A draft change."
    article.save_revision()
    assert get(article.url).one("NewsArticle")["dateModified"] == before
    assert aware(before) <= timezone.now()


def test_iso_dates_follow_the_active_time_zone_each_time():
    """iso() keeps what it formatted per instant and time zone: another zone is another date."""
    from zoneinfo import ZoneInfo

    from masthead.distribution.structured_data import iso

    moment = datetime(2026, 11, 26, 20, 0, 30, 123, tzinfo=ZoneInfo("UTC"))
    shown = []
    for zone in ("UTC", "Asia/Tokyo", "UTC"):
        with timezone.override(ZoneInfo(zone)):
            shown.append(iso(moment))
    assert shown == ["2026-11-26T20:00:30+00:00", "2026-11-27T05:00:30+09:00", "2026-11-26T20:00:30+00:00"]
    assert iso(None) is None
