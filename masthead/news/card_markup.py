"""An article card's markup, built in Python rather than by an include per card.

Cards are the most repeated thing on the site: eight under every story ("Related", "More in"),
twenty-odd on the home front, a page of them on every section, author, tag and search page.
Through `{% include "news/includes/article_card.html" %}` each cost about 0.11 ms (the include,
its context, and template lookups of each field), 0.9 ms of an uncached article page. The card
is small and fixed, so it is built here with `format_html`, which escapes every value as the
template did; its picture goes through the same srcset code as `srcset_image()`.

The same cards come back on page after page (the "More in" list is the same under every story of
a section, a front's cards are under its stories too), so a card's markup is also remembered by
everything it is made from: each field it shows, its picture's renditions (file URLs and sizes),
the options, and the active time zone and language its date is written in. A change to any of
them is a different key, so a remembered card is never out of date; it only spares building the
same text twice. The rows are still read from the database on every uncached page.
"""

from __future__ import annotations

from django.template.defaultfilters import pluralize
from django.utils.safestring import SafeString, mark_safe
from wagtail.images.models import Filter

from masthead.escaping import format_html
from masthead.memo import Memo

from .cards import Card, date_setting
from .renditions import distinct_renditions, file_url, renditions_html

HEADINGS = frozenset({"h2", "h3", "h4"})
# The card's picture: (filters, sizes) for the lead card of a front, and for every other card.
_LEAD_PICTURE = (
    [Filter(spec=spec) for spec in Filter.expand_spec("fill-{640x360,1280x720}")],
    "(min-width: 64em) 40rem, 100vw",
)
_PICTURE = (
    [Filter(spec=spec) for spec in Filter.expand_spec("fill-{320x180,640x360}")],
    "(min-width: 64em) 18rem, (min-width: 40em) 45vw, 100vw",
)


_remembered: Memo[SafeString] = Memo(limit=4096)  # cards, a kilobyte or two each


def card_html(card: Card, heading: str = "h2", show_section: bool = False, lead: bool = False) -> SafeString:
    """One story as a list shows it: picture, section, headline, standfirst, bylines, date and
    comment count. `heading` is the headline's element (h2 to h4, by where the list sits)."""
    if heading not in HEADINGS:
        raise ValueError(f"a card's heading is one of {sorted(HEADINGS)}, not {heading!r}")
    filters, sizes = _LEAD_PICTURE if lead else _PICTURE
    renditions = []
    if card.lead_image is not None:
        renditions = list(distinct_renditions(card.lead_image, filters).values())
    section = card.section if show_section else None
    key = (
        card.pk,
        card.title,
        card.url,
        card.standfirst,
        card.first_published_at,
        card.comment_count,
        (section.url, section.title) if section is not None else None,
        tuple((author.url, author.title) for author in card.authors),
        tuple((file_url(rendition.file), rendition.width, rendition.height) for rendition in renditions),
        heading,
        lead,
        date_setting(),
    )
    return _remembered.get(key, lambda: _card_html(card, heading, section, renditions, sizes, lead))


def _card_html(card: Card, heading: str, section, renditions: list, sizes: str, lead: bool) -> SafeString:
    parts = [format_html('<article class="card{}">\n', " card--lead" if lead else "")]
    if renditions:
        picture = renditions_html(renditions, {"sizes": sizes, "alt": "", "loading": "lazy"})
        parts.append(
            format_html('<a class="card__image" href="{}" tabindex="-1" aria-hidden="true">{}</a>\n', card.url, picture)
        )
    parts.append('<div class="card__text">\n')
    if section is not None:
        link = format_html('<a href="{}">{}</a>', section.url, section.title)
        parts.append(format_html('<p class="card__section">{}</p>\n', link))
    tag = mark_safe(heading)  # one of HEADINGS
    parts.append(format_html('<{} class="card__headline"><a href="{}">{}</a></{}>\n', tag, card.url, card.title, tag))
    if card.standfirst:
        parts.append(format_html('<p class="card__standfirst">{}</p>\n', card.standfirst))
    published_iso, published_text = card.published()
    parts.append(
        format_html(
            '<p class="card__meta">{}<time datetime="{}">{}</time>{}</p>\n',
            _bylines(card),
            published_iso,
            published_text,
            _comments_link(card) if card.comment_count else "",
        )
    )
    parts.append("</div>\n</article>\n")
    return mark_safe("".join(parts))


def _comments_link(card: Card) -> SafeString:
    count = card.comment_count
    return format_html(' · <a href="{}#comments">{} comment{}</a>', card.url, count, pluralize(count))


def _bylines(card: Card) -> SafeString | str:
    """'By A, B and C · ', each author linked; nothing when the story has no byline."""
    if not card.authors:
        return ""
    links = [format_html('<a href="{}">{}</a>', author.url, author.title) for author in card.authors]
    names = links[0] if len(links) == 1 else mark_safe(", ".join(links[:-1]) + " and " + links[-1])
    return format_html('<span class="byline">By {}</span> · ', names)

