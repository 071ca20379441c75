"""Writing parsed text articles into the page tree, all or nothing.

Every file of a batch is read and parsed before anything is written; one bad file stops the
whole batch with a line per problem, so an import never leaves half its files behind. Each
article is keyed by its headline (`ArticlePage.import_key`, see `import_key`): importing the same
story again updates that page, and an unchanged story is left alone rather than republished
(an editor's draft of it too). A file that would change a story an editor has changed in the
admin since (a draft, or an unpublish) is refused, not written over: it can be imported again
once the editor has published or reverted.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils.text import slugify
from wagtail.models import PageLogEntry
from wagtail.rich_text import RichText

from masthead.news.models import ArticleByline, ArticlePage, Author, HomePage, SectionPage

from .text_format import ParsedArticle, TextFormatError, read

MAX_SLUG = 100


class ImportFailed(Exception):
    """One or more files could not be read; `problems` holds one line per file."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class ImportResult:
    path: str
    article: ArticlePage
    action: str  # "created", "updated" or "unchanged"


def known_section_names() -> list[str]:
    return list(SectionPage.objects.values_list("title", flat=True))


def parse_files(paths: list[str | Path]) -> list[tuple[str, ParsedArticle]]:
    known = known_section_names()
    parsed, problems = [], []
    for path in paths:
        try:
            parsed.append((str(path), read(Path(path).read_bytes(), known)))
        except TextFormatError as exc:
            problems.append(f"{path}: {exc}")
        except IsADirectoryError:
            problems.append(f"{path}: is a directory, not a file")
        except OSError as exc:
            problems.append(f"{path}: cannot be read ({exc.strerror or exc})")
    if problems:
        raise ImportFailed(problems)
    return parsed


def import_files(
    paths: list[str | Path], section: str | None = None, author: str | None = None
) -> list[ImportResult]:
    parsed = parse_files(paths)
    home = HomePage.objects.first()
    if home is None:
        raise ImportFailed(["no home page: run `masthead migrate` first"])
    results = []
    with transaction.atomic():  # a problem with any file leaves every file unwritten
        for path, article in parsed:
            try:
                results.append(ImportResult(path, *upsert_article(home, article, section, author)))
            except ValidationError as exc:
                raise ImportFailed([f"{path}: {'; '.join(exc.messages)}"]) from exc
            except ImportFailed as failure:
                raise ImportFailed([f"{path}: {problem}" for problem in failure.problems]) from failure
    return results


def body_from_paragraphs(paragraphs: list[str]) -> list[tuple[str, RichText]]:
    # Escape only what HTML requires; typographic characters stay byte for byte.
    return [("paragraph", RichText(f"<p>{html.escape(text, quote=False)}</p>")) for text in paragraphs]


def paragraph_sources(article: ArticlePage) -> list[str]:
    return [block.value.source for block in article.body if block.block_type == "paragraph"]


def find_or_create_section(home: HomePage, name: str) -> SectionPage:
    existing = SectionPage.objects.filter(title__iexact=name).order_by("depth").first()
    if existing:
        return existing
    section = SectionPage(title=name, slug=unique_slug(home, name, fallback="section"), show_in_menus=True)
    home.add_child(instance=section)
    section.save_revision().publish()
    return section


def find_or_create_author(name: str) -> Author:
    slug = slugify(name, allow_unicode=True) or "staff"
    author, _ = Author.objects.get_or_create(slug=slug, defaults={"name": name})
    return author


