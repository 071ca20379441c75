"""Loading the demo publication: sections, authors, pictures, the seed article and 32 stories.

Stories go through the same importer as `masthead import-text`, so the demo exercises the real
path; the catalog then adds what the text form does not carry (bylines, tags, standfirst,
pictures, publication times).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from django.core.files.images import ImageFile
from django.db import transaction
from django.utils import timezone
from wagtail.images import get_image_model

from masthead.importers.service import find_or_create_section, upsert_article
from masthead.importers.text_format import read
from masthead.news.models import ArticleByline, ArticlePage, Author, HomeMainStory, HomePage, SectionPage

from . import images

HERE = Path(__file__).resolve().parent
CONTENT = HERE / "content"
SEED_FILE = HERE / "seed-article.txt"
# Top-level sections in menu order, then subsections as (name, parent).
SECTIONS = ["Main Stories", "World", "Politics", "Business", "Science", "Culture", "Sport"]
SUBSECTIONS = [("Middle East", "World")]
SECTION_INTROS = {
    "Main Stories": "The day’s most important stories, chosen by our editors.",
    "World": "Reporting from our correspondents around the world.",
    "Middle East": "News and analysis from across the Middle East.",
    "Politics": "Elections, parliaments and the people who run them.",
    "Business": "Markets, companies and the economy.",
    "Science": "Research, health, space and the environment.",
    "Culture": "Film, books, music, art and ideas.",
    "Sport": "Results, reports and the stories behind them.",
}


def demo_is_loaded() -> bool:
    return ArticlePage.objects.exists()


def _image(title: str, data: bytes, description: str):
    Image = get_image_model()
    existing = Image.objects.filter(title=title).first()
    if existing:
        return existing
    from io import BytesIO

    filename = title.lower().replace(" ", "-")[:60] + ".jpg"
    image = Image(title=title, description=description)
    image.file = ImageFile(BytesIO(data), name=filename)
    image.save()
    return image


def ensure_sections(home: HomePage) -> dict[str, SectionPage]:
    sections = {name: find_or_create_section(home, name) for name in SECTIONS}
    for name, parent_name in SUBSECTIONS:
        existing = SectionPage.objects.filter(title=name).first()
        if existing is None:
            existing = SectionPage(title=name, slug=name.lower().replace(" ", "-"), show_in_menus=False)
            sections[parent_name].add_child(instance=existing)
        sections[name] = existing
    for name, section in sections.items():
        if section.intro != SECTION_INTROS.get(name, section.intro):
            section.intro = SECTION_INTROS[name]
            section.save_revision().publish()
    return sections


def ensure_authors(catalog: dict) -> dict[str, Author]:
    authors = {}
    for entry in catalog["authors"]:
        author, created = Author.objects.get_or_create(
            slug=entry["slug"], defaults={"name": entry["name"], "role": entry["role"], "bio": entry["bio"]}
        )
        if created or author.photo is None:
            author.photo = _image(
                f"Portrait of {entry['name']}", images.portrait(entry["name"]), f"Illustrated portrait of {entry['name']}"
            )
            author.save()
        authors[entry["slug"]] = author
    return authors


def _load_story(home, path: Path, meta: dict, authors: dict[str, Author], now) -> ArticlePage:
    parsed = read(path.read_bytes(), list(SectionPage.objects.values_list("title", flat=True)))
    article, _ = upsert_article(home, parsed)
    article = article.get_latest_revision_as_object()
    article.standfirst = meta.get("standfirst", "")
    article.tags.set(meta.get("tags", []))
    article.bylines = [ArticleByline(author=authors[slug], sort_order=i) for i, slug in enumerate(meta["authors"])]
    section_name = article.get_parent().title
    article.lead_image = _image(
        parsed.headline[:100],
        images.landscape(parsed.headline),
        f"Illustration for the {section_name} story “{parsed.headline}”",
    )
    article.lead_image_caption = meta.get("caption", "")
    article.lead_image_credit = "Illustration: masthead demo"
    article.save_revision().publish()
    published = now - timedelta(days=meta["days_ago"])
    updated_after = meta.get("updated_hours_after")
    updated = published + timedelta(hours=updated_after) if updated_after else published
    ArticlePage.objects.filter(pk=article.pk).update(first_published_at=published, last_published_at=updated)
    return article


def _add_thread(article: ArticlePage, entry: dict, parent=None) -> None:
    from masthead.comments.models import Comment

    now = timezone.now()
    published = article.first_published_at or now
    # Threads span up to about six hours; squeeze them into the article's age so none is dated
    # in the future.
    created = published + (now - published) * min(entry["hours"], 7) / 8
    comment = Comment.objects.create(
        article=article,
        parent=parent,
        root=(parent.root or parent) if parent else None,
        depth=parent.depth + 1 if parent else 0,
        author_name=entry["name"],
        author_email=entry["email"],
        body=entry["body"],
        state=Comment.State.APPROVED,
        is_pick=entry.get("pick", False),
        created_at=created,
    )
    for reply in entry.get("replies", []):
        _add_thread(article, reply, comment)


def load_comments(articles: dict[str, ArticlePage]) -> None:
    """Approved conversations under several stories, the seed among them."""
    threads = json.loads((CONTENT / "comments.json").read_text(encoding="utf-8"))
    for key, entries in threads.items():
        article = ArticlePage.objects.get(pk=articles[key].pk)
        for entry in entries:
            _add_thread(article, entry)


@transaction.atomic
def load_demo(stdout=None) -> int:
    """Load the demo into an empty site; returns the number of articles loaded."""
    home = HomePage.objects.get()
    catalog = json.loads((CONTENT / "catalog.json").read_text(encoding="utf-8"))
    seed_meta = json.loads((CONTENT / "seed.json").read_text(encoding="utf-8"))
    ensure_sections(home)
    authors = ensure_authors(catalog)
    now = timezone.now()
    seed = _load_story(home, SEED_FILE, seed_meta, authors, now)
    loaded = {"seed": seed}
    for entry in catalog["articles"]:
        loaded[entry["file"]] = _load_story(home, CONTENT / entry["file"], entry, authors, now)
    count = len(loaded)
    load_comments(loaded)
    picks = [seed] + list(
        ArticlePage.objects.filter(additional_sections__title="Main Stories").exclude(pk=seed.pk).order_by("-first_published_at")[:2]
    )
    home.main_stories = [HomeMainStory(article=article, sort_order=i) for i, article in enumerate(picks)]
    home.save_revision().publish()
    if stdout:
        stdout.write(f"Loaded {count} demo articles.")
    return count
