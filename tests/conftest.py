"""Shared fixtures: a small publication built through the same APIs editors and importers use."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django.utils.text import slugify

from masthead.importers.service import body_from_paragraphs
from masthead.news.models import ArticleByline, ArticlePage, Author, HomePage, SectionPage
from tests.cli_support import migrated_dir, migrated_template  # noqa: F401 (shared fixtures)

REPO = Path(__file__).resolve().parent.parent
SEED_FILE = REPO / "masthead" / "demo" / "seed-article.txt"

_counter = itertools.count(1)


@pytest.fixture
def home(db) -> HomePage:
    return HomePage.objects.get()


@pytest.fixture
def make_section(home):
    def make(title: str, parent=None, show_in_menus: bool = True) -> SectionPage:
        section = SectionPage(title=title, slug=slugify(title), show_in_menus=show_in_menus)
        (parent or home).add_child(instance=section)
        section.save_revision().publish()
        return section

    return make


@pytest.fixture
def make_author(db):
    def make(name: str | None = None) -> Author:
        name = name or f"Author {next(_counter)}"
        return Author.objects.create(name=name, slug=slugify(name), role="Reporter", bio=f"{name} reports.")

    return make


@pytest.fixture
def make_article(db):
    def make(
        section: SectionPage,
        title: str | None = None,
        *,
        authors=(),
        tags=(),
        further=(),
        paragraphs=("A paragraph of news.",),
        standfirst: str = "",
        lead_image=None,
        days_ago: float | None = None,
        publish: bool = True,
    ) -> ArticlePage:
        title = title or f"Story number {next(_counter)}"
        article = ArticlePage(title=title, slug=slugify(title), standfirst=standfirst, lead_image=lead_image, live=False)
        article.body = body_from_paragraphs(list(paragraphs))
        section.add_child(instance=article)
        article.bylines = [ArticleByline(author=a, sort_order=i) for i, a in enumerate(authors)]
        article.tags.set(list(tags))
        article.additional_sections.set(list(further))
        revision = article.save_revision()
        if publish:
            revision.publish()
            if days_ago is not None:
                when = timezone.now() - timedelta(days=days_ago)
                ArticlePage.objects.filter(pk=article.pk).update(first_published_at=when, last_published_at=when)
        return ArticlePage.objects.get(pk=article.pk)

    return make


@pytest.fixture
def make_image(db):
    from django.core.files.images import ImageFile
    from io import BytesIO
    from wagtail.images import get_image_model

    from masthead.demo.images import landscape

    def make(title: str | None = None):
        title = title or f"Picture {next(_counter)}"
        image = get_image_model()(title=title, description=f"A picture: {title}")
        image.file = ImageFile(BytesIO(landscape(title, 320, 180)), name=f"{slugify(title)}.jpg")
        image.save()
        return image

    return make
