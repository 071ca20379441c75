"""Every public page type renders, shows what it should, and costs a fixed number of queries."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse

from masthead.news.models import ArticlePage


def html(response) -> BeautifulSoup:
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.content, "html.parser")


# Queries per page type, uncached. Routing is the site and the home front, then one query for an
# article or a section (masthead/news/routing.py) or one per tree level for other pages; view restrictions
# are read once per request (masthead/news/visibility.py), and when no page is private the
# check before serving needs no query of its own. The rest are the page's own lists,
# fetched in bulk, and the publication settings (with their logo joined) for the <head>'s cards
# and JSON-LD. The article's related reading (masthead/news/related.py) adds 5: the "More in
# <section>" ids, the cards of both lists, their bylines, their image renditions and their
# sections; the "Who is quoted" box (masthead/sourcing) 1: the quoted sources stored for the
# live revision's report; the comments 1 (every comment shown, up to 250; more take 4); its
# lead picture and its bylines' portraits 1, for all their renditions (masthead/news/renditions.py).
# Lists are keyset pages (masthead/news/pagination.py): no COUNT(*), one query for the page.
# As counted here, inside a test's transaction, where nothing of the site's structure is
# remembered: the first page after a change. Between changes an article page asks one query
# fewer (its section's newest ids, related.newest_in_section, are remembered).
QUERY_BUDGET = {"home": 13, "section": 12, "section page 2": 12, "article": 18, "author": 9, "tag": 9}


@pytest.fixture
def publication(desk, make_section, make_author, make_article, make_image):
    """A few sections, authors and tags; `grow()` adds many more of each."""
    state = {"n": 0}
    world, mideast, politics, main = desk.world, desk.mideast, desk.politics, desk.main
    authors = [desk.ada, desk.ben]

    def add(count: int, new_sections: int = 0) -> None:
        sections = [world, mideast, politics] + [make_section(f"Extra {state['n']}-{i}") for i in range(new_sections)]
        for i in range(count):
            state["n"] += 1
            n = state["n"]
            writer = make_author(f"Writer {n}")
            make_article(
                sections[i % len(sections)],
                f"Story {n}",
                authors=[authors[n % 2], writer],
                tags=["Gaza", f"tag {n}", f"other {n}"],
                further=[main] if n % 2 else [],
                standfirst="A standfirst.",
                lead_image=make_image(f"Lead {n}"),
                days_ago=n / 10,
            )

    add(16)  # enough that every block of the home front is full
    first = ArticlePage.objects.order_by("pk").first()
    return {"world": world, "politics": politics, "author": authors[0], "article": first, "grow": add}


def urls_of(pub) -> dict[str, str]:
    return {
        "home": "/",
        "section": pub["world"].url,
        "section page 2": pub["world"].url + "?page=1",
        "article": pub["article"].url,
        "author": pub["author"].get_absolute_url(),
        "tag": "/tags/gaza/",
    }


def test_query_budget_does_not_grow_with_content(count_queries, publication, settings):
    settings.MASTHEAD_PAGE_SIZE = 3
    before = {name: count_queries(url) for name, url in urls_of(publication).items()}
    publication["grow"](24, new_sections=3)
    after = {name: count_queries(url) for name, url in urls_of(publication).items()}
    assert after == before
    # Pinned: a change that adds a query to a page type must update this on purpose.
    assert before == QUERY_BUDGET


def test_article_page_shows_story_and_metadata(client, publication):
    article = publication["article"]
    doc = html(client.get(article.url))
    assert len(doc.find_all("h1")) == 1
    assert doc.h1.get_text() == article.title
    crumbs = [a.get_text() for a in doc.select("nav.breadcrumb a")]
    assert crumbs == ["Home", "World"]
    assert [a.get_text() for a in doc.select(".bylines a[rel=author]")] == ["Ben Writer", "Writer 1"]
    assert {a.get_text() for a in doc.select(".tags a")} == {"Gaza", "tag 1", "other 1"}
    assert "Also in" in doc.select_one(".article__also").get_text()
    assert doc.select_one("link[rel=canonical]")["href"].endswith(article.url)
    assert doc.select_one(".article__lead img")["alt"]
    assert "min read" in doc.select_one(".article__dates").get_text()
    assert "Updated" not in doc.select_one(".article__dates").get_text()


def test_page_types_have_one_h1_landmarks_and_skip_link(client, publication):
    for name, url in urls_of(publication).items():
        doc = html(client.get(url))
        assert len(doc.find_all("h1")) == 1, name
        assert doc.find("main", id="main"), name
        assert doc.find("header") and doc.find("footer") and doc.find("nav"), name
        assert doc.select_one("a.skip-link")["href"] == "#main", name
        assert doc.html["lang"] == "en", name
        for img in doc.find_all("img"):
            assert img.has_attr("alt") and img.has_attr("width") and img.has_attr("height"), (name, img)
        # No third-party resources: every script, stylesheet and image is our own.
        for tag, attr in (("script", "src"), ("link", "href"), ("img", "src")):
            for element in doc.find_all(tag):
                if element.get(attr) and tag != "link" or element.get("rel") in (["stylesheet"], ["icon"]):
                    assert element[attr].startswith("/"), (name, element)


def test_section_page_paginates_newest_first(client, publication, settings):
    settings.MASTHEAD_PAGE_SIZE = 2
    doc = html(client.get(publication["world"].url))
    titles = [h.get_text() for h in doc.select(".card__headline")]
    dates = [t["datetime"] for t in doc.select(".card__meta time")]
    assert len(titles) == 2 and dates == sorted(dates, reverse=True)
    older = doc.select_one("a[rel=next]")["href"]  # a keyset cursor: see masthead/news/pagination.py
    assert older.startswith(publication["world"].url + "?before=")
    page2 = html(client.get(older))
    assert not set(titles) & {h.get_text() for h in page2.select(".card__headline")}
    old_link = html(client.get(publication["world"].url + "?page=2"))  # old numbered links still work
    assert [h.get_text() for h in old_link.select(".card__headline")] == [
        h.get_text() for h in page2.select(".card__headline")
    ]
    assert client.get(publication["world"].url + "?page=99").status_code == 404


def test_new_article_appears_on_fronts_author_and_tag_pages(client, publication, make_article):
    article = make_article(
        publication["politics"], "Breaking: a new story", authors=[publication["author"]], tags=["Gaza"], days_ago=0
    )
    for url in ("/", publication["politics"].url, publication["author"].get_absolute_url(), "/tags/gaza/"):
        assert article.title in html(client.get(url)).get_text(), url


def test_draft_is_not_public(client, publication, make_article):
    draft = make_article(publication["politics"], "Secret draft", publish=False)
    assert client.get(draft.url).status_code == 404
    assert "Secret draft" not in client.get("/").content.decode()


def test_unknown_author_and_tag_are_404(client, db):
    assert client.get("/authors/nobody/").status_code == 404
    assert client.get("/tags/nothing/").status_code == 404
    doc = BeautifulSoup(client.get("/no/such/page/").content, "html.parser")
    assert doc.h1.get_text() == "Page not found"


def test_every_page_type_has_the_header_search_form(client, publication):
    urls = {**urls_of(publication), "404": "/no/such/page/", "search": "/search/?q=story"}
    for name, url in urls.items():
        doc = BeautifulSoup(client.get(url).content, "html.parser")
        forms = doc.select("header.site-header form.site-search")
        assert len(forms) == 1, name
        form = forms[0]
        assert (form["role"], form["method"]) == ("search", "get"), name
        assert form["action"] == reverse("search:search"), name
        field = form.select_one("input[type=search]")
        assert field["name"] == "q", name
        label = form.select_one(f"label[for={field['id']}]")
        assert label and label.get_text(strip=True), name
        assert len(doc.select(f"#{field['id']}")) == 1, name  # no clash with the search page's own form
        assert form.select_one("button[type=submit]").get_text(strip=True) == "Search", name


def test_header_search_form_submits_to_the_search_page(client, publication):
    form = html(client.get("/")).select_one("form.site-search")
    name = form.select_one("input[type=search]")["name"]
    response = client.get(form["action"], {name: "Story 3"})
    assert response.resolver_match.view_name == "search:search"
    doc = html(response)
    assert "Story 3" in [h.get_text() for h in doc.select(".search-result .card__headline")]


def test_stylesheets_of_every_page_type_stay_under_15_kb(client, publication, settings):
    """What a reader's browser downloads as CSS for a page, uncompressed: under 15 KB."""
    from django.contrib.staticfiles import finders

    static_url = settings.STATIC_URL
    urls = {**urls_of(publication), "search": "/search/?q=story"}
    for name, url in urls.items():
        links = html(client.get(url)).select("link[rel=stylesheet]")
        assert links, name
        paths = [finders.find(link["href"].removeprefix(static_url)) for link in links]
        assert all(paths), (name, links)
        total = sum(Path(path).stat().st_size for path in paths)
        assert total < 15_000, f"{name}: {total} bytes of CSS"


