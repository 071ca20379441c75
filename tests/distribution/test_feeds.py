"""Feeds: every feed parsed by a real feed parser (feedparser) and checked element by element.

feedparser is lenient (it fills a missing Atom <id> from <link>, and has no JSON Feed support),
so bozo == 0 is only the first check: the required elements of RSS 2.0
(https://www.rssboard.org/rss-specification) and Atom (RFC 4287) are then read from the raw XML
with lxml, and JSON Feed 1.1 (https://jsonfeed.org/version/1.1) is checked field by field.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from unittest.mock import patch

import feedparser
import pytest
from django.db import connection
from django.template import engines
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.http import http_date
from lxml import etree
from taggit.models import Tag
from wagtail.models import PageLogEntry, PageViewRestriction, Site
from wagtail.rich_text import RichText

from masthead.distribution import feed_items, feeds
from masthead.distribution.models import PublicationSettings
from masthead.news.models import ArticlePage, SectionPage

ATOM = "http://www.w3.org/2005/Atom"
NS = {
    "atom": ATOM,
    "content": "http://purl.org/rss/1.0/modules/content/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "media": "http://search.yahoo.com/mrss/",
}
FORMAT_VERSIONS = {"rss": "rss20", "atom": "atom10"}
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
CONTENT_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}


# --- validators ----------------------------------------------------------------------------------


def parse_rss(raw: bytes) -> etree._Element:
    """RSS 2.0: feedparser accepts it, and the channel and every item have what the spec requires."""
    parsed = feedparser.parse(raw)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    root = etree.fromstring(raw)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    for name in ("title", "link", "description"):
        assert (channel.findtext(name) or "").strip(), f"channel lacks <{name}>"
    assert channel.find("atom:link[@rel='self']", NS) is not None
    parsedate_to_datetime(channel.findtext("lastBuildDate"))
    for item in channel.findall("item"):
        assert (item.findtext("title") or "").strip()
        assert item.findtext("link").startswith("http")
        assert (item.findtext("description") or "").strip()
        guid = item.find("guid")
        assert guid is not None and guid.text and guid.get("isPermaLink") == "false"
        assert parsedate_to_datetime(item.findtext("pubDate")).tzinfo is not None
    for entry in parsed.entries:
        assert entry.published_parsed is not None
    return root


def parse_atom(raw: bytes) -> etree._Element:
    """Atom (RFC 4287 section 4.1): feed and entries each have id, title, updated; every entry
    has an author (or the feed has one), and an alternate link."""
    parsed = feedparser.parse(raw)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    root = etree.fromstring(raw)
    assert root.tag == f"{{{ATOM}}}feed"
    for name in ("id", "title", "updated"):
        assert (root.findtext(f"atom:{name}", namespaces=NS) or "").strip(), f"feed lacks <{name}>"
    assert RFC3339.match(root.findtext("atom:updated", namespaces=NS))
    assert root.find("atom:link[@rel='self']", NS) is not None
    feed_author = root.find("atom:author/atom:name", NS) is not None
    for entry in root.findall("atom:entry", NS):
        for name in ("id", "title", "updated"):
            assert (entry.findtext(f"atom:{name}", namespaces=NS) or "").strip(), f"entry lacks <{name}>"
        assert RFC3339.match(entry.findtext("atom:updated", namespaces=NS))
        assert RFC3339.match(entry.findtext("atom:published", namespaces=NS))
        assert feed_author or entry.find("atom:author/atom:name", NS) is not None
        assert entry.find("atom:link[@rel='alternate']", NS).get("href").startswith("http")
        # Without <content>, RFC 4287 requires a <summary> (we always give one).
        assert entry.find("atom:summary", NS) is not None
    return root


def parse_json(raw: bytes) -> dict:
    """JSON Feed 1.1: version URL, title, items with id and content, RFC 3339 dates."""
    parsed = feedparser.parse(raw)  # feedparser does not know JSON Feed: it must not pass as XML
    assert parsed.version == ""
    feed = json.loads(raw)
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["title"]
    assert feed["home_page_url"].startswith("http")
    assert feed["feed_url"].startswith("http")
    assert isinstance(feed["items"], list)
    ids = [item["id"] for item in feed["items"]]
    assert len(ids) == len(set(ids))
    for item in feed["items"]:
        assert isinstance(item["id"], str) and item["id"]
        assert item.get("content_html") or item.get("content_text")
        assert item["url"].startswith("http")
        for key in ("date_published", "date_modified"):
            assert RFC3339.match(item[key]), item[key]
            assert datetime.fromisoformat(item[key]).tzinfo is not None
        for author in item.get("authors", []):
            assert author["name"]
    return feed


def fetch(client, url: str, fmt: str, **headers):
    response = client.get(url, **headers)
    assert response.status_code == 200, url
    assert response["Content-Type"] == CONTENT_TYPES[fmt]
    return response


def parse(fmt: str, raw: bytes):
    return {"rss": parse_rss, "atom": parse_atom, "json": parse_json}[fmt](raw)


# --- the publication -------------------------------------------------------------------------------


@pytest.fixture
def newsroom(make_section, make_article, make_author, make_image):
    """World (with Middle East below it) and Sport, two authors, two tags, pictures."""
    world = make_section("World")
    mideast = make_section("Middle East", parent=world)
    sport = make_section("Sport")
    ada, bob = make_author("Ada Lovelace"), make_author("Bob Woodward")
    gaza, cup = Tag.objects.create(name="Gaza"), Tag.objects.create(name="World Cup")
    lead = make_image("Ceasefire talks")
    ceasefire = make_article(
        mideast,
        "Ceasefire talks resume",
        authors=[ada, bob],
        tags=[gaza],
        standfirst="Negotiators meet again in Cairo.",
        paragraphs=["First paragraph of the talks.", "Second paragraph."],
        lead_image=lead,
        days_ago=1,
    )
    final = make_article(sport, "Final goes to penalties", authors=[bob], tags=[cup], days_ago=2)
    # A sport story that World lists too (a further section).
    crossover = make_article(sport, "Cup host under scrutiny", tags=[cup, gaza], further=[world], days_ago=3)
    briefing = make_article(world, "World briefing", paragraphs=["word " * 80], days_ago=4)
    # The page log too, as if they had been published then (its newest publish dates every feed).
    PageLogEntry.objects.filter(action="wagtail.publish").update(timestamp=timezone.now() - timedelta(days=5))
    return {
        "world": world,
        "mideast": mideast,
        "sport": sport,
        "ada": ada,
        "bob": bob,
        "gaza": gaza,
        "cup": cup,
        "lead": lead,
        "ceasefire": ceasefire,
        "final": final,
        "crossover": crossover,
        "briefing": briefing,
    }


def feed_urls(n) -> dict[str, str]:
    """Every scope of the newsroom, by name, as a path without the format."""
    return {
        "site": "/feeds/",
        "world": "/feeds/sections/world/",
        "mideast": "/feeds/sections/world/middle-east/",
        "sport": "/feeds/sections/sport/",
        "ada": f"/feeds/authors/{n['ada'].slug}/",
        "bob": f"/feeds/authors/{n['bob'].slug}/",
        "gaza": f"/feeds/tags/{n['gaza'].slug}/",
        "cup": f"/feeds/tags/{n['cup'].slug}/",
    }


def titles(fmt: str, raw: bytes) -> list[str]:
    if fmt == "json":
        return [item["title"] for item in json.loads(raw)["items"]]
    return [entry.title for entry in feedparser.parse(raw).entries]


def publication_settings() -> PublicationSettings:
    return PublicationSettings.for_site(Site.objects.get(is_default_site=True))


# --- every feed, every format --------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_every_feed_parses_and_has_the_required_elements(client, newsroom, fmt):
    for name, path in feed_urls(newsroom).items():
        response = fetch(client, f"{path}{fmt}/", fmt)
        parse(fmt, response.content)
        assert titles(fmt, response.content), f"{name} feed is empty"


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_each_feed_holds_only_its_own_articles_newest_first(client, newsroom, fmt):
    expected = {
        "site": [
            "Ceasefire talks resume",
            "Final goes to penalties",
            "Cup host under scrutiny",
            "World briefing",
        ],
        # World: its own, its subsection's, and the sport story that lists World as a further section.
        "world": ["Ceasefire talks resume", "Cup host under scrutiny", "World briefing"],
        "mideast": ["Ceasefire talks resume"],
        "sport": ["Final goes to penalties", "Cup host under scrutiny"],
        "ada": ["Ceasefire talks resume"],
        "bob": ["Ceasefire talks resume", "Final goes to penalties"],
        "gaza": ["Ceasefire talks resume", "Cup host under scrutiny"],
        "cup": ["Final goes to penalties", "Cup host under scrutiny"],
    }
    for name, path in feed_urls(newsroom).items():
        assert titles(fmt, fetch(client, f"{path}{fmt}/", fmt).content) == expected[name], name


def test_rss_item_carries_everything(client, newsroom):
    article = newsroom["ceasefire"]
    root = parse_rss(fetch(client, "/feeds/rss/", "rss").content)
    channel = root.find("channel")
    assert channel.findtext("title") == "The Masthead"
    assert channel.findtext("link") == "http://localhost/"
    assert channel.findtext("description") == "Independent news and analysis."
    assert channel.findtext("language") == "en-gb"
    assert channel.find("atom:link[@rel='self']", NS).get("href") == "http://localhost/feeds/rss/"
    item = channel.find("item")
    assert item.findtext("title") == "Ceasefire talks resume"
    # The canonical address, absolute.
    assert (
        item.findtext("link")
        == article.get_full_url()
        == "http://localhost/world/middle-east/ceasefire-talks-resume/"
    )
    assert item.findtext("guid") == f"urn:uuid:{article.translation_key}"
    assert parsedate_to_datetime(item.findtext("pubDate")) == article.first_published_at.replace(
        microsecond=0
    )
    assert item.findtext("description") == "Negotiators meet again in Cairo."
    assert [c.text for c in item.findall("dc:creator", NS)] == ["Ada Lovelace", "Bob Woodward"]
    assert [c.text for c in item.findall("category")] == ["Middle East", "Gaza"]
    # Full text (the default): the standfirst, the lead picture and the body, as HTML.
    content = item.findtext("content:encoded", namespaces=NS)
    assert "<p>First paragraph of the talks.</p>" in content and "<p>Second paragraph.</p>" in content
    assert "Negotiators meet again in Cairo." in content
    # The lead picture: one enclosure with its byte length, and media:content.
    rendition = newsroom["lead"].get_rendition(feed_items.FEED_IMAGE)
    enclosure = item.find("enclosure")
    assert enclosure.get("url") == "http://localhost" + rendition.url
    assert int(enclosure.get("length")) == rendition.file.size > 0
    assert enclosure.get("type") == "image/jpeg"
    media = item.find("media:content", NS)
    assert media.get("url") == enclosure.get("url")
    assert media.get("medium") == "image"
    assert (media.get("width"), media.get("height")) == (str(rendition.width), str(rendition.height))
    assert media.findtext("media:description", namespaces=NS) == "A picture: Ceasefire talks"
    assert f'src="{enclosure.get("url")}"' in content
    # feedparser reads the same things.
    entry = feedparser.parse(fetch(client, "/feeds/rss/", "rss").content).entries[0]
    assert entry.id == f"urn:uuid:{article.translation_key}"
    assert entry.enclosures[0].href == enclosure.get("url")
    assert entry.media_content[0]["url"] == enclosure.get("url")
    assert {tag.term for tag in entry.tags} == {"Middle East", "Gaza"}
    assert "First paragraph of the talks." in entry.content[0].value


def test_atom_entry_carries_everything(client, newsroom):
    article = newsroom["ceasefire"]
    root = parse_atom(fetch(client, "/feeds/atom/", "atom").content)
    assert root.findtext("atom:id", namespaces=NS) == "http://localhost/feeds/atom/"
    assert root.findtext("atom:subtitle", namespaces=NS) == "Independent news and analysis."
    assert root.findtext("atom:author/atom:name", namespaces=NS) == "The Masthead"
    entry = root.find("atom:entry", NS)
    assert entry.findtext("atom:id", namespaces=NS) == f"urn:uuid:{article.translation_key}"
    assert entry.find("atom:link[@rel='alternate']", NS).get("href") == article.get_full_url()
    assert [a.findtext("atom:name", namespaces=NS) for a in entry.findall("atom:author", NS)] == [
        "Ada Lovelace",
        "Bob Woodward",
    ]
    assert [a.findtext("atom:uri", namespaces=NS) for a in entry.findall("atom:author", NS)] == [
        "http://localhost/authors/ada-lovelace/",
        "http://localhost/authors/bob-woodward/",
    ]
    assert {c.get("term") for c in entry.findall("atom:category", NS)} == {"Middle East", "Gaza"}
    content = entry.find("atom:content", NS)
    assert content.get("type") == "html" and "<p>Second paragraph.</p>" in content.text
    enclosure = entry.find("atom:link[@rel='enclosure']", NS)
    assert enclosure.get("href").startswith("http://localhost/media/images/")
    assert int(enclosure.get("length")) > 0 and enclosure.get("type") == "image/jpeg"
    parsed = feedparser.parse(fetch(client, "/feeds/atom/", "atom").content).entries[0]
    assert [author.name for author in parsed.authors] == ["Ada Lovelace", "Bob Woodward"]
    assert parsed.content[0].type == "text/html"


def test_json_feed_carries_everything(client, newsroom):
    article = newsroom["ceasefire"]
    feed = parse_json(fetch(client, "/feeds/json/", "json").content)
    assert feed["feed_url"] == "http://localhost/feeds/json/"
    assert feed["home_page_url"] == "http://localhost/"
    assert feed["description"] == "Independent news and analysis."
    item = feed["items"][0]
    assert item["id"] == f"urn:uuid:{article.translation_key}"
    assert item["url"] == article.get_full_url()
    assert item["summary"] == "Negotiators meet again in Cairo."
    assert "<p>First paragraph of the talks.</p>" in item["content_html"]
    assert item["image"].startswith("http://localhost/media/images/")
    assert [a["name"] for a in item["authors"]] == ["Ada Lovelace", "Bob Woodward"]
    assert item["tags"] == ["Middle East", "Gaza"]
    assert datetime.fromisoformat(item["date_published"]) == article.first_published_at.replace(microsecond=0)


def test_categories_name_primary_and_further_sections_and_tags(client, newsroom):
    feed = parse_json(fetch(client, "/feeds/json/", "json").content)
    crossover = next(item for item in feed["items"] if item["title"] == "Cup host under scrutiny")
    assert crossover["tags"] == ["Sport", "World", "Gaza", "World Cup"]


def test_summary_falls_back_to_the_opening_words(client, newsroom):
    feed = parse_json(fetch(client, "/feeds/json/", "json").content)
    briefing = next(item for item in feed["items"] if item["title"] == "World briefing")
    assert briefing["summary"] == " ".join(["word"] * feed_items.SUMMARY_WORDS) + "…"


def test_summary_only_when_full_text_is_off(client, newsroom):
    settings = publication_settings()
    settings.feed_full_text = False
    settings.save()
    rss = parse_rss(fetch(client, "/feeds/rss/", "rss").content)
    item = rss.find("channel/item")
    assert item.find("content:encoded", NS) is None
    assert item.findtext("description") == "Negotiators meet again in Cairo."
    assert item.find("enclosure") is not None  # the picture still goes out
    atom = parse_atom(fetch(client, "/feeds/atom/", "atom").content)
    assert atom.find("atom:entry/atom:content", NS) is None
    assert atom.findtext("atom:entry/atom:summary", namespaces=NS) == "Negotiators meet again in Cairo."
    feed = parse_json(fetch(client, "/feeds/json/", "json").content)
    assert "content_html" not in feed["items"][0]
    assert feed["items"][0]["content_text"] == "Negotiators meet again in Cairo."
    assert "Second paragraph" not in json.dumps(feed)

    settings.feed_full_text = True
    settings.save()
    assert "Second paragraph" in fetch(client, "/feeds/json/", "json").content.decode()


def test_full_text_is_self_contained_html_with_absolute_urls(client, make_section, make_article, make_image):
    world = make_section("World")
    linked = make_article(world, "Earlier story")
    picture = make_image("Inline picture")
    article = make_article(world, "Story with everything")
    article.body = [
        (
            "paragraph",
            RichText(f'<p>See <a linktype="page" id="{linked.pk}">the earlier story</a> &amp; more.</p>'),
        ),
        ("subhead", "What <happens> next"),
        ("quote", {"quote": "We will <not> stop.\nNever.", "attribution": "A spokesperson"}),
        (
            "image",
            {"image": picture, "alt_text": "Crowds in the square", "caption": "The square", "credit": "AP"},
        ),
        ("embed", {"url": "https://video.example/watch?v=1&t=2", "title": "The speech", "caption": ""}),
    ]
    article.save_revision().publish()
    feed = parse_json(fetch(client, "/feeds/json/", "json").content)
    html = next(item for item in feed["items"] if item["title"] == "Story with everything")["content_html"]
    assert '<a href="http://localhost/world/earlier-story/">the earlier story</a> &amp; more.' in html
    assert "<h2>What &lt;happens&gt; next</h2>" in html
    assert (
        "<blockquote><p>We will &lt;not&gt; stop.<br>Never.</p><p>— A spokesperson</p></blockquote>" in html
    )
    rendition = picture.get_rendition(feed_items.FEED_IMAGE)
    assert f'<img src="http://localhost{rendition.url}"' in html
    assert 'alt="Crowds in the square"' in html and "<figcaption>The square AP</figcaption>" in html
    assert '<a href="https://video.example/watch?v=1&amp;t=2">The speech</a>' in html
    assert "linktype" not in html and "srcset" not in html and "class=" not in html
    # ... and in the XML feeds it is one escaped string that the parsers give back intact.
    rss = parse_rss(fetch(client, "/feeds/rss/", "rss").content)
    assert html in [item.findtext("content:encoded", namespaces=NS) for item in rss.iter("item")]


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ('<a href="/world/">W</a>', '<a href="http://x.test/world/">W</a>'),
        ('<img\nsrc="p.jpg" alt="">', '<img\nsrc="http://x.test/a/p.jpg" alt="">'),
        ('<img data-src="p.jpg">', '<img data-src="http://x.test/a/p.jpg">'),  # as "\b" had it
        ('<a href="?q=a&amp;b=1">', '<a href="http://x.test/a/?q=a&amp;b=1">'),
        ('<p data-xhref="/no/">x</p>', '<p data-xhref="/no/">x</p>'),  # "href" inside a longer name
        ("<p>No links at all</p>", "<p>No links at all</p>"),
        ('href="/first/"', 'href="http://x.test/first/"'),
    ],
)
def test_absolutize_rewrites_href_and_src_only(fragment, expected):
    assert feed_items.absolutize(fragment, "http://x.test/a/") == expected


def test_control_characters_pasted_into_a_story_leave_its_feeds_valid(client, make_section, make_article):
    """A vertical tab or form feed (from a word processor, or an imported file) cannot be
    written in XML at all: Django's writer raised, and every feed holding the story was a 500."""
    world = make_section("World")
    make_article(world, "Head\x0bline", standfirst="Stand\x0cfirst", paragraphs=["Para\x0b graph"])
    for fmt in ("rss", "atom"):
        for url in (f"/feeds/{fmt}/", f"/feeds/sections/world/{fmt}/"):
            raw = fetch(client, url, fmt).content
            (parse_rss if fmt == "rss" else parse_atom)(raw)
            assert b"Head line" in raw and b"Stand first" in raw and b"Para  graph" in raw, url
    feed = parse_json(fetch(client, "/feeds/json/", "json").content)
    assert feed["items"][0]["title"] == "Head\x0bline"  # JSON carries it, escaped
    # The feed's own texts too: a section's name and intro.
    sport = make_section("Sp\x0bort")
    sport.intro = "Scores\x0c and results"
    sport.save_revision().publish()
    make_article(sport, "A match")
    for fmt in ("rss", "atom"):
        raw = fetch(client, f"/feeds/sections/{sport.slug}/{fmt}/", fmt).content
        (parse_rss if fmt == "rss" else parse_atom)(raw)
        assert b"Sp ort" in raw, fmt


