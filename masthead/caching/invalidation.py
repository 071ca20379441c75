"""Which keys each content change purges: exactly the pages that show what changed.

Event                                   purges
article published, republished,         a<id>; s<id> of its primary and further sections and all
unpublished, moved, deleted, made       their ancestors; sd<id> of its primary section; au<id> of
private                                 its authors; t<id> of its tags; home, feeds, sitemaps, api,
                                        notfound. Both before and after the change, so a list it
                                        leaves is purged too.
comment approved, removed, un-spammed,  c<article id> (the article page and every card, API item
picked, edited, deleted                 showing its comment count), when the comment is or was shown
section published, edited, moved,       sn<id> (its name and address wherever shown), s<parent>
unpublished, deleted                    (the parent's list of subsections), nav when it is at the
                                        top, sitemaps, api, notfound; when its address changes,
                                        sn<id> of every section below it (their articles' URLs)
home front published                    home
author saved or deleted                 an<id>, sitemaps, api, notfound
tag saved or deleted                    tn<id>, sitemaps, api, notfound
site settings, Site                     site (every page)
redirect saved or deleted               notfound, redirects
an article's "Related" recomputed       r<id> (masthead.news.related)

Pages are saved several times while an editor works (drafts, autosave, locks): only a save of
the page row that readers see (every field, as publishing, unpublishing and moving do) counts.
An article's old keys are read before such a save; its new ones after the commit, because
Wagtail saves the sections, bylines and tags after the page row.
"""

from __future__ import annotations

from typing import Iterable

from django.apps import apps
from django.db.models.signals import post_delete, post_init, post_save, pre_delete, pre_save
from wagtail.models import Page

from . import keys as k
from .purge import purge_after_commit

# Fields saved with update_fields while editors work, which readers never see.
EDITING_FIELDS = frozenset(
    {
        "latest_revision",
        "latest_revision_created_at",
        "draft_title",
        "has_unpublished_changes",
        "locked",
        "locked_at",
        "locked_by",
        "live_revision",
        "approved_go_live_at",
        "related_ids",  # purged as r<id> by masthead.news.related
        "wagtail_admin_comments",  # editors' comments in the admin
    }
)
CONTENT_WIDE = (k.HOME, k.FEEDS, k.SITEMAPS, k.API, k.NOT_FOUND)
TOP_SECTION_DEPTH = 3  # root (1) > home front (2) > top section (3): the menu


def _model(label: str):
    return apps.get_model(label)


def _ancestor_paths(paths: Iterable[str]) -> set[str]:
    """Every ancestor path (inclusive) of the given treebeard paths."""
    step = Page.steplen
    return {path[:end] for path in paths for end in range(step, len(path) + 1, step)}


def article_keys(ids: Iterable[int]) -> set[str]:
    """What the given articles' changes purge, read from the database as it is now (5 queries)."""
    ids = list(set(ids))
    if not ids:
        return set()
    ArticlePage = _model("news.ArticlePage")
    own = list(ArticlePage.objects.filter(pk__in=ids).values_list("path", flat=True))
    parents = {path[: -Page.steplen] for path in own}
    further = ArticlePage.additional_sections.through.objects.filter(articlepage_id__in=ids)
    paths = own + list(further.values_list("sectionpage__path", flat=True))
    sections = _model("news.SectionPage").objects.filter(path__in=_ancestor_paths(paths))
    keys = {k.article(pk) for pk in ids} | set(CONTENT_WIDE)
    for pk, path in sections.values_list("pk", "path"):
        keys.add(k.section_list(pk))
        if path in parents:
            keys.add(k.section_direct(pk))
    bylines = _model("news.ArticleByline").objects.filter(article_id__in=ids)
    keys |= {k.author_list(pk) for pk in bylines.values_list("author_id", flat=True)}
    tagged = _model("news.ArticleTag").objects.filter(content_object_id__in=ids)
    keys |= {k.tag_list(pk) for pk in tagged.values_list("tag_id", flat=True)}
    return keys