def test_an_article_links_its_topics_and_tag_urls_follow_the_script_prefix(client, desk, make_article):
    from django.urls import get_script_prefix, set_script_prefix
    from taggit.models import Tag

    from masthead.news.models import tag_url

    tags = [Tag.objects.create(name="United States", slug="united-states"), Tag.objects.create(name="Gaza", slug="gaza")]
    article = make_article(desk.world, "Talks", tags=tags)
    topics = html(client.get(article.url)).select("nav.tags a")
    assert [(a.text, a["href"]) for a in topics] == [("Gaza", "/tags/gaza/"), ("United States", "/tags/united-states/")]
    before = get_script_prefix()
    try:
        set_script_prefix("/news/")
        assert tag_url("gaza") == "/news/tags/gaza/"  # remembered per prefix, not once for all
    finally:
        set_script_prefix(before)
    assert tag_url("gaza") == "/tags/gaza/"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_cards_made_under_another_mount_point_link_under_it(desk, make_article, make_author):
    """A list of cards reads where the site is mounted once for all of them (cards.url_finder,
    masthead.links.mounted), and what is remembered is kept per mount point: within one
    generation, cards made under another script prefix still link under it."""
    from django.urls import get_script_prefix, set_script_prefix

    from masthead.caching import config
    from masthead.news import cards
    from masthead.news.models import author_url

    writer = make_author("Ada Writer")
    article = make_article(desk.world, "Mounted story", authors=[writer])
    story, author, section = article.url, author_url(writer.slug), desk.world.url
    before = get_script_prefix()
    config._remembered.clear()
    config._start()  # as in a request: the URLs are remembered for the generation
    try:
        for prefix in ("/", "/news/", "/"):
            set_script_prefix(prefix)
            (card,) = cards.load([article.pk])
            mount = prefix.rstrip("/")
            assert (card.url, [a.url for a in card.authors]) == (mount + story, [mount + author])
            assert card.section.url == mount + section
    finally:
        config._finish()
        set_script_prefix(before)
        config._remembered.clear()
