"""An article card's markup (masthead/news/card_markup.py): every field escaped, bylines
joined as a sentence, and the picture as `srcset_image()` gives it."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from bs4 import BeautifulSoup
from django.utils import timezone as django_timezone

from masthead.news.card_markup import card_html
from masthead.news.cards import Card, Link


def card(**changes) -> Card:
    fields = dict(
        pk=1,
        title='AT&T <b>buys</b> "everything"',
        url="/world/att/",
        path="000100010001",
        standfirst="Less <i>than</i> it seems.",
        first_published_at=datetime(2026, 11, 26, 9, 30, tzinfo=timezone.utc),
        last_published_at=None,
        comment_count=0,
        section=Link(2, "World & Co", "/world/"),
        authors=[],
    )
    return Card(**{**fields, **changes})


def parse(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def test_text_is_escaped_and_the_heading_is_the_one_asked_for():
    html = card_html(card(), heading="h3", show_section=True)
    doc = parse(html)
    assert doc.select_one("h3.card__headline a").get_text() == 'AT&T <b>buys</b> "everything"'
    assert doc.select_one("h3.card__headline a")["href"] == "/world/att/"
    assert "<b>" not in html and "<i>" not in html
    assert doc.select_one(".card__section a").get_text() == "World & Co"
    assert doc.select_one(".card__standfirst").get_text() == "Less <i>than</i> it seems."
    assert doc.time["datetime"].startswith("2026-11-26T")
    assert not doc.select(".card__image") and not doc.select(".byline") and "comment" not in doc.select_one(".card__meta").get_text()
    assert not parse(card_html(card(), show_section=False)).select(".card__section")
    with pytest.raises(ValueError):
        card_html(card(), heading="script")


def test_the_date_is_the_active_time_zones_each_time():
    # Formatted dates are remembered by instant, format, zone and language; the zone is read
    # per card, so a change of zone shows at once, and the first zone's dates don't stick.
    late = card(first_published_at=datetime(2026, 11, 26, 20, 0, tzinfo=timezone.utc))
    shown = []
    for zone in ("UTC", "Asia/Tokyo", "UTC"):
        with django_timezone.override(ZoneInfo(zone)):
            doc = parse(card_html(late))
            shown.append((doc.time["datetime"], doc.time.get_text()))
    assert shown == [
        ("2026-11-26T20:00:00+0000", "26 Nov 2026"),
        ("2026-11-27T05:00:00+0900", "27 Nov 2026"),
        ("2026-11-26T20:00:00+0000", "26 Nov 2026"),
    ]


@pytest.mark.parametrize(
    "names, sentence",
    [(["Ada"], "By Ada"), (["Ada", "Ben"], "By Ada and Ben"), (["Ada", "Ben", "Cy <x>"], "By Ada, Ben and Cy <x>")],
)
def test_bylines_read_as_a_sentence_with_each_author_linked(names, sentence):
    authors = [Link(i, name, f"/authors/{i}/") for i, name in enumerate(names)]
    byline = parse(card_html(card(authors=authors))).select_one(".byline")
    assert byline.get_text() == sentence
    assert [a["href"] for a in byline.select("a")] == [f"/authors/{i}/" for i in range(len(names))]


@pytest.mark.parametrize("count, text", [(1, "1 comment"), (12, "12 comments")])
def test_the_comment_count_links_to_the_comments(count, text):
    link = parse(card_html(card(comment_count=count))).select(".card__meta a")[-1]
    assert (link.get_text(), link["href"]) == (text, "/world/att/#comments")


@pytest.mark.django_db
@pytest.mark.usefixtures("fresh_cache")  # renditions are cached by image id, reused on SQLite
def test_the_picture_is_the_srcset_image_of_the_lead_or_of_a_plain_card(make_image):
    picture = make_image("Card picture", 1600, 900)
    plain = parse(card_html(card(lead_image=picture))).select_one("a.card__image img")
    lead_doc = parse(card_html(card(lead_image=picture), lead=True))
    lead = lead_doc.select_one("a.card__image img")
    assert "card--lead" in lead_doc.article["class"]
    assert [c.split()[1] for c in plain["srcset"].split(", ")] == ["320w", "640w"]
    assert [c.split()[1] for c in lead["srcset"].split(", ")] == ["640w", "1280w"]
    assert plain["sizes"].startswith("(min-width: 64em) 18rem") and lead["sizes"] == "(min-width: 64em) 40rem, 100vw"
    assert (plain["alt"], plain["loading"]) == ("", "lazy")


CHANGES = {
    "title": "Another headline",
    "url": "/world/moved/",
    "standfirst": "A new standfirst.",
    "first_published_at": datetime(2025, 1, 2, 3, 4, tzinfo=timezone.utc),
    "comment_count": 3,
    "section": Link(2, "World, renamed", "/world/"),
    "authors": [Link(7, "Ada", "/authors/ada/")],
}


@pytest.mark.parametrize("field", sorted(CHANGES))
def test_a_remembered_card_is_never_shown_after_what_it_shows_changed(field):
    """Cards are remembered by everything they show (card_markup.card_html): any change is a
    new card, exactly as if nothing had been remembered."""
    from masthead.news import card_markup

    before = card_html(card(), heading="h3", show_section=True)
    assert card_html(card(), heading="h3", show_section=True) is before  # remembered
    changed = card(**{field: CHANGES[field]})
    shown = card_html(changed, heading="h3", show_section=True)
    card_markup._remembered.clear()
    assert shown == card_html(changed, heading="h3", show_section=True) != before


def test_the_options_and_the_time_zone_are_part_of_what_is_remembered():
    shown = {
        card_html(card(), heading="h3"),
        card_html(card(), heading="h4"),
        card_html(card(), show_section=True),
        card_html(card(), lead=True),
    }
    with django_timezone.override(ZoneInfo("Asia/Tokyo")):
        shown.add(card_html(card(first_published_at=datetime(2026, 11, 26, 20, 0, tzinfo=timezone.utc))))
    shown.add(card_html(card(first_published_at=datetime(2026, 11, 26, 20, 0, tzinfo=timezone.utc))))
    assert len(shown) == 6


def test_remembered_cards_are_bounded(monkeypatch):
    from masthead.news import card_markup

    monkeypatch.setattr(card_markup._remembered, "limit", 3)
    card_markup._remembered.clear()
    for pk in range(10):
        card_html(card(pk=pk))
        assert len(card_markup._remembered) <= 3


@pytest.mark.django_db
@pytest.mark.usefixtures("fresh_cache")
def test_a_remembered_card_follows_its_pictures_renditions(make_image):
    """A picture's renditions are part of the key: another rendition file (regenerated, or the
    media moved) is another card."""
    from masthead.news import renditions

    picture = make_image("Card picture", 1600, 900)
    picture.prefetched_renditions = list(picture.get_renditions("fill-320x180", "fill-640x360").values())
    before = card_html(card(lead_image=picture))
    moved = picture.prefetched_renditions[0]
    moved.file.name = moved.file.name.replace("fill-320x180", "fill-320x180.moved")
    renditions._storage_url.cache_clear()
    after = card_html(card(lead_image=picture))
    assert "fill-320x180.moved" in after and "fill-320x180.moved" not in before