def test_a_section_with_a_non_ascii_slug_has_its_front_and_feeds(client, make_section, make_article):
    cafe = make_section("Cafe")
    SectionPage.objects.filter(pk=cafe.pk).update(slug="café", url_path="/home/café/")
    make_article(SectionPage.objects.get(pk=cafe.pk), "Espresso prices")
    front = client.get("/caf%C3%A9/")
    assert front.status_code == 200
    assert 'href="/feeds/sections/caf%C3%A9/rss/"' in front.content.decode()
    channel = parse_rss(fetch(client, "/feeds/sections/caf%C3%A9/rss/", "rss").content).find("channel")
    assert [item.findtext("title") for item in channel.iter("item")] == ["Espresso prices"]


def test_markup_in_headlines_and_standfirsts_is_text(client, make_section, make_article):
    headline = 'AT&T <b>buys</b> "everything"'
    make_article(make_section("World"), headline, standfirst="Less < more & so on")
    # Atom says what is text and what is HTML: the headline is text, the summary escaped HTML.
    entry = feedparser.parse(fetch(client, "/feeds/atom/", "atom").content).entries[0]
    assert entry.title_detail.type == "text/plain" and entry.title == headline
    assert entry.summary_detail.type == "text/html" and entry.summary == "Less &lt; more &amp; so on"
    # RSS: the title element holds the headline as text; the description is HTML, so the text's
    # "<" and "&" arrive escaped, never as markup.
    rss = parse_rss(fetch(client, "/feeds/rss/", "rss").content)
    assert rss.findtext("channel/item/title") == headline
    assert rss.findtext("channel/item/description") == "Less &lt; more &amp; so on"
    feed = parse_json(fetch(client, "/feeds/json/", "json").content)
    assert feed["items"][0]["title"] == headline
    assert feed["items"][0]["summary"] == "Less < more & so on"  # JSON Feed's summary is plain text


