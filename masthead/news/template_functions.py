"""What the public templates call from news (named in masthead/templating.py)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.utils.safestring import SafeString
from wagtail.images.models import Filter

from .card_markup import card_html
from .models import tag_url
from .renditions import srcset_html
from .share import share_links

__all__ = ["article_card", "share_links", "srcset_image", "tag_url", "within"]


def within(page: Any, section: Any) -> bool:
    """`page|within(section)`: `page` is `section` or lies below it in the tree (for aria-current)."""
    path = getattr(page, "path", None)
    return bool(path and section is not None and path.startswith(section.path))


def article_card(
    card: Any, heading: str = "h2", show_section: bool = False, lead: bool = False
) -> SafeString:
    """`{{ article_card(card, heading="h3", show_section=True) }}`: one story in a list
    (news/card_markup.py)."""
    return card_html(card, heading, bool(show_section), bool(lead))


def srcset_image(image: Any, filter_spec: str, **attrs: Any) -> SafeString | str:
    """`{{ srcset_image(image, "width-{480,800,1200}", sizes="…", alt=…) }}`: Wagtail's function
    of that name, with renditions of equal width dropped (news/renditions.py: srcset_html)."""
    if not image:
        return ""
    return srcset_html(image, list(_filters(filter_spec)), attrs)


@lru_cache(maxsize=64)
def _filters(filter_spec: str) -> tuple[Filter, ...]:
    """A spec's filters, parsed once per process (a Filter is not changed by use)."""
    if not Filter.pipe_expanding_spec_pattern.match(filter_spec):
        raise ValueError(f"not an image filter spec: {filter_spec!r}")
    return tuple(Filter(spec=spec) for spec in Filter.expand_spec(filter_spec))
