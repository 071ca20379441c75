"""Keeping the search index and related reading correct as the newsroom works.

Wagtail re-indexes a page on every save and removes it on delete, and readers only ever see
live, public articles (the search query filters on that), so drafts, unpublishing and deleting
need nothing more. Three gaps remain, closed here:

* Publishing: Wagtail indexes the page in `post_save`, before modelcluster has saved its
  bylines and tags, so the index would hold the previous version's authors and tags. We index
  it again on `page_published`, when everything is saved.
* Renaming an author or a tag changes the text of every article that carries it.
* Related reading is recomputed after each publish (masthead.news.related).
"""

from __future__ import annotations

import logging

from django.db.models.signals import post_save, pre_save
from modelsearch import index
from taggit.models import Tag
from wagtail.search.backends import get_search_backends
from wagtail.signals import page_published

logger = logging.getLogger(__name__)

REINDEX_BATCH = 500


def reindex_articles(queryset) -> int:
    """Re-index the given articles in batches, with their bylines and tags prefetched."""
    from masthead.news.models import ArticlePage

    pks = list(queryset.order_by().values_list("pk", flat=True).distinct())
    for start in range(0, len(pks), REINDEX_BATCH):
        articles = ArticlePage.get_indexed_objects().prefetch_related("bylines__author")
        batch = list(articles.filter(pk__in=pks[start : start + REINDEX_BATCH]))
        for backend in get_search_backends(with_auto_update=True):
            backend.add_bulk(ArticlePage, batch)
    return len(pks)


def article_published(sender, instance, **kwargs) -> None:
    from masthead.news.related import update_related_after_commit

    index.insert_or_update_object(instance)
    update_related_after_commit(instance)


def remember_old_name(sender, instance, **kwargs) -> None:
    if instance.pk:
        old = sender.objects.filter(pk=instance.pk).values_list("name", flat=True).first()
        instance._masthead_old_name = old


def renamed(instance) -> bool:
    return getattr(instance, "_masthead_old_name", instance.name) != instance.name


def author_saved(sender, instance, created, **kwargs) -> None:
    from masthead.news.models import ArticlePage

    if kwargs.get("raw") or created or not renamed(instance):
        return
    reindex_articles(ArticlePage.objects.filter(bylines__author=instance))


def tag_saved(sender, instance, created, **kwargs) -> None:
    from masthead.news.models import ArticlePage

    if kwargs.get("raw") or created or not renamed(instance):
        return
    reindex_articles(ArticlePage.objects.filter(tagged_items__tag=instance))


def connect() -> None:
    from masthead.news.models import ArticlePage, Author

    page_published.connect(article_published, sender=ArticlePage, dispatch_uid="masthead.search.published")
    for model, handler in ((Author, author_saved), (Tag, tag_saved)):
        uid = f"masthead.search.{model.__name__}"
        pre_save.connect(remember_old_name, sender=model, dispatch_uid=f"{uid}.old_name")
        post_save.connect(handler, sender=model, dispatch_uid=f"{uid}.renamed")