def test_fifty_newest_items_at_most(client, make_section, make_article):
    world = make_section("World")
    for day in range(feeds.ITEMS_PER_FEED + 3):
        make_article(world, f"Story {day:02d}", paragraphs=[], days_ago=day + 1)
    feed = parse_json(fetch(client, "/feeds/json/", "json").content)
    assert len(feed["items"]) == feeds.ITEMS_PER_FEED
    assert feed["items"][0]["title"] == "Story 00"
    assert feed["items"][-1]["title"] == f"Story {feeds.ITEMS_PER_FEED - 1:02d}"


# --- what leaves the feeds -----------------------------------------------------------------------


def test_unpublished_and_private_articles_vanish(client, newsroom):
    newsroom["ceasefire"].unpublish()
    PageViewRestriction.objects.create(
        page=newsroom["final"], restriction_type=PageViewRestriction.PASSWORD, password="x"
    )
    for fmt in ("rss", "atom", "json"):
        for path in ("/feeds/", "/feeds/sections/sport/", f"/feeds/authors/{newsroom['bob'].slug}/"):
            found = titles(fmt, fetch(client, f"{path}{fmt}/", fmt).content)
            assert "Ceasefire talks resume" not in found and "Final goes to penalties" not in found


def test_guid_survives_a_slug_change_and_a_move(client, newsroom):
    article = ArticlePage.objects.get(pk=newsroom["briefing"].pk)
    before = parse_json(fetch(client, "/feeds/json/", "json").content)["items"]
    old = next(item for item in before if item["title"] == "World briefing")
    article.slug = "renamed-briefing"
    article.save_revision().publish()
    article.move(newsroom["sport"], pos="last-child")
    after = parse_json(fetch(client, "/feeds/json/", "json").content)["items"]
    new = next(item for item in after if item["title"] == "World briefing")
    assert new["id"] == old["id"]
    assert new["url"] == "http://localhost/sport/renamed-briefing/" != old["url"]