def unique_slug(parent, headline: str, exclude_pk: int | None = None, fallback: str = "article") -> str:
    base = slugify(headline)[:MAX_SLUG].rstrip("-") or fallback
    slug, n = base, 2
    siblings = parent.get_children().exclude(pk=exclude_pk) if exclude_pk else parent.get_children()
    taken = set(siblings.filter(slug__startswith=base).values_list("slug", flat=True))
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def import_key(headline: str) -> tuple[str, str]:
    """The key of the story with this headline, and the key earlier releases gave it.

    Its slug, with the letters of every script kept ("путин-встретился-с-си"), or for a
    headline with no letter or digit at all, a digest of it. Earlier releases kept ASCII only,
    so a headline in Cyrillic or Chinese had the empty key, which matched any article typed in
    the admin; an accented one ("café") is still found under its earlier key ("cafe"), and a
    story such a release imported under the empty key by `imported_without_a_key`."""
    earlier = slugify(headline)[:255]
    key = slugify(headline, allow_unicode=True)[:255]
    if not key:
        key = "headline-" + hashlib.sha256(" ".join(headline.split()).encode()).hexdigest()[:32]
    return key, earlier


def imported_without_a_key(headline: str) -> ArticlePage | None:
    """The story an earlier release imported with this headline under the empty key, if any.

    Articles typed in the admin have the empty key too, so only one that an import could have
    made is taken: no key, exactly this headline, no owner (the admin makes its user the owner
    of every page it creates; imports set none), and no creation or copy logged by a user (an
    owner is emptied when the account is deleted; the log keeps the user's id). When several
    remain, the first made wins, as with keys."""
    made_by_someone = PageLogEntry.objects.filter(
        page_id=OuterRef("pk"), action__in=("wagtail.create", "wagtail.copy"), user__isnull=False
    )
    return (
        ArticlePage.objects.filter(import_key="", title=headline, owner__isnull=True)
        .exclude(Exists(made_by_someone))
        .order_by("pk")
        .first()
    )


def _same_story(article: ArticlePage, headline: str, body: list, further: list, author: str | None) -> bool:
    return (
        article.title == headline
        and paragraph_sources(article) == [text.source for _, text in body]
        and {s.pk for s in article.additional_sections.all()} == {s.pk for s in further}
        and (author is None or [b.author.name for b in article.bylines.all()] == [author])
    )


def upsert_article(
    home: HomePage, parsed: ParsedArticle, section: str | None = None, author: str | None = None
) -> tuple[ArticlePage, str]:
    names = list(parsed.sections)
    primary_name = section or names[-1]
    primary = find_or_create_section(home, primary_name)
    further = [find_or_create_section(home, n) for n in names if n.casefold() != primary_name.casefold()]
    key, earlier_key = import_key(parsed.headline)
    body = body_from_paragraphs(parsed.paragraphs)

    found: dict[str, ArticlePage] = {}
    for match in ArticlePage.objects.filter(import_key__in={key, earlier_key} - {""}).order_by("pk"):
        found.setdefault(match.import_key, match)  # copies made by earlier releases share a key
    article = found.get(key) or found.get(earlier_key)
    if article is None and not earlier_key:  # a headline earlier releases keyed as ""
        article = imported_without_a_key(parsed.headline)
    if article is None:
        article = ArticlePage(title=parsed.headline, slug=unique_slug(primary, parsed.headline), import_key=key)
        article.body = body
        primary.add_child(instance=article)
        action = "created"
    else:
        # Compared with the story as it is published: a file that changes nothing leaves it
        # alone, an editor's draft included.
        if article.get_parent().pk == primary.pk and _same_story(article, parsed.headline, body, further, author):
            if article.import_key != key:  # found under an earlier release's key: keep this one
                ArticlePage.objects.filter(pk=article.pk).update(import_key=key)
                article.import_key = key
            return article, "unchanged"
        if not article.live or article.has_unpublished_changes:
            state = "has changes not yet published" if article.live else "is not published"
            raise ImportFailed(
                [f"“{article.title}” {state} in the admin: publish or revert it there, then import again"]
            )
        if article.get_parent().pk != primary.pk:
            article.move(primary, pos="last-child")
        article = ArticlePage.objects.get(pk=article.pk).get_latest_revision_as_object()
        article.import_key = key  # an earlier release's key is replaced
        article.title = parsed.headline
        article.body = body
        action = "updated"
    article.additional_sections.set(further)
    if author:
        article.bylines.set([ArticleByline(author=find_or_create_author(author))])
    article.save_revision().publish()
    return ArticlePage.objects.get(pk=article.pk), action
