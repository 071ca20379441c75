"""Publication-wide settings that distribution needs: who the publisher is and what feeds carry."""

from django.db import models
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting


@register_setting(icon="site")
class PublicationSettings(BaseSiteSetting):
    description = models.CharField(
        max_length=300,
        default="Independent news and analysis.",
        help_text="One sentence about the publication: the home page's meta description and feeds' subtitle.",
    )
    publisher_logo = models.ForeignKey(
        "wagtailimages.Image",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Shown to search engines as the publisher's logo (at least 112 px wide).",
    )
    feed_full_text = models.BooleanField(
        default=True, help_text="Feeds carry each article's full text; off, only its summary."
    )
    social_handle = models.CharField(
        max_length=50, blank=True, help_text="The publication's account on X, e.g. @masthead (for cards)."
    )

    panels = [
        FieldPanel("description"),
        FieldPanel("publisher_logo"),
        FieldPanel("feed_full_text"),
        FieldPanel("social_handle"),
    ]

    class Meta:
        verbose_name = "publication settings"