def test_unknown_scopes_and_formats_are_404(client, newsroom):
    for url in (
        "/feeds/xml/",
        "/feeds/sections/nowhere/rss/",
        "/feeds/sections/middle-east/rss/",  # a nested section only at its full path
        "/feeds/sections/world/ceasefire-talks-resume/rss/",  # an article is not a section
        "/feeds/authors/nobody/atom/",
        "/feeds/tags/nothing/json/",
    ):
        assert client.get(url).status_code == 404, url
    newsroom["sport"].unpublish()
    assert client.get("/feeds/sections/sport/rss/").status_code == 404


def test_feeds_answer_only_safe_methods(client, newsroom):
    assert client.post("/feeds/rss/").status_code == 405
    head = client.head("/feeds/rss/")
    assert head.status_code == 200 and head["ETag"]


def test_scope_feeds_present_themselves(client, newsroom):
    world = parse_rss(fetch(client, "/feeds/sections/world/middle-east/rss/", "rss").content).find("channel")
    assert world.findtext("title") == "The Masthead: Middle East"
    assert world.findtext("link") == "http://localhost/world/middle-east/"
    ada = parse_atom(fetch(client, f"/feeds/authors/{newsroom['ada'].slug}/atom/", "atom").content)
    assert ada.findtext("atom:title", namespaces=NS) == "The Masthead: Ada Lovelace"
    assert ada.find("atom:link[@rel='alternate']", NS).get("href") == "http://localhost/authors/ada-lovelace/"
    gaza = parse_json(fetch(client, f"/feeds/tags/{newsroom['gaza'].slug}/json/", "json").content)
    assert gaza["title"] == "The Masthead: Gaza"
    assert gaza["home_page_url"] == "http://localhost/tags/gaza/"
    assert gaza["feed_url"] == "http://localhost/feeds/tags/gaza/json/"


