"""StreamField blocks for article bodies.

Embeds are deliberately not Wagtail's EmbedBlock: that fetches oEmbed from the provider on save
and renders the provider's iframe, so every reader would make third-party requests. Ours stores
the URL and a title and renders a plain link card; nothing leaves the reader's browser unasked.
"""

from urllib.parse import urlsplit

from django.utils.safestring import SafeString, mark_safe
from wagtail import blocks
from wagtail.images.blocks import ImageChooserBlock
from wagtail.rich_text import expand_db_html

from masthead.escaping import format_html

RICH_TEXT_FEATURES = ["bold", "italic", "link", "ol", "ul"]


class ParagraphBlock(blocks.RichTextBlock):
    """Rich text, rendered as Wagtail renders it but without the two templates (a block
    template around Wagtail's own `{{ html|safe }}`) that each paragraph went through: with
    fourteen paragraphs, a tenth of an uncached article page."""

    def render_basic(self, value, context=None) -> SafeString:
        return mark_safe(expand_db_html(value.source))  # noqa: S308 (Wagtail's own rewriting of stored rich text)


class SubheadBlock(blocks.CharBlock):
    """A heading within the story, escaped as a template would."""

    def render_basic(self, value, context=None) -> SafeString:
        return format_html('<h2 class="subhead">{}</h2>', value)


class QuoteBlock(blocks.StructBlock):
    quote = blocks.TextBlock()
    attribution = blocks.CharBlock(required=False, max_length=200)

    class Meta:
        icon = "openquote"
        template = "news/blocks/quote.html"


class ImageBlock(blocks.StructBlock):
    image = ImageChooserBlock()
    alt_text = blocks.CharBlock(
        required=False,
        max_length=250,
        help_text="Describe the image for readers who cannot see it. "
        "Left empty, the image's own description is used.",
    )
    caption = blocks.CharBlock(required=False, max_length=300)
    credit = blocks.CharBlock(required=False, max_length=120)

    class Meta:
        icon = "image"
        template = "news/blocks/image.html"


class EmbedBlock(blocks.StructBlock):
    url = blocks.URLBlock(help_text="Link to the video, post or document.")
    title = blocks.CharBlock(max_length=200, help_text="What readers will find behind the link.")
    caption = blocks.CharBlock(required=False, max_length=300)

    class Meta:
        icon = "media"
        template = "news/blocks/embed.html"

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        host = urlsplit(value["url"]).hostname or ""
        context["provider"] = host.removeprefix("www.")
        return context


class ArticleBodyBlock(blocks.StreamBlock):
    paragraph = ParagraphBlock(features=RICH_TEXT_FEATURES)
    subhead = SubheadBlock(max_length=200, icon="title")
    quote = QuoteBlock()
    image = ImageBlock()
    embed = EmbedBlock()
