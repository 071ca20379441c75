"""Renditions fetched with their image, read straight from what was fetched.

The lists, the feeds and the article's lead picture fetch their pictures' renditions in one
query (`load` here); the feeds' inline pictures come in a prefetch (distribution/feed_items.py).
Wagtail would find them there too, at a price paid per picture on every view: `get_rendition`
(one spec, as the feeds ask) writes the rendition to the cache again, a pickling each time;
`get_renditions` (a srcset) parses its filter specs anew and regroups the fetched list. Here the
filters come parsed (once per template, or once per process) and the fetched list is read as it
is. Anything not fetched, missing, or an SVG (whose filters Wagtail rewrites) goes through
Wagtail as before."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterable

from django.apps import apps
from django.core.files.storage import FileSystemStorage
from django.utils.functional import LazyObject, empty
from django.utils.safestring import SafeString
from wagtail.images import get_image_model
from wagtail.images.models import Filter
from wagtail.images.shortcuts import get_renditions_or_not_found

from masthead.caching.prepared import Prepared
from masthead.escaping import escaped

_renditions_of = Prepared(
    "renditions:of-images",
    lambda ids: get_image_model().get_rendition_model().objects.filter(image_id__in=ids),
)


def load(images: list) -> None:
    """Every rendition of `images` in one query, kept on each image as `prefetched_renditions`,
    where Wagtail's own get_renditions looks first (as after a prefetch with that `to_attr`):
    no cache read or write per picture, where Wagtail would otherwise pickle each rendition
    into its cache again on every view."""
    by_pk: dict[int, list] = {}
    for image in images:
        image.prefetched_renditions = []
        by_pk.setdefault(image.pk, []).append(image)
    if not by_pk:
        return
    for rendition in _renditions_of(list(by_pk)):
        for image in by_pk[rendition.image_id]:
            image.prefetched_renditions.append(rendition)
        rendition.image = by_pk[rendition.image_id][0]  # its alt text, without a query


def prefetched(image, filters: Iterable[Filter]) -> dict | None:
    """{spec: rendition} for every filter, from the image's prefetched renditions; None when
    one of them is not there (the caller then asks Wagtail)."""
    found = getattr(image, "prefetched_renditions", None)
    if found is None:
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


def distinct_widths(renditions: dict) -> dict:
    """The renditions (filter spec -> rendition, in the order asked for) with one per width.

    Wagtail never upscales, so an upload narrower than the widths asked for gives several
    renditions of its own width; a srcset may not name one width twice."""
    kept: dict = {}
    widths: set[int] = set()
    for spec, rendition in renditions.items():
        if rendition.width not in widths:
            widths.add(rendition.width)
            kept[spec] = rendition
    return kept


def distinct_renditions(image, filters: list[Filter]) -> dict:
    """{spec: rendition}, one per width, from what was fetched or else through Wagtail."""
    return distinct_widths(prefetched(image, filters) or get_renditions_or_not_found(image, filters))


def srcset_html(image, filters: list[Filter], attrs: dict) -> SafeString:
    """The <img> `srcset_image()` gives, renditions of equal width dropped. With one
    rendition left there is no srcset, so `sizes` goes too (HTML allows it only beside a
    srcset); the <img> keeps the width and height of the first (smallest) rendition."""
    return renditions_html(list(distinct_renditions(image, filters).values()), attrs)


def renditions_html(renditions: list, attrs: dict) -> SafeString:
    """The <img> of renditions already chosen (`distinct_renditions`), as `srcset_html`."""
    if len(renditions) < 2:
        attrs = {name: value for name, value in attrs.items() if name != "sizes"}
    return img_html(renditions, attrs)


def img_html(renditions: list, attrs: dict[str, Any]) -> SafeString:
    """The <img> Wagtail's `ResponsiveImage(renditions, attrs)` renders, byte for byte
    (tests/news/test_images.py compares them), without its cost per picture: Wagtail builds an
    ordered dict per rendition and formats it through Django's `flatatt` and `format_html_join`,
    and asks the storage for each file's URL: about 8 % of the uncached article's Python calls
    (its lead image, the bylines' portraits and eight cards).

    Attributes in Wagtail's order of precedence (the rendition's src, width, height and alt,
    then the app's default attributes, then `attrs`, then the srcset), written as `flatatt`
    writes them: valued ones sorted by name, then the true booleans; None and False left out.
    Which attributes appear, in what order, and the text of all but the rendition's own depend
    only on `attrs` and the defaults, the same at every call of a template, so that part is
    laid out once (`_img_layout`) and each picture only fills in its own values."""
    first = renditions[0]
    own = {"src": file_url(first.file), "width": first.width, "height": first.height, "alt": first.alt}
    if len(renditions) > 1:
        own["srcset"] = ", ".join(f"{file_url(each.file)} {each.width}w" for each in renditions)
    fixed = {**apps.get_app_config("wagtailimages").default_attrs, **attrs}
    try:
        # The type is part of the key: a SafeString and a str of the same text escape differently.
        layout = _img_layout(tuple((name, type(value), value) for name, value in fixed.items()), tuple(own))
    except TypeError:  # an attribute value that cannot be a key (a list, say): lay it out here
        layout = None
    if layout is None or any(value is None or isinstance(value, bool) for value in own.values()):
        return SafeString(f"<img{_attributes({**own, **fixed, **_srcset_of(own)})}>")
    return SafeString(layout.format_map({name: escaped(value) for name, value in own.items()}))


def _srcset_of(own: dict) -> dict:
    return {"srcset": own["srcset"]} if "srcset" in own else {}


def _attributes(values: dict[str, Any]) -> str:
    """`values` as `flatatt` writes them: valued ones sorted by name, then the true booleans."""
    valued = sorted((name, value) for name, value in values.items() if not isinstance(value, bool) and value is not None)
    flags = sorted(name for name, value in values.items() if value is True)
    markup = "".join(f' {escaped(name)}="{escaped(value)}"' for name, value in valued)
    return markup + "".join(f" {escaped(name)}" for name in flags)


class _Slot(str):
    """Stands for one of the rendition's own values while a layout is made."""

    __slots__ = ()


@lru_cache(maxsize=256)
def _img_layout(fixed: tuple[tuple[str, type, Any], ...], own_names: tuple[str, ...]) -> str:
    """The <img> for these fixed attributes as a `str.format_map` template whose fields are the
    rendition's own values (`own_names`) that the fixed ones do not override."""
    values: dict[str, Any] = {name: _Slot(name) for name in own_names if name != "srcset"}
    values.update((name, value) for name, _, value in fixed)
    if "srcset" in own_names:
        values["srcset"] = _Slot("srcset")
    pieces = []
    for name, value in sorted((n, v) for n, v in values.items() if not isinstance(v, bool) and v is not None):
        shown = "{%s}" % value if isinstance(value, _Slot) else _braces(escaped(value))
        pieces.append(f' {_braces(escaped(name))}="{shown}"')
    pieces += [f" {_braces(escaped(name))}" for name in sorted(n for n, v in values.items() if v is True)]
    return "<img" + "".join(pieces) + ">"


def _braces(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def file_url(file) -> str:
    """A stored file's URL. A file system storage's URL depends only on its base URL and the
    file's name, so it is worked out once per pair; any other storage (a signed or expiring
    URL, say) is asked each time."""
    storage = file.storage
    if isinstance(storage, LazyObject):  # the default storage: every read through it is a proxy call
        if storage._wrapped is empty:
            storage._setup()
        storage = storage._wrapped
    if type(storage).url is FileSystemStorage.url:
        return _storage_url(storage, storage.base_url, file.name)
    return file.url


@lru_cache(maxsize=8192)
def _storage_url(storage, base_url: str, name: str) -> str:
    return storage.url(name)