def test_empty_feeds_are_valid(client, make_section, make_author):
    make_section("Empty")
    author = make_author("Nobody Yet")
    for fmt in ("rss", "atom", "json"):
        for path in ("/feeds/", "/feeds/sections/empty/", f"/feeds/authors/{author.slug}/"):
            first = fetch(client, f"{path}{fmt}/", fmt)
            parse(fmt, first.content)
            assert titles(fmt, first.content) == []
            # Same feed, same bytes: the ETag promises nothing else.
            assert fetch(client, f"{path}{fmt}/", fmt).content == first.content


# --- conditional GET -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_if_none_match_gets_304_until_the_feed_changes(client, newsroom, make_article, fmt):
    url = f"/feeds/sections/world/{fmt}/"
    first = fetch(client, url, fmt)
    etag = first["ETag"]
    assert etag.startswith('W/"')
    assert "max-age=300" in first["Cache-Control"]
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    # A story elsewhere does not touch the World feed's validator...
    make_article(newsroom["sport"], "Elsewhere")
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    # ... a story in it does.
    make_article(newsroom["mideast"], "Fresh from the region")
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert "Fresh from the region" in titles(fmt, changed.content)


def test_each_feed_has_its_own_etag(client, newsroom):
    etags = {
        client.get(f"{path}{fmt}/")["ETag"]
        for path in feed_urls(newsroom).values()
        for fmt in ("rss", "atom", "json")
    }
    assert len(etags) == len(feed_urls(newsroom)) * 3


