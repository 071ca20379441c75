from __future__ import annotations

from django import template
from wagtail.images.models import ResponsiveImage
from wagtail.images.templatetags import wagtailimages_tags

from .. import models
from ..card_markup import card_html
from ..renditions import distinct_renditions, srcset_html
from ..share import share_links as build_share_links

register = template.Library()


@register.filter
def within(page, section) -> bool:
    """True when `page` is `section` or lies below it in the tree (for aria-current)."""
    path = getattr(page, "path", None)
    return bool(path and section is not None and path.startswith(section.path))


# `{{ tag.slug|tag_url }}`: the tag's page, as `{% url 'news:tag' slug %}` without a reverse()
# per tag.
register.filter("tag_url", models.tag_url)


# `{% share_links headline url as links %}`: the share bar's links (news/share.py). The bar works
# out the article's full URL once and hands it here, rather than three times over.
register.simple_tag(build_share_links, name="share_links")


# --- responsive images ---------------------------------------------------------------------------


class DistinctSrcsetNode(wagtailimages_tags.SrcsetImageNode):
    """Wagtail's srcset_image, with renditions of equal width dropped (see
    news/renditions.py: srcset_html)."""

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
        if self.output_var_name:
            context[self.output_var_name] = ResponsiveImage(distinct_renditions(image, filters))
            return ""
        return srcset_html(image, filters, {name: value.resolve(context) for name, value in self.attrs.items()})


@register.tag
def srcset_image(parser, token) -> DistinctSrcsetNode:
    """`{% srcset_image image width-{480,800,1200} sizes="…" alt=… %}`, parsed exactly as
    Wagtail's tag of the same name, which this replaces in templates that load news_tags after
    wagtailimages_tags."""
    node = wagtailimages_tags.image(parser, token)
    return DistinctSrcsetNode(
        node.image_expr, node.filter_specs, output_var_name=node.output_var_name, attrs=node.attrs
    )


@register.simple_tag
def article_card(card, heading: str = "h2", show_section: bool = False, lead: bool = False):
    """`{% article_card card heading="h3" show_section=True %}`: one story in a list
    (news/card_markup.py)."""
    return card_html(card, heading, bool(show_section), bool(lead))
