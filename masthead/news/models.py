"""The publication's content model.

The page tree carries the primary section: an article lives under the section that owns its URL
(`/world/us-calls-on-israel-.../`), so moving it to another section or changing its slug is a page
move, for which Wagtail's redirects app records a redirect from the old URL. Further sections
(the seed article is also in "Main Stories") are a many-to-many on the article.
"""

from __future__ import annotations

import functools
import html
import math
from datetime import timedelta

from django import forms
from django.db import models
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import strip_tags
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from taggit.models import TaggedItemBase
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel, TitleFieldPanel
from wagtail.fields import StreamField
from wagtail.models import Orderable, Page
from wagtail.search import index

from masthead.links import mounted

from . import queries
from .blocks import ArticleBodyBlock
from .routing import ArticleRoutingMixin
from .visibility import OneQueryRestrictionsMixin

WORDS_PER_MINUTE = 230
# Publishing writes first_published_at and last_published_at a few microseconds apart; an
# article only counts as updated when it was republished later than this.
UPDATE_THRESHOLD = timedelta(minutes=1)


class HomePage(ArticleRoutingMixin, OneQueryRestrictionsMixin, Page):
    """The home front: editor-ordered main stories, then the latest of each section."""

    max_count = 1
    subpage_types = ["news.SectionPage"]

    content_panels = Page.content_panels + [
        InlinePanel(
            "main_stories",
            label="Main story",
            heading="Main stories",
            help_text="In the order shown on the front. Empty places are filled with the newest articles.",
        ),
    ]

    class Meta:
        verbose_name = "home front"

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context.update(queries.home_front(self, request))
        return context


class HomeMainStory(Orderable):
    home = ParentalKey(HomePage, on_delete=models.CASCADE, related_name="main_stories")
    article = models.ForeignKey("news.ArticlePage", on_delete=models.CASCADE, related_name="+")

    panels = [FieldPanel("article")]


class SectionPage(OneQueryRestrictionsMixin, Page):
    """A section front, e.g. World, or World › Middle East: its articles newest first."""

    intro = models.TextField(blank=True, max_length=500)

    parent_page_types = ["news.HomePage", "news.SectionPage"]
    subpage_types = ["news.SectionPage", "news.ArticlePage"]
    content_panels = Page.content_panels + [FieldPanel("intro")]
    search_fields = Page.search_fields + [index.SearchField("intro")]

    class Meta:
        verbose_name = "section"

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["page_obj"] = queries.paginate(request, queries.section_articles(self))
        context["subsections"] = queries.child_sections(self, request)
        context["breadcrumb"] = queries.section_trail(self, request)
        return context


class Author(index.Indexed, models.Model):
    """A byline: a person with a public page at /authors/<slug>/."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True, allow_unicode=True)
    role = models.CharField(max_length=120, blank=True, help_text="e.g. Politics correspondent")
    bio = models.TextField(blank=True, max_length=1500)
    photo = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    panels = [
        FieldRowPanel([FieldPanel("name"), FieldPanel("slug")]),
        FieldPanel("role"),
        FieldPanel("bio"),
        FieldPanel("photo"),
    ]
    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return author_url(self.slug)


def author_url(slug: str, where: tuple[str, str] | None = None) -> str:
    """An author's page. Every byline and card links one, dozens on a front, and reverse() is
    a regular-expression walk each time; the answer only depends on the slug and where the
    site is mounted, so it is kept per process. `where` is `masthead.links.mounted()` when
    the caller makes many at once."""
    return _reversed("news:author", slug, *(where or mounted()))


def tag_url(slug: str) -> str:
    """A tag's page, kept per process as author_url is (every article lists its tags)."""
    return _reversed("news:tag", slug, *mounted())


@functools.lru_cache(maxsize=8192)
def _reversed(name: str, slug: str, prefix: str, urlconf: str) -> str:
    return reverse(name, args=[slug], urlconf=urlconf)


class ArticleTag(TaggedItemBase):
    content_object = ParentalKey("news.ArticlePage", on_delete=models.CASCADE, related_name="tagged_items")


class ArticleByline(Orderable):
    article = ParentalKey("news.ArticlePage", on_delete=models.CASCADE, related_name="bylines")
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="bylines")

    panels = [FieldPanel("author")]