def test_if_modified_since_gets_304_until_the_feed_changes(client, newsroom):
    url = "/feeds/rss/"
    first = fetch(client, url, "rss")
    newest = max(a.last_published_at for a in ArticlePage.objects.live())
    assert first["Last-Modified"] == http_date(newest.timestamp())
    since = first["Last-Modified"]
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=since).status_code == 304
    later = http_date((timezone.now() + timedelta(minutes=1)).timestamp())
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=later).status_code == 304
    # Withdrawing the newest story moves Last-Modified on (it must never go back in time).
    newsroom["ceasefire"].unpublish()
    changed = client.get(url, HTTP_IF_MODIFIED_SINCE=since)
    assert changed.status_code == 200
    assert "Ceasefire talks resume" not in titles("rss", changed.content)
    assert parsedate_to_datetime(changed["Last-Modified"]) > parsedate_to_datetime(since)


def test_last_modified_does_not_go_back_when_a_republish_takes_the_newest_story_out(client, newsroom):
    """Republished without its tag, the newest story leaves the tag's feed, and the stories left
    are older: a reader asking "changed since" the date they were given must hear yes."""
    url = "/feeds/tags/gaza/rss/"
    first = fetch(client, url, "rss")
    assert titles("rss", first.content)[0] == "Ceasefire talks resume"
    ceasefire = newsroom["ceasefire"].get_latest_revision_as_object()
    ceasefire.tags.set([])
    ceasefire.save_revision().publish()
    answer = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert answer.status_code == 200 and "Ceasefire talks resume" not in titles("rss", answer.content)
    assert parsedate_to_datetime(answer["Last-Modified"]) >= parsedate_to_datetime(first["Last-Modified"])