def section_keys(ids: Iterable[int], with_descendants: bool = False) -> set[str]:
    """What the given sections' changes purge (2-3 queries)."""
    ids = list(set(ids))
    if not ids:
        return set()
    SectionPage = _model("news.SectionPage")
    rows = list(SectionPage.objects.filter(pk__in=ids).values_list("pk", "path", "depth"))
    keys = {k.section_name(pk) for pk in ids} | {k.SITEMAPS, k.API, k.NOT_FOUND}
    if any(depth <= TOP_SECTION_DEPTH for _, _, depth in rows):
        keys.add(k.NAV)
    parents = {path[: -Page.steplen] for _, path, _ in rows}
    keys |= {k.section_list(pk) for pk in Page.objects.filter(path__in=parents).values_list("pk", flat=True)}
    if with_descendants and rows:
        below = SectionPage.objects.none()
        for _, path, _ in rows:
            below |= SectionPage.objects.filter(path__startswith=path)
        keys |= {k.section_name(pk) for pk in below.values_list("pk", flat=True)}
    return keys


def subtree_keys(page: Page) -> set[str]:
    """A page and everything below it (a privacy change covers the whole subtree)."""
    ArticlePage, SectionPage = _model("news.ArticlePage"), _model("news.SectionPage")
    articles = ArticlePage.objects.filter(path__startswith=page.path).values_list("pk", flat=True)
    sections = SectionPage.objects.filter(path__startswith=page.path).values_list("pk", flat=True)
    keys = article_keys(articles) | section_keys(sections)
    if page.depth <= TOP_SECTION_DEPTH - 1:
        keys.add(k.HOME)
    return keys


# --- pages --------------------------------------------------------------------------------------


def _readers_see(update_fields) -> bool:
    return update_fields is None or not set(update_fields) <= EDITING_FIELDS


