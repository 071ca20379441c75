"""Sitemaps, validated with lxml against the sitemaps.org schemas and Google's News schema.

The schemas are in schemas/ (see schemas/README.md) and are loaded offline: lxml's parser never
touches the network here, and no schema imports anything but its neighbours.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from lxml import etree
from taggit.models import Tag
from wagtail.models import PageViewRestriction

from masthead.distribution import sitemaps
from masthead.news.models import ArticlePage, Author, SectionPage

SCHEMAS = Path(__file__).resolve().parent / "schemas"
SM = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS = "http://www.google.com/schemas/sitemap-news/0.9"
NS = {"sm": SM, "news": NEWS}


@pytest.fixture(autouse=True)
def fresh_cache():
    """The index, sections, authors and tags sitemaps are cached; each test starts without."""
    cache.clear()
    yield
    cache.clear()


def _schema(name: str) -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return etree.XMLSchema(etree.parse(str(SCHEMAS / name), parser))


@pytest.fixture(scope="module")
def schemas() -> dict[str, etree.XMLSchema]:
    return {
        "urlset": _schema("sitemap.xsd"),
        "index": _schema("siteindex.xsd"),
        "news": _schema("news-urlset.xsd"),
    }


def fetch_xml(client, url: str) -> etree._Element:
    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return etree.fromstring(response.content)


def assert_valid(schema: etree.XMLSchema, doc: etree._Element) -> None:
    assert schema.validate(doc), [f"line {e.line}: {e.message}" for e in schema.error_log]


def urlset(client, schemas, url: str, dated: bool = True) -> dict[str, str]:
    """A urlset, validated, as {loc: lastmod}; every <url> must have a <lastmod>."""
    doc = fetch_xml(client, url)
    assert doc.tag == f"{{{SM}}}urlset"
    assert_valid(schemas["news" if url.endswith("/news.xml") else "urlset"], doc)
    found = {}
    for entry in doc.findall("sm:url", NS):
        loc, lastmod = entry.findtext("sm:loc", namespaces=NS), entry.findtext("sm:lastmod", namespaces=NS)
        assert lastmod or not dated, f"{loc} has no lastmod"
        assert loc not in found, f"{loc} twice"
        found[loc] = lastmod
    assert len(found) <= sitemaps.SITEMAP_LIMIT
    return found


def index(client, schemas, dated: bool = True) -> dict[str, str]:
    doc = fetch_xml(client, "/sitemap.xml")
    assert doc.tag == f"{{{SM}}}sitemapindex"
    assert_valid(schemas["index"], doc)
    found = {}
    for entry in doc.findall("sm:sitemap", NS):
        found[entry.findtext("sm:loc", namespaces=NS)] = entry.findtext("sm:lastmod", namespaces=NS)
    assert all(found.values()) or not dated, found
    return found


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def same_second(a: datetime, b: datetime) -> bool:
    return a.replace(microsecond=0) == b.replace(microsecond=0)


@pytest.fixture
def newsroom(make_section, make_article, make_author):
    world = make_section("World")
    mideast = make_section("Middle East", parent=world)
    sport = make_section("Sport")
    culture = make_section("Culture")  # no articles
    ada, bob, idle = make_author("Ada Lovelace"), make_author("Bob Woodward"), make_author("Idle Writer")
    gaza, cup, unused = (
        Tag.objects.create(name="Gaza"),
        Tag.objects.create(name="World Cup"),
        Tag.objects.create(name="Unused"),
    )
    today = make_article(mideast, "Ceasefire talks resume", authors=[ada], tags=[gaza], days_ago=0.5)
    yesterday = make_article(sport, "Final goes to penalties", authors=[bob], tags=[cup], days_ago=1.5)
    old = make_article(
        sport, "Cup host under scrutiny", authors=[ada, bob], tags=[cup, gaza], further=[world], days_ago=3
    )
    older = make_article(world, "World briefing", days_ago=10)
    # The fronts were published long before their stories.
    SectionPage.objects.update(last_published_at=timezone.now() - timedelta(days=30))
    return locals()


# --- the index and every sitemap in it -----------------------------------------------------------


def test_index_lists_every_sitemap_and_each_validates(client, schemas, newsroom):
    listed = index(client, schemas)
    assert set(listed) == {
        "http://localhost/sitemaps/sections.xml",
        "http://localhost/sitemaps/articles-1.xml",
        "http://localhost/sitemaps/authors-1.xml",
        "http://localhost/sitemaps/tags-1.xml",
        "http://localhost/sitemaps/news.xml",
    }
    every_url = {}
    for loc in listed:
        found = urlset(client, schemas, loc.removeprefix("http://localhost"))
        assert found, loc
        every_url.update(found)
    articles = ArticlePage.objects.live()
    for article in articles:
        assert article.get_full_url() in every_url
    assert "http://localhost/" in every_url
    # Each index entry's lastmod is the newest lastmod in its file.
    articles_file = urlset(client, schemas, "/sitemaps/articles-1.xml")
    assert listed["http://localhost/sitemaps/articles-1.xml"] == max(articles_file.values(), key=moment)


def test_article_sitemap_has_canonical_urls_and_last_published(client, schemas, newsroom):
    found = urlset(client, schemas, "/sitemaps/articles-1.xml")
    assert len(found) == 4
    for article in ArticlePage.objects.live():
        assert same_second(moment(found[article.get_full_url()]), article.last_published_at)


def test_sections_sitemap_dates_each_front_by_its_newest_story(client, schemas, newsroom):
    found = urlset(client, schemas, "/sitemaps/sections.xml")
    assert set(found) == {
        "http://localhost/",
        "http://localhost/world/",
        "http://localhost/world/middle-east/",
        "http://localhost/sport/",
        "http://localhost/culture/",
    }
    n = newsroom
    # World: its subsection's story is the newest in it.
    assert same_second(moment(found["http://localhost/world/"]), n["today"].last_published_at)
    assert same_second(moment(found["http://localhost/"]), n["today"].last_published_at)
    assert same_second(moment(found["http://localhost/sport/"]), n["yesterday"].last_published_at)
    # Culture has no stories: its own publication date.
    culture = SectionPage.objects.get(pk=n["culture"].pk)
    assert same_second(moment(found["http://localhost/culture/"]), culture.last_published_at)
    # Republishing a front (a new intro) dates it too.
    culture.intro = "Books, film and music."
    culture.save_revision().publish()
    culture.refresh_from_db()
    found = urlset(client, schemas, "/sitemaps/sections.xml")
    assert same_second(moment(found["http://localhost/culture/"]), culture.last_published_at)


def test_further_sections_count_for_a_front(client, schemas, make_section, make_article):
    world, sport = make_section("World"), make_section("Sport")
    SectionPage.objects.filter(pk__in=[world.pk, sport.pk]).update(
        last_published_at=timezone.now() - timedelta(days=30)
    )
    make_article(world, "Old world story", days_ago=20)
    flagged = make_article(sport, "Sport story on the World front", further=[world], days_ago=2)
    found = urlset(client, schemas, "/sitemaps/sections.xml")
    assert same_second(moment(found["http://localhost/world/"]), flagged.last_published_at)


def test_authors_and_tags_with_published_stories_only(client, schemas, newsroom):
    n = newsroom
    authors = urlset(client, schemas, "/sitemaps/authors-1.xml")
    assert set(authors) == {
        "http://localhost/authors/ada-lovelace/",
        "http://localhost/authors/bob-woodward/",
    }
    assert same_second(
        moment(authors["http://localhost/authors/ada-lovelace/"]), n["today"].last_published_at
    )
    assert same_second(
        moment(authors["http://localhost/authors/bob-woodward/"]), n["yesterday"].last_published_at
    )
    tags = urlset(client, schemas, "/sitemaps/tags-1.xml")
    assert set(tags) == {"http://localhost/tags/gaza/", "http://localhost/tags/world-cup/"}
    assert same_second(moment(tags["http://localhost/tags/world-cup/"]), n["yesterday"].last_published_at)
    # Taking an author's only story down takes the author out.
    n["yesterday"].unpublish()
    ArticlePage.objects.get(pk=n["old"].pk).unpublish()
    authors = urlset(client, schemas, "/sitemaps/authors-1.xml")
    assert "http://localhost/authors/bob-woodward/" not in authors
    assert "http://localhost/tags/world-cup/" not in urlset(client, schemas, "/sitemaps/tags-1.xml")


def test_unpublished_and_private_articles_are_left_out(client, schemas, newsroom):
    n = newsroom
    n["older"].unpublish()
    PageViewRestriction.objects.create(
        page=n["old"], restriction_type=PageViewRestriction.PASSWORD, password="x"
    )
    found = urlset(client, schemas, "/sitemaps/articles-1.xml")
    assert n["older"].get_full_url() not in found
    assert n["old"].get_full_url() not in found
    assert n["today"].get_full_url() in found


def test_unicode_slugs_are_percent_encoded(client, schemas, make_section, make_article):
    world = make_section("World")
    author = Author.objects.create(name="Zoë Ünal", slug="zoë-ünal")
    article = make_article(world, "Café society", authors=[author])
    ArticlePage.objects.filter(pk=article.pk).update(
        slug="café-society", url_path="/home/world/café-society/"
    )
    found = urlset(client, schemas, "/sitemaps/articles-1.xml")
    assert "http://localhost/world/caf%C3%A9-society/" in found
    authors = urlset(client, schemas, "/sitemaps/authors-1.xml")
    assert "http://localhost/authors/zo%C3%AB-%C3%BCnal/" in authors
    assert client.get("/authors/zo%C3%AB-%C3%BCnal/").status_code == 200


def test_the_article_files_fast_writer_writes_what_the_shared_one_does(rf, make_section, make_article):
    """Article files are written straight from their rows (ArticleSitemap.xml); every other file
    goes through Entry objects and urlset_xml. Both must give the same bytes, escaping and
    percent-encoding included, and an article without a publish date gets no <lastmod>."""
    world = make_section("World")
    odd, accented, undated = (make_article(world, title) for title in ("Odd", "Accented", "Undated"))
    ArticlePage.objects.filter(pk=odd.pk).update(url_path="/home/world/fish-&-<chips>-\"q'/")
    ArticlePage.objects.filter(pk=accented.pk).update(url_path="/home/world/café/")
    ArticlePage.objects.filter(pk=undated.pk).update(last_published_at=None)
    base = sitemaps.site_base(rf.get("/"))
    sitemap = sitemaps.NUMBERED["articles"]
    written = sitemap.xml(base, 1)
    assert written == sitemaps.urlset_xml(sitemap.entries(base, 1))
    assert "/world/fish-&amp;-&lt;chips&gt;-&quot;q&#x27;/</loc>" in written
    assert "/world/caf%C3%A9/</loc>" in written
    assert written.count("<lastmod>") == 2 and written.count("<url>") == 3
    assert sitemap.xml(base, 2) == ""  # nothing in that range


# --- pagination ----------------------------------------------------------------------------------


def test_articles_are_split_into_files_of_at_most_the_limit(
    client, schemas, monkeypatch, make_section, make_article
):
    monkeypatch.setattr(sitemaps, "SITEMAP_LIMIT", 3)
    world = make_section("World")
    articles = [make_article(world, f"Story {i}", days_ago=i + 1) for i in range(8)]
    articles[1].unpublish()
    expected = {a.get_full_url() for a in ArticlePage.objects.live()}
    listed = index(client, schemas)
    files = sorted(loc for loc in listed if "/articles-" in loc)
    assert len(files) >= 3
    seen: dict[str, str] = {}
    for loc in files:
        found = urlset(client, schemas, loc.removeprefix("http://localhost"))
        assert 1 <= len(found) <= 3
        assert not set(found) & set(seen)
        seen.update(found)
        assert listed[loc] == max(found.values(), key=moment)
    assert set(seen) == expected
    # A file past the end, or one whose range holds nothing published, is not found.
    numbers = [int(loc.rsplit("-", 1)[1].removesuffix(".xml")) for loc in files]
    assert client.get(f"/sitemaps/articles-{max(numbers) + 1}.xml").status_code == 404
    for bad in ("/sitemaps/articles-0.xml", "/sitemaps/articles-x.xml", "/sitemaps/pages-1.xml"):
        assert client.get(bad).status_code == 404
    assert client.get("/sitemaps/articles-999999999999999999.xml").status_code == 404


def test_a_file_is_a_fixed_id_range(monkeypatch, client, schemas, make_section, make_article):
    """An article stays in its file when others come and go (crawlers' lastmod stays meaningful)."""
    monkeypatch.setattr(sitemaps, "SITEMAP_LIMIT", 3)
    world = make_section("World")
    articles = [make_article(world, f"Story {i}") for i in range(6)]
    last = articles[-1]
    number = last.pk // 3 + 1
    assert last.get_full_url() in urlset(client, schemas, f"/sitemaps/articles-{number}.xml")
    for article in articles[:3]:
        article.unpublish()
    assert last.get_full_url() in urlset(client, schemas, f"/sitemaps/articles-{number}.xml")


def test_authors_and_tags_paginate_too(monkeypatch, client, schemas, make_section, make_article, make_author):
    monkeypatch.setattr(sitemaps, "SITEMAP_LIMIT", 2)
    world = make_section("World")
    authors = [make_author() for _ in range(5)]
    tags = [Tag.objects.create(name=f"Topic {i}") for i in range(5)]
    make_article(world, "Everyone", authors=authors, tags=tags)
    listed = index(client, schemas)
    for kind, count in (("authors", 5), ("tags", 5)):
        seen = {}
        for loc in sorted(loc for loc in listed if f"/{kind}-" in loc):
            found = urlset(client, schemas, loc.removeprefix("http://localhost"))
            assert 1 <= len(found) <= 2
            seen.update(found)
        assert len(seen) == count, kind


def test_sitemaps_cost_the_same_for_3_and_30_articles(client, make_section, make_article, make_author):
    world = make_section("World")

    def cost(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    urls = ("/sitemaps/articles-1.xml", "/sitemap.xml", "/sitemaps/sections.xml", "/sitemaps/news.xml")
    for i in range(3):
        make_article(world, f"Story {i}", authors=[make_author()], tags=[f"tag {i}"])
    small = [cost(url) for url in urls]
    for i in range(3, 30):
        make_article(world, f"Story {i}", authors=[make_author()], tags=[f"tag {i}"])
    assert [cost(url) for url in urls] == small
    assert small[0] <= 4  # the site, its home page, the privacy restrictions, the range


def test_cached_sitemaps_follow_every_publish(
    client, schemas, make_section, make_article, django_assert_max_num_queries
):
    world = make_section("World")
    first = make_article(world, "First", tags=["early"], days_ago=1)
    SectionPage.objects.update(last_published_at=timezone.now() - timedelta(days=30))
    listed = index(client, schemas)
    urlset(client, schemas, "/sitemaps/sections.xml")
    urlset(client, schemas, "/sitemaps/tags-1.xml")
    # Served from the cache: the site, and the page log's newest change.
    for url in ("/sitemap.xml", "/sitemaps/sections.xml", "/sitemaps/tags-1.xml"):
        with django_assert_max_num_queries(3):
            assert client.get(url).status_code == 200
    # A publish shows at once ...
    second = make_article(world, "Second", tags=["late"])
    assert "http://localhost/tags/late/" in urlset(client, schemas, "/sitemaps/tags-1.xml")
    newer = index(client, schemas)
    assert moment(newer["http://localhost/sitemaps/sections.xml"]) > moment(
        listed["http://localhost/sitemaps/sections.xml"]
    )
    # ... and so does an unpublish.
    second.unpublish()
    assert "http://localhost/tags/late/" not in urlset(client, schemas, "/sitemaps/tags-1.xml")
    first.unpublish()
    assert "http://localhost/sitemaps/tags-1.xml" not in index(client, schemas)
    assert client.get("/sitemaps/tags-1.xml").status_code == 404


# --- Google News ---------------------------------------------------------------------------------


def test_news_sitemap_holds_the_last_48_hours(client, schemas, newsroom):
    n = newsroom
    doc = fetch_xml(client, "/sitemaps/news.xml")
    assert_valid(schemas["news"], doc)
    entries = doc.findall("sm:url", NS)
    assert [e.findtext("sm:loc", namespaces=NS) for e in entries] == [
        n["today"].get_full_url(),
        n["yesterday"].get_full_url(),
    ]
    first = entries[0]
    assert first.findtext("news:news/news:publication/news:name", namespaces=NS) == "The Masthead"
    assert first.findtext("news:news/news:publication/news:language", namespaces=NS) == "en"
    assert first.findtext("news:news/news:title", namespaces=NS) == "Ceasefire talks resume"
    published = moment(first.findtext("news:news/news:publication_date", namespaces=NS))
    assert same_second(published, n["today"].first_published_at)
    assert first.findtext("sm:lastmod", namespaces=NS)


def test_news_sitemap_fails_the_plain_sitemap_schema_but_passes_with_news(client, schemas, newsroom):
    """The reason for news-urlset.xsd: sitemap.xsd alone cannot know <news:news> (strict wildcard)."""
    doc = fetch_xml(client, "/sitemaps/news.xml")
    assert not schemas["urlset"].validate(doc)
    assert_valid(schemas["news"], doc)


def test_news_schema_catches_mistakes(schemas):
    def doc(news: str) -> etree._Element:
        return etree.fromstring(
            f'<urlset xmlns="{SM}" xmlns:news="{NEWS}"><url><loc>http://localhost/a/</loc>'
            f"<news:news>{news}</news:news></url></urlset>".encode()
        )

    good = (
        "<news:publication><news:name>X</news:name><news:language>en</news:language></news:publication>"
        "<news:publication_date>2026-11-26T10:00:00+00:00</news:publication_date><news:title>T</news:title>"
    )
    assert schemas["news"].validate(doc(good))
    assert not schemas["news"].validate(doc(good.replace("<news:title>T</news:title>", "")))
    assert not schemas["news"].validate(doc(good.replace(">en<", ">english<")))
    assert not schemas["news"].validate(doc(good.replace("2026-11-26T10:00:00+00:00", "yesterday")))


def test_news_sitemap_keeps_at_most_the_limit(monkeypatch, client, schemas, make_section, make_article):
    monkeypatch.setattr(sitemaps, "NEWS_LIMIT", 2)
    world = make_section("World")
    for hours in (1, 2, 3):
        make_article(world, f"{hours} hours ago", days_ago=hours / 24)
    found = urlset(client, schemas, "/sitemaps/news.xml")
    assert list(found) == ["http://localhost/world/1-hours-ago/", "http://localhost/world/2-hours-ago/"]


def test_quiet_days_give_an_empty_news_sitemap_left_out_of_the_index(
    client, schemas, make_section, make_article
):
    make_article(make_section("World"), "Old news", days_ago=3)
    doc = fetch_xml(client, "/sitemaps/news.xml")
    assert doc.tag == f"{{{SM}}}urlset" and doc.findall("sm:url", NS) == []
    assert "http://localhost/sitemaps/news.xml" not in index(client, schemas)


def test_an_empty_site_still_has_a_valid_index(client, schemas, home):
    # A fresh install: the home page was made by a migration, never published, so undated.
    listed = index(client, schemas, dated=False)
    assert list(listed) == ["http://localhost/sitemaps/sections.xml"]
    assert list(urlset(client, schemas, "/sitemaps/sections.xml", dated=False)) == ["http://localhost/"]
    for url in ("/sitemaps/articles-1.xml", "/sitemaps/authors-1.xml", "/sitemaps/tags-1.xml"):
        assert client.get(url).status_code == 404


def test_the_first_section_dates_the_home_front(client, schemas, make_section):
    world = SectionPage.objects.get(pk=make_section("World").pk)
    found = urlset(client, schemas, "/sitemaps/sections.xml")
    assert same_second(moment(found["http://localhost/"]), world.last_published_at)


# --- robots.txt ----------------------------------------------------------------------------------


def test_robots_txt_allows_crawling_and_names_the_sitemaps(client, home):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert lines[0] == "User-agent: *"
    assert "Disallow: /admin/" in lines
    assert "Disallow: /comments/" in lines
    assert "Allow: /" in lines
    assert "Disallow: /" not in lines
    assert [line for line in lines if line.startswith("Sitemap:")] == [
        "Sitemap: http://localhost/sitemap.xml",
        "Sitemap: http://localhost/sitemaps/news.xml",
    ]
    for line in lines:
        if line.startswith("Sitemap:"):
            assert client.get(line.split("http://localhost", 1)[1]).status_code == 200