def test_a_site_feed_holds_that_site_only(client, newsroom, settings, request):
    from masthead.news.models import HomePage

    settings.ALLOWED_HOSTS = ["*"]
    # The second site goes with the test's transaction, but Wagtail's cached list of site root
    # paths would keep it and give later tests' pages full URLs.
    request.addfinalizer(Site.clear_site_root_paths_cache)
    other_home = Site.objects.get(is_default_site=True).root_page.get_parent().add_child(
        instance=HomePage(title="Other paper", slug="other-paper")
    )
    Site.objects.create(hostname="other.test", port=80, root_page=other_home, site_name="Other paper")
    other_section = other_home.add_child(instance=SectionPage(title="Local", slug="local"))
    story = ArticlePage(title="Only on the other site", slug="only-other")
    other_section.add_child(instance=story)
    story.save_revision().publish()
    assert "Only on the other site" not in titles("rss", fetch(client, "/feeds/rss/", "rss").content)
    theirs = fetch(client, "/feeds/rss/", "rss", HTTP_HOST="other.test")
    assert titles("rss", theirs.content) == ["Only on the other site"]


def test_a_publish_dated_by_a_clock_ahead_of_ours_gets_no_last_modified(client, newsroom):
    """A story published on a machine whose clock is ahead carries that machine's time. A feed
    dated by it would be dated after its own response; dated now instead, it could answer 304 to
    a copy that machine served before the story (masthead.caching.headers)."""
    ahead = timezone.now() + timedelta(seconds=30)
    ArticlePage.objects.filter(pk=newsroom["briefing"].pk).update(last_published_at=ahead)
    url = "/feeds/rss/"
    response = fetch(client, url, "rss")
    assert "Last-Modified" not in response
    older = http_date((ahead - timedelta(seconds=10)).timestamp())
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=older).status_code == 200
    assert client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304  # the ETag still validates


def test_a_withdrawal_dated_ahead_leaves_the_feed_without_last_modified(client, newsroom):
    """The feed's date may come from a withdrawal (Wagtail's page log), which the page cache's
    own validators do not know of: they must not put back the date the view left out."""
    from wagtail.models import PageLogEntry

    url = "/feeds/rss/"
    since = fetch(client, url, "rss")["Last-Modified"]
    newsroom["ceasefire"].unpublish()
    ahead = timezone.now() + timedelta(seconds=30)
    PageLogEntry.objects.filter(action="wagtail.unpublish").update(timestamp=ahead)
    response = client.get(url, HTTP_IF_MODIFIED_SINCE=since)
    assert response.status_code == 200 and "Last-Modified" not in response


def test_republishing_moves_last_modified(client, newsroom):
    url = "/feeds/atom/"
    since = fetch(client, url, "atom")["Last-Modified"]
    article = ArticlePage.objects.get(pk=newsroom["briefing"].pk)
    article.title = "World briefing, updated"
    article.save_revision().publish()
    response = client.get(url, HTTP_IF_MODIFIED_SINCE=since)
    assert response.status_code == 200
    assert "World briefing, updated" in titles("atom", response.content)


