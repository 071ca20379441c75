"""Renditions fetched with their image, read straight from the prefetch.

The lists and feeds prefetch their pictures' renditions in one query (news/cards.py,
distribution/feed_items.py). Wagtail would find them there too, at a price paid per picture on
every view: `get_rendition` (one spec, as the feeds ask) writes the rendition to the cache
again, a pickling each time; `get_renditions` (a srcset) parses its filter specs anew and
regroups the prefetched list. Here the filters come parsed (once per template, or once per
process) and the prefetched list is read as it is. Anything not prefetched, missing, or an SVG
(whose filters Wagtail rewrites) goes through Wagtail as before.
"""

from __future__ import annotations

from typing import Iterable

from wagtail.images.models import Filter


def prefetched(image, filters: Iterable[Filter]) -> dict | None:
    """{spec: rendition} for every filter, from the image's prefetched renditions; None when
    one of them is not there (the caller then asks Wagtail)."""
    found = getattr(image, "_prefetched_objects_cache", {}).get("renditions")
    if found is None or image.is_svg():
        return None
    by_key = {(rendition.filter_spec, rendition.focal_point_key): rendition for rendition in found}
    renditions = {}
    for spec_filter in filters:
        rendition = by_key.get((spec_filter.spec, spec_filter.get_cache_key(image)))
        if rendition is None:
            return None
        renditions[spec_filter.spec] = rendition
    return renditions