def _page_before_save(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    if raw or not instance.pk or not _readers_see(update_fields):
        return
    instance._cache_keys_before = _keys_of(instance, saving=True)


def _page_after_save(sender, instance, created=False, raw=False, update_fields=None, **kwargs) -> None:
    if raw or not _readers_see(update_fields):
        return
    before = getattr(instance, "_cache_keys_before", None)
    instance._cache_keys_before = None
    if before is None and not instance.live:
        return  # a new draft: no reader has seen it
    pk, kind = instance.pk, type(instance)
    purge_after_commit(before or (), f"{kind._meta.model_name} {pk} saved", later=lambda: _keys_of(kind(pk=pk)))


def _keys_of(page, saving: bool = False) -> set[str]:
    """The keys of a page as the database has it now. `saving`: `page` is about to be saved, and
    a section whose address changes (a new slug) takes the addresses below it along."""
    ArticlePage, SectionPage, HomePage = (_model(n) for n in ("news.ArticlePage", "news.SectionPage", "news.HomePage"))
    if isinstance(page, ArticlePage):
        return article_keys([page.pk])
    if isinstance(page, SectionPage):
        moved = False
        if saving:
            old = SectionPage.objects.filter(pk=page.pk).values_list("url_path", flat=True).first()
            moved = old is not None and page.url_path != old
        return section_keys([page.pk], with_descendants=moved)
    if isinstance(page, HomePage):
        return {k.HOME}
    return set()


def _page_unpublished(sender, instance, **kwargs) -> None:
    # Scheduled expiry (publish_scheduled) unpublishes through the base Page model, whose save
    # the receivers above never see; Wagtail's page_unpublished names the specific class.
    purge_after_commit(_keys_of(instance), f"{sender._meta.model_name} {instance.pk} unpublished")


def _page_deleted(sender, instance, **kwargs) -> None:
    purge_after_commit(_keys_of(instance), f"{sender._meta.model_name} {instance.pk} deleted")


def _before_move(sender, instance, **kwargs) -> None:
    page = instance.specific
    before = subtree_keys(page) if not isinstance(page, _model("news.ArticlePage")) else _keys_of(page)
    pk, path = page.pk, page.path
    purge_after_commit(
        before | _descendant_names(path),
        f"page {pk} moved",
        later=lambda: subtree_keys(Page.objects.get(pk=pk)) if pk else set(),
    )


def _descendant_names(path: str) -> set[str]:
    sections = _model("news.SectionPage").objects.filter(path__startswith=path)
    return {k.section_name(pk) for pk in sections.values_list("pk", flat=True)}


def _restriction_changed(sender, instance, **kwargs) -> None:
    page = Page.objects.filter(pk=instance.page_id).first()
    if page is not None:
        purge_after_commit(subtree_keys(page), f"privacy of page {page.pk} changed")


# --- comments -----------------------------------------------------------------------------------


def _comment_shown(comment) -> bool:
    """The same rule as masthead.comments.queries.SHOWN, for one comment in memory."""
    return comment.state == _model("comments.Comment").State.APPROVED or bool(comment.deleted_by_author)


def _comment_loaded(sender, instance, **kwargs) -> None:
    instance._cache_was_shown = instance.pk is not None and _comment_shown(instance)


def _comment_saved(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    if raw or (update_fields is not None and set(update_fields) <= {"trained_as", "notify_replies"}):
        return
    if _comment_shown(instance) or getattr(instance, "_cache_was_shown", False):
        purge_after_commit([k.comments(instance.article_id)], f"comment {instance.pk} on {instance.article_id}")
    instance._cache_was_shown = _comment_shown(instance)


def _comment_deleted(sender, instance, **kwargs) -> None:
    if getattr(instance, "_cache_was_shown", False) or _comment_shown(instance):
        purge_after_commit([k.comments(instance.article_id)], f"comment {instance.pk} deleted")


def comment_pick_changed(comment) -> None:
    """An editor's pick moves a comment to the top (set with a queryset update, no signal)."""
    if _comment_shown(comment):
        purge_after_commit([k.comments(comment.article_id)], f"comment {comment.pk} picked")


# --- snippets, tags, settings, redirects --------------------------------------------------------


def _author_changed(sender, instance, raw=False, **kwargs) -> None:
    if not raw:
        purge_after_commit([k.author_name(instance.pk), k.SITEMAPS, k.API, k.NOT_FOUND], f"author {instance.pk}")


def _tag_changed(sender, instance, raw=False, **kwargs) -> None:
    if not raw:
        purge_after_commit([k.tag_name(instance.pk), k.SITEMAPS, k.API, k.NOT_FOUND], f"tag {instance.pk}")


def _site_changed(sender, instance, raw=False, created=False, **kwargs) -> None:
    # Settings rows are created with their defaults when first read (for_site's get_or_create),
    # in the middle of rendering a page: that changes nothing any page shows.
    if not raw and not created:
        purge_after_commit([k.SITE], f"{sender._meta.model_name} changed")


def _redirect_changed(sender, instance, raw=False, **kwargs) -> None:
    if not raw:
        purge_after_commit([k.NOT_FOUND, k.REDIRECTS], "redirect changed")


def connect() -> None:
    from taggit.models import Tag
    from wagtail.contrib.redirects.models import Redirect
    from wagtail.contrib.settings.models import BaseGenericSetting, BaseSiteSetting
    from wagtail.models import PageViewRestriction, Site
    from wagtail.signals import page_unpublished, pre_page_move

    uid = "masthead.caching"
    for label in ("news.ArticlePage", "news.SectionPage", "news.HomePage"):
        model = _model(label)
        pre_save.connect(_page_before_save, sender=model, dispatch_uid=f"{uid}.pre.{label}")
        post_save.connect(_page_after_save, sender=model, dispatch_uid=f"{uid}.post.{label}")
        pre_delete.connect(_page_deleted, sender=model, dispatch_uid=f"{uid}.delete.{label}")
        pre_page_move.connect(_before_move, sender=model, dispatch_uid=f"{uid}.move.{label}")
        page_unpublished.connect(_page_unpublished, sender=model, dispatch_uid=f"{uid}.unpublished.{label}")
    Comment = _model("comments.Comment")
    post_init.connect(_comment_loaded, sender=Comment, dispatch_uid=f"{uid}.comment.init")
    post_save.connect(_comment_saved, sender=Comment, dispatch_uid=f"{uid}.comment.save")
    post_delete.connect(_comment_deleted, sender=Comment, dispatch_uid=f"{uid}.comment.delete")
    for signal in (post_save, post_delete):
        name = signal is post_save and "save" or "delete"
        signal.connect(_author_changed, sender=_model("news.Author"), dispatch_uid=f"{uid}.author.{name}")
        signal.connect(_tag_changed, sender=Tag, dispatch_uid=f"{uid}.tag.{name}")
        signal.connect(_redirect_changed, sender=Redirect, dispatch_uid=f"{uid}.redirect.{name}")
        signal.connect(_restriction_changed, sender=PageViewRestriction, dispatch_uid=f"{uid}.privacy.{name}")
        signal.connect(_site_changed, sender=Site, dispatch_uid=f"{uid}.site.{name}")
        for model in apps.get_models():
            if issubclass(model, (BaseSiteSetting, BaseGenericSetting)):
                signal.connect(_site_changed, sender=model, dispatch_uid=f"{uid}.setting.{model._meta.label}.{name}")