def test_changing_the_publication_settings_changes_the_etag(client, newsroom):
    etag = fetch(client, "/feeds/rss/", "rss")["ETag"]
    settings = publication_settings()
    settings.feed_full_text = False
    settings.save()
    assert client.get("/feeds/rss/", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_a_304_costs_no_article_query(client, newsroom, django_assert_max_num_queries):
    etag = fetch(client, "/feeds/rss/", "rss")["ETag"]
    # The site, the publication settings, the privacy restrictions, the version, the page log
    # (newest unpublish or move, newest publish).
    with django_assert_max_num_queries(6):
        assert client.get("/feeds/rss/", HTTP_IF_NONE_MATCH=etag).status_code == 304


# --- cost ----------------------------------------------------------------------------------------


def _queries_for(client, url: str) -> int:
    client.get(url)  # first request creates the renditions; count a warm one
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def _page_models_for(client, url: str) -> int:
    """How many article page models a feed builds: its items are read as plain rows, so only
    the pages its bodies link to are ever loaded as models."""
    made = []
    build = ArticlePage.from_db.__func__

    def counted(cls, *args, **kwargs):
        made.append(cls)
        return build(cls, *args, **kwargs)

    with patch.object(ArticlePage, "from_db", classmethod(counted)):
        assert client.get(url).status_code == 200
    return len(made)


def test_every_feed_costs_the_same_for_5_and_50_articles(client, make_section, make_article, make_author, make_image):
    """One data set for the three formats: building fifty illustrated articles is most of the
    test's time."""
    world = make_section("World")
    authors = [make_author() for _ in range(3)]
    tags = [Tag.objects.create(name=f"Topic {i}") for i in range(3)]
    picture = make_image("Shared picture")
    linked = make_article(world, "Linked")
    other = make_section("Other")

    def add(count: int, start: int) -> None:
        for i in range(start, start + count):
            article = make_article(
                world,
                f"Story {i}",
                authors=authors[: 1 + i % 3],
                tags=tags[: 1 + i % 3],
                further=[other],
                lead_image=make_image(f"Lead {i}"),
            )
            article.body = [
                ("paragraph", RichText(f'<p>Read <a linktype="page" id="{linked.pk}">this</a>.</p>')),
                ("image", {"image": picture, "alt_text": "", "caption": "", "credit": ""}),
            ]
            article.save_revision().publish()

    formats = ("rss", "atom", "json")
    add(5, 0)
    small = {fmt: _queries_for(client, f"/feeds/{fmt}/") for fmt in formats}
    small_models = {fmt: _page_models_for(client, f"/feeds/{fmt}/") for fmt in formats}
    add(45, 5)
    large = {fmt: _queries_for(client, f"/feeds/{fmt}/") for fmt in formats}
    assert small == large
    assert max(large.values()) <= 16, large
    assert {fmt: _page_models_for(client, f"/feeds/{fmt}/") for fmt in formats} == small_models


# --- autodiscovery -------------------------------------------------------------------------------


def render_links(**context) -> str:
    return engines["jinja2"].from_string("{{ feed_links() }}").render(context)


def links_in(html: str) -> list[tuple[str, str, str]]:
    return re.findall(r'<link rel="alternate" type="([^"]+)" title="([^"]+)" href="([^"]+)">', html)


SITE_LINKS = [
    ("application/rss+xml", "The Masthead (RSS)", "/feeds/rss/"),
    ("application/atom+xml", "The Masthead (Atom)", "/feeds/atom/"),
    ("application/feed+json", "The Masthead (JSON Feed)", "/feeds/json/"),
]


def test_feed_links_name_the_site_feeds_everywhere(newsroom):
    assert links_in(render_links()) == SITE_LINKS
    assert links_in(render_links(page=newsroom["ceasefire"])) == SITE_LINKS


def test_feed_links_follow_the_script_prefix(newsroom):
    # The paths are remembered once worked out: by mount point, so a second one gets its own.
    from django.urls import get_script_prefix, set_script_prefix

    assert links_in(render_links()) == SITE_LINKS
    before = get_script_prefix()
    try:
        set_script_prefix("/news/")
        assert [href for _, _, href in links_in(render_links())] == [
            "/news/feeds/rss/",
            "/news/feeds/atom/",
            "/news/feeds/json/",
        ]
    finally:
        set_script_prefix(before)
    assert links_in(render_links()) == SITE_LINKS


def test_feed_links_name_the_section_author_and_tag_feeds_on_their_pages(rf, newsroom):
    request = rf.get("/")
    html = render_links(page=newsroom["mideast"], request=request)
    assert links_in(html)[:3] == SITE_LINKS
    assert links_in(html)[3:] == [
        ("application/rss+xml", "The Masthead: Middle East (RSS)", "/feeds/sections/world/middle-east/rss/"),
        (
            "application/atom+xml",
            "The Masthead: Middle East (Atom)",
            "/feeds/sections/world/middle-east/atom/",
        ),
        (
            "application/feed+json",
            "The Masthead: Middle East (JSON Feed)",
            "/feeds/sections/world/middle-east/json/",
        ),
    ]
    assert (
        "application/atom+xml",
        "The Masthead: Ada Lovelace (Atom)",
        "/feeds/authors/ada-lovelace/atom/",
    ) in links_in(render_links(author=newsroom["ada"]))
    assert ("application/rss+xml", "The Masthead: World Cup (RSS)", "/feeds/tags/world-cup/rss/") in links_in(
        render_links(tag=newsroom["cup"])
    )


def test_feed_links_escape_names(make_author):
    html = render_links(author=make_author('Ana "Bee" <Cee>'))
    assert "Ana &quot;Bee&quot; &lt;Cee&gt;" in html
    assert "<Cee>" not in html


def test_feed_links_point_at_working_feeds(client, newsroom):
    for page in (newsroom["mideast"], None):
        for _type, _title, href in links_in(
            render_links(page=page, author=newsroom["bob"], tag=newsroom["gaza"])
        ):
            assert client.get(href).status_code == 200, href


def test_pages_carry_the_autodiscovery_links(client, newsroom):
    """base.html calls feed_links() in its <head>: every page names the feeds."""
    pages = {
        "/": [],
        "/world/middle-east/": ["/feeds/sections/world/middle-east/rss/"],
        newsroom["ceasefire"].url: [],
        f"/authors/{newsroom['ada'].slug}/": ["/feeds/authors/ada-lovelace/rss/"],
        f"/tags/{newsroom['gaza'].slug}/": ["/feeds/tags/gaza/rss/"],
    }
    for url, extra in pages.items():
        html = client.get(url).content.decode()
        head = html.split("</head>")[0]
        found = [href for _type, _title, href in links_in(head)]
        assert found[:3] == ["/feeds/rss/", "/feeds/atom/", "/feeds/json/"], url
        for href in extra:
            assert href in found, (url, href)
