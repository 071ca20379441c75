from __future__ import annotations

from django import template
from wagtail.images.models import ResponsiveImage
from wagtail.images.shortcuts import get_renditions_or_not_found
from wagtail.images.templatetags import wagtailimages_tags

from ..renditions import prefetched
from ..share import share_links as build_share_links

register = template.Library()


@register.filter
def within(page, section) -> bool:
    """True when `page` is `section` or lies below it in the tree (for aria-current)."""
    path = getattr(page, "path", None)
    return bool(path and section is not None and path.startswith(section.path))


@register.simple_tag(takes_context=True)
def share_links(context, page) -> list:
    return build_share_links(page.title, page.get_full_url(context.get("request")))


# --- responsive images ---------------------------------------------------------------------------


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


class DistinctSrcsetNode(wagtailimages_tags.SrcsetImageNode):
    """Wagtail's srcset_image, with renditions of equal width dropped (see distinct_widths).

    With one rendition left there is no srcset, so `sizes` is dropped too: HTML allows it only
    beside a srcset. The <img> keeps the width and height of the first (smallest) rendition."""

    def parsed_filters(self) -> list:
        """The tag's filters, parsed once per template rather than at every render (a Filter
        is not changed by use)."""
        parsed = getattr(self, "_parsed_filters", None)
        if parsed is None:
            parsed = self._parsed_filters = self.get_filters()
        return parsed

    def render(self, context) -> str:
        image = self.validate_image(context)
        if not image:
            return ""
        filters = self.parsed_filters()
        renditions = distinct_widths(prefetched(image, filters) or get_renditions_or_not_found(image, filters))
        if self.output_var_name:
            context[self.output_var_name] = ResponsiveImage(renditions)
            return ""
        attrs = {name: value.resolve(context) for name, value in self.attrs.items()}
        if len(renditions) < 2:
            attrs.pop("sizes", None)
        return ResponsiveImage(renditions, attrs).__html__()


@register.tag
def srcset_image(parser, token) -> DistinctSrcsetNode:
    """`{% srcset_image image width-{480,800,1200} sizes="…" alt=… %}`, parsed exactly as
    Wagtail's tag of the same name, which this replaces in templates that load news_tags after
    wagtailimages_tags."""
    node = wagtailimages_tags.image(parser, token)
    return DistinctSrcsetNode(
        node.image_expr, node.filter_specs, output_var_name=node.output_var_name, attrs=node.attrs
    )
