"""The share bar: plain links with the canonical URL and headline, and the Mastodon step."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
from bs4 import BeautifulSoup

from masthead.news.share import share_links

HEADLINE = "Gaza: “talks” resume — 50% & more…? #1"
URL = "https://news.example/world/gaza-talks-resume/"


def params(href: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(href).query, strict_parsing=True).items()}


EXPECTED = {
    "email": ("mailto", "", {"subject": HEADLINE, "body": f"{HEADLINE} {URL}"}),
    "x": ("https", "x.com/intent/post", {"text": HEADLINE, "url": URL}),
    "facebook": ("https", "www.facebook.com/sharer/sharer.php", {"u": URL}),
    "linkedin": ("https", "www.linkedin.com/sharing/share-offsite/", {"url": URL}),
    "whatsapp": ("https", "wa.me/", {"text": f"{HEADLINE} {URL}"}),
    "telegram": ("https", "t.me/share/url", {"url": URL, "text": HEADLINE}),
    "reddit": ("https", "www.reddit.com/submit", {"url": URL, "title": HEADLINE}),
    "bluesky": ("https", "bsky.app/intent/compose", {"text": f"{HEADLINE} {URL}"}),
}


def test_every_network_gets_exact_url_and_headline():
    links = {link.key: link for link in share_links(HEADLINE, URL)}
    assert set(links) == set(EXPECTED)
    for key, (scheme, where, query) in EXPECTED.items():
        parts = urlsplit(links[key].href)
        assert parts.scheme == scheme, key
        assert (parts.netloc + parts.path) == where, key
        assert params(links[key].href) == query, key
        # Byte for byte what urlencode gives with quote (nothing safe): the links' form since
        # the first share bar, which caches and tests of pages already hold.
        assert parts.query == urlencode(query, quote_via=quote), key
        # Percent-encoded, never raw: no spaces, quotes or ampersands from the headline leak out.
        assert " " not in links[key].href and "“" not in links[key].href, key


def test_a_page_with_no_public_url_gets_no_share_links():
    # Wagtail's get_full_url() is None for a page outside every site: nothing to share, rather
    # than links that share the word "None".
    assert share_links(HEADLINE, None) == []


@pytest.fixture
def article(make_section, make_article):
    return make_article(make_section("World"), HEADLINE)


def test_article_page_share_bar_has_no_third_party_code(client, article):
    doc = BeautifulSoup(client.get(article.url).content, "html.parser")
    bar = doc.select_one("section.share")
    hrefs = [a["href"] for a in bar.select("a.share__link")]
    assert len(hrefs) == len(EXPECTED)
    canonical = doc.select_one("link[rel=canonical]")["href"]
    assert all(canonical in str(params(h)) for h in hrefs if "facebook" in h or "linkedin" in h)
    assert not bar.find("script") and not bar.find("iframe") and not bar.find("img")
    # Every script that runs is our own file; the only inline ones are JSON-LD data blocks.
    scripts = [s["src"] for s in doc.find_all("script") if s.get("type") != "application/ld+json"]
    assert "/static/masthead/js/share.js" in scripts
    assert all(src.startswith("/static/") for src in scripts), scripts
    assert bar.select_one("form.share-mastodon input[name=instance]")
    assert bar.select_one("button[data-copy]").has_attr("hidden")  # shown by JavaScript only


@pytest.mark.parametrize(
    "instance, host",
    [("mastodon.social", "mastodon.social"), ("https://Fosstodon.org/", "fosstodon.org"), ("@ada@hachyderm.io", "hachyderm.io")],
)
def test_mastodon_redirects_to_readers_instance(client, article, instance, host):
    response = client.get(f"/share/mastodon/{article.pk}/", {"instance": instance})
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert (target.scheme, target.netloc, target.path) == ("https", host, "/share")
    assert params(response["Location"]) == {"text": f"{HEADLINE} {article.get_full_url()}"}


@pytest.mark.parametrize("instance", ["", "not a host", "javascript:alert(1)", "under_score.example", "host.example:99999999", "a" * 300 + ".com"])
def test_mastodon_rejects_bad_instance_with_readable_page(client, article, instance):
    response = client.get(f"/share/mastodon/{article.pk}/", {"instance": instance})
    assert response.status_code == 400
    assert b'role="alert"' in response.content


def test_mastodon_share_of_unknown_article_is_404(client, db):
    assert client.get("/share/mastodon/999999/", {"instance": "mastodon.social"}).status_code == 404