class ArticlePage(OneQueryRestrictionsMixin, Page):
    """A story. The title is the headline; the parent section is the primary section."""

    standfirst = models.TextField(
        blank=True, max_length=400, help_text="One or two sentences under the headline."
    )
    lead_image = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lead_image_caption = models.CharField(max_length=300, blank=True)
    lead_image_credit = models.CharField(max_length=120, blank=True)
    body = StreamField(ArticleBodyBlock(), blank=True)
    additional_sections = ParentalManyToManyField(
        SectionPage,
        blank=True,
        related_name="further_articles",
        help_text="Other sections this article also appears in.",
    )
    tags = ClusterTaggableManager(through=ArticleTag, blank=True)
    comments_open = models.BooleanField(
        default=True, help_text="Readers may comment on this article (site-wide rules still apply)."
    )
    show_who_is_quoted = models.BooleanField(
        "show “Who is quoted”",
        default=True,
        help_text="Under the story, list the people and organisations it quotes and how many "
        "anonymous sources (from the sourcing report of the published version).",
    )
    # Derived on save so lists and pages never count words per request.
    word_count = models.PositiveIntegerField(default=0, editable=False)
    # Set by `masthead import-text`: re-importing the same story updates this page.
    import_key = models.CharField(max_length=255, blank=True, db_index=True, editable=False)

    parent_page_types = ["news.SectionPage"]
    subpage_types: list[str] = []
    exclude_fields_in_copy = ["related_ids", "import_key"]  # a copy is another story

    content_panels = [
        TitleFieldPanel("title", heading="Headline"),  # fills the slug as the editor types
        FieldPanel("standfirst"),
        InlinePanel("bylines", label="Byline", heading="Bylines", min_num=0),
        MultiFieldPanel(
            [FieldPanel("lead_image"), FieldPanel("lead_image_caption"), FieldPanel("lead_image_credit")],
            heading="Lead image",
        ),
        FieldPanel("body"),
    ]
    promote_panels = Page.promote_panels + [
        FieldPanel("additional_sections", widget=forms.CheckboxSelectMultiple),
        FieldPanel("tags"),
    ]
    settings_panels = Page.settings_panels + [FieldPanel("comments_open"), FieldPanel("show_who_is_quoted")]
    # Precomputed on publish by masthead.news.related (never on a reader's request): up to
    # related.STORED ids of related articles, best first. Not restored from old revisions.
    related_ids = models.JSONField(default=list, blank=True, editable=False)

    search_fields = Page.search_fields + [
        index.SearchField("standfirst"),
        index.SearchField("body"),
        # Bylines and tags are searchable text too (masthead.search re-indexes on publish,
        # once modelcluster has saved them, and when an author or tag is renamed).
        index.RelatedFields("bylines", [index.RelatedFields("author", [index.SearchField("name")])]),
        index.RelatedFields("tags", [index.SearchField("name")]),
        index.FilterField("first_published_at"),
    ]

    class Meta:
        verbose_name = "article"

    def save(self, *args, **kwargs):
        self.word_count = len(self.plain_text().split())
        return super().save(*args, **kwargs)

    def with_content_json(self, content):
        # related_ids is derived from the live site, not edited: keep the current value when
        # a revision is loaded for preview or publishing.
        obj = super().with_content_json(content)
        obj.related_ids = self.related_ids
        return obj

    def plain_text(self) -> str:
        """Standfirst and body as plain text, for word counts and analysis."""
        parts = [self.standfirst]
        for block in self.body:
            if block.block_type == "paragraph":
                parts.append(html.unescape(strip_tags(block.value.source)))
            elif block.block_type == "subhead":
                parts.append(block.value)
            elif block.block_type == "quote":
                parts.append(block.value["quote"])
        return "\n\n".join(part for part in parts if part)

    @property
    def reading_minutes(self) -> int:
        return max(1, math.ceil(self.word_count / WORDS_PER_MINUTE))

    @property
    def was_updated(self) -> bool:
        first, last = self.first_published_at, self.last_published_at
        return bool(first and last and last - first > UPDATE_THRESHOLD)

    @cached_property
    def authors(self) -> list[Author]:
        return [byline.author for byline in self.bylines.all()]

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context.update(queries.article_context(self, request))
        return context
