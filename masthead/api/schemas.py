"""What the read API returns, field by field.

Every response is built from these explicit schemas, never from a model, so nothing that is not
listed here (emails, user accounts, revisions, tree paths, content types, import keys, search
data) can reach a client. Tests assert the exact key sets.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from ninja import Schema as NinjaSchema
from pydantic import ConfigDict, Field


class Schema(NinjaSchema):
    # No key beyond those declared: a serializer that adds one fails loudly instead of leaking
    # it, and the OpenAPI schema says `additionalProperties: false` so clients can rely on it.
    model_config = ConfigDict(extra="forbid")


class ErrorItem(Schema):
    loc: list[str | int] = Field(description='Where the problem is, e.g. ["query", "limit"].')
    msg: str


class Error(Schema):
    detail: str
    errors: list[ErrorItem] = Field(default_factory=list, description="One entry per invalid parameter.")


# Shared pieces ----------------------------------------------------------------------------------


class Photo(Schema):
    url: str = Field(description="Absolute URL of a rendition of the image.")
    width: int
    height: int


class Picture(Photo):
    alt: str
    caption: str
    credit: str


class AuthorRef(Schema):
    name: str
    slug: str
    url: str = Field(description="Absolute URL of the author's page on the site.")


class SectionRef(Schema):
    id: int
    title: str
    slug: str
    url: str


class TagRef(Schema):
    name: str
    slug: str
    url: str


# Articles ---------------------------------------------------------------------------------------


class ArticleSummary(Schema):
    id: int
    headline: str
    standfirst: str
    url: str = Field(description="Absolute URL of the article on the site.")
    published_at: datetime = Field(description="When the article was first published.")
    updated_at: datetime | None = Field(
        description="When it was last republished, if that was more than a minute after first publication."
    )
    section: SectionRef | None = Field(description="The primary section, which owns the URL.")
    further_sections: list[SectionRef]
    authors: list[AuthorRef]
    tags: list[TagRef]
    lead_image: Picture | None
    word_count: int
    reading_minutes: int
    comment_count: int = Field(description="Approved comments.")


class ParagraphBlock(Schema):
    type: Literal["paragraph"]
    html: str = Field(description="Sanitised HTML: p, br, strong, b, em, i, ul, ol, li and a[href] only.")


class SubheadBlock(Schema):
    type: Literal["subhead"]
    text: str


class QuoteBlock(Schema):
    type: Literal["quote"]
    text: str
    attribution: str


class ImageBlock(Picture):
    type: Literal["image"]


class EmbedBlock(Schema):
    type: Literal["embed"]
    url: str
    title: str
    caption: str
    provider: str = Field(description="The host name of the link, e.g. youtube.com.")


BodyBlock = Annotated[
    ParagraphBlock | SubheadBlock | QuoteBlock | ImageBlock | EmbedBlock,
    Field(discriminator="type"),
]


class ArticleDetail(ArticleSummary):
    body: list[BodyBlock]


class ArticleList(Schema):
    next: str | None = Field(description="Absolute URL of the next page, or null on the last page.")
    next_cursor: str | None = Field(description="The opaque cursor that `next` carries.")
    results: list[ArticleSummary]


# Sections, authors, tags ------------------------------------------------------------------------


class Section(Schema):
    id: int
    title: str
    slug: str
    path: str = Field(description="The section's URL path on the site, e.g. /world/middle-east/.")
    url: str
    parent_id: int | None = Field(description="The enclosing section, or null for a top-level section.")
    intro: str


class Author(Schema):
    name: str
    slug: str
    role: str
    bio: str
    photo: Photo | None
    url: str


class Tag(Schema):
    name: str
    slug: str
    url: str
    article_count: int = Field(description="Published articles with this tag.")


class SectionList(Schema):
    count: int
    next: str | None
    results: list[Section]


class AuthorList(Schema):
    count: int
    next: str | None
    results: list[Author]


class TagList(Schema):
    count: int
    next: str | None
    results: list[Tag]


class Index(Schema):
    articles: str
    sections: str
    authors: str
    tags: str
    openapi: str
