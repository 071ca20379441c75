"""The moderation side of comments in the Wagtail admin.

* Comments › the moderation queue: pending comments newest first, filters (state, article, date
  range, held reason), search (text, author name, email), and bulk Approve / Mark as spam / Remove.
* A comment's moderation page (the viewset's "edit" view, `comments_moderation:edit`): the
  comment in its thread (ancestors, the comment highlighted, its replies) and single-comment
  actions, including editor's pick. There is no edit form: a comment is kept exactly as the
  reader wrote it.
* Blocked terms: an ordinary snippet listing with add, edit and delete.

Every state change goes through `moderation.moderate` / `moderation.set_pick`, so the spam filter
learns and reply notifications go out, and every change needs `comments.moderate_comment`.
"""

from __future__ import annotations

from dataclasses import dataclass

import django_filters
from django import forms
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.text import Truncator
from django.utils.translation import ngettext
from django.views.defaults import permission_denied
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import ObjectList
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import (
    BulkActionsCheckboxColumn,
    Column,
    DateColumn,
    StatusTagColumn,
    TitleColumn,
)
from wagtail.admin.utils import get_valid_next_url_from_request
from wagtail.admin.views.generic import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.widgets.button import ListingButton
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.snippets.bulk_actions.snippet_bulk_action import SnippetBulkAction
from wagtail.snippets.views.snippets import IndexView, SnippetViewSet

from masthead.news.models import ArticlePage

from .models import BlockedTerm, Comment, CommentPolicy
from .moderation import moderate, set_pick
from .posting import closed_reason

State = Comment.State
ANY_STATE = "any"
SEARCH_FIELDS = ["body", "author_name", "author_email"]
EXCERPT_CHARS = 90
MAX_INDENT = 4  # deeper replies are shown at this indent on the moderation page


# --- Permissions ---------------------------------------------------------------------------------


class CommentPermissionPolicy(ModelPermissionPolicy):
    """Comments come from readers: nobody creates or deletes them in the admin, superusers
    included (moderation removes a comment by changing its state). "moderate" is the
    `comments.moderate_comment` permission."""

    NEVER = frozenset({"add", "delete"})

    def user_has_permission(self, user, action):
        return action not in self.NEVER and super().user_has_permission(user, action)

    def users_with_any_permission(self, actions):
        actions = [action for action in actions if action not in self.NEVER]
        if not actions:
            return get_user_model().objects.none()
        return super().users_with_any_permission(actions)


def can_moderate(user) -> bool:
    return user.has_perm("comments.moderate_comment")


def forbidden(request):
    """A plain 403 for moderation actions (a PermissionDenied would become Wagtail's redirect)."""
    return permission_denied(request, PermissionDenied("You may not moderate comments."))


# --- The queue's filters and search --------------------------------------------------------------


def commented_articles(request) -> QuerySet:
    return ArticlePage.objects.filter(pk__in=Comment.objects.values("article_id")).order_by("title")


class CommentFilterSet(WagtailFilterSet):
    """Without a state in the query, the queue shows what awaits moderation."""

    state = django_filters.ChoiceFilter(
        label="State",
        choices=[*State.choices, (ANY_STATE, "Any state")],
        method="filter_state",
        empty_label=None,
        initial=State.PENDING,
        widget=forms.RadioSelect,
    )
    article = django_filters.ModelChoiceFilter(label="Article", queryset=commented_articles)
    created_at = django_filters.DateFromToRangeFilter(label="Posted", widget=DateRangePickerWidget)
    hold_reasons = django_filters.CharFilter(label="Held reason contains", lookup_expr="icontains")

    class Meta:
        model = Comment
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        data = data.copy() if data is not None else QueryDict(mutable=True)
        if not data.get("state"):
            data["state"] = State.PENDING
        super().__init__(data, queryset, request=request, prefix=prefix)

    def filter_state(self, queryset, name, value):
        return queryset if value == ANY_STATE else queryset.filter(state=value)


def search_filter(query: str) -> Q:
    condition = Q()
    for field in SEARCH_FIELDS:
        condition |= Q(**{f"{field}__icontains": query})
    return condition


def queue_queryset(request, params) -> QuerySet:
    """The comments a queue URL with these query parameters lists (for "select all in listing")."""
    filters = CommentFilterSet(params, queryset=Comment.objects.all(), request=request)
    if not filters.is_valid():
        return Comment.objects.none()
    queryset = filters.filter_queryset(Comment.objects.all())
    query = (params.get("q") or "").strip()
    return queryset.filter(search_filter(query)) if query else queryset


# --- The queue -----------------------------------------------------------------------------------


def excerpt(comment: Comment) -> str:
    if comment.deleted_by_author:
        return "(deleted by its author)"
    return Truncator(" ".join(comment.body.split())).chars(EXCERPT_CHARS)


def format_score(comment: Comment) -> str:
    return "" if comment.spam_score is None else f"{comment.spam_score:.2f}"


class ArticleColumn(Column):
    """The article's title, linked to the live page."""

    cell_template_name = "comments/admin/article_cell.html"

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        article = instance.article
        context["title"] = article.title
        context["url"] = article.get_url(parent_context.get("request")) if article.live else None
        return context


class CommentIndexView(IndexView):
    any_permission_required = ["add", "change", "delete", "view", "moderate"]

    @cached_property
    def can_moderate(self) -> bool:
        return self.user_has_permission("moderate")

    def get_base_queryset(self):
        return super().get_base_queryset().select_related("article")

    def filter_queryset(self, queryset):
        if self.filters and not self.filters.is_valid():
            return queryset.filter(state=State.PENDING)
        return super().filter_queryset(queryset)

    @cached_property
    def columns(self):
        title_column_class = self._get_title_column_class(TitleColumn)
        columns = [
            title_column_class(
                "body",
                label="Comment",
                accessor=excerpt,
                get_url=self.get_edit_url,
                get_title_id=lambda comment: f"snippet_{quote(comment.pk)}_title",
            ),
            Column("author_name", label="Author", sort_key="author_name"),
            ArticleColumn("article", label="Article", sort_key="article__title"),
            StatusTagColumn(
                "state",
                label="State",
                accessor="get_state_display",
                sort_key="state",
                primary=lambda comment: comment.state == State.PENDING,
            ),
            Column("hold_reasons", label="Held because"),
            Column("spam_score", label="Spam score", accessor=format_score, sort_key="spam_score"),
            DateColumn("created_at", label="Posted", sort_key="created_at"),
        ]
        if self.can_moderate:
            columns.insert(0, BulkActionsCheckboxColumn("bulk_actions", obj_type="snippet"))
        return columns

    def get_edit_url(self, instance):
        if self.user_has_any_permission(["change", "view", "moderate"]):
            return reverse(self.edit_url_name, args=(quote(instance.pk),))

    def get_list_more_buttons(self, instance):
        url = self.get_edit_url(instance)
        return [MenuItem("Moderate", url=url, icon_name="comment", priority=10)] if url else []

    @cached_property
    def no_results_message(self):
        if self.is_searching or self.is_filtering:
            return "No comments match your query."
        return "No comments are awaiting moderation."

    def get_bulk_action_buttons(self) -> list[ListingButton]:
        if not self.can_moderate:
            return []
        return [
            ListingButton(
                action.display_name,
                reverse("wagtail_bulk_action", args=["comments", "comment", action.action_type]),
                attrs={"aria-label": action.aria_label, "data-bulk-action-button": ""},
                priority=action.action_priority,
                classname=" ".join(action.classes | {"bulk-action-btn"}),
            )
            for action in sorted(BULK_ACTIONS, key=lambda action: action.action_priority)
        ]

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        context["moderation_bulk_buttons"] = self.get_bulk_action_buttons()
        return context


# --- Bulk actions --------------------------------------------------------------------------------


class ModerateBulkAction(SnippetBulkAction):
    """Move the selected comments to `target_state` through `moderation.moderate`."""

    models = [Comment]
    target_state: str = ""
    done: str = ""  # "approved", for the success message
    template_name = "comments/admin/confirm_bulk_moderate.html"

    def dispatch(self, request, *args, **kwargs):
        if not can_moderate(request.user):
            return forbidden(request)
        return super().dispatch(request, *args, **kwargs)

    def check_perm(self, comment):
        # A comment its author deleted is a tombstone holding its replies' place: nothing to moderate.
        return can_moderate(self.request.user) and not comment.deleted_by_author

    def get_all_objects_in_listing_query(self, parent_id):
        # "Select all in listing" carries the listing's filters and search in the query string.
        return queue_queryset(self.request, self.request.GET).values_list("pk", flat=True)

    def get_execution_context(self):
        return {**super().get_execution_context(), "user": self.request.user}

    @classmethod
    def execute_action(cls, objects, user=None, **kwargs):
        return moderate(objects, cls.target_state, user), 0

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["action_label"] = self.display_name
        context["target_state_label"] = State(self.target_state).label
        return context

    def object_context(self, comment):
        return {**super().object_context(comment), "excerpt": excerpt(comment)}

    def get_success_message(self, num_parent_objects, num_child_objects):
        return ngettext("%(count)d comment %(done)s.", "%(count)d comments %(done)s.", num_parent_objects) % {
            "count": num_parent_objects,
            "done": self.done,
        }


class ApproveBulkAction(ModerateBulkAction):
    display_name = "Approve"
    action_type = "approve"
    aria_label = "Approve the selected comments"
    action_priority = 10
    target_state = State.APPROVED
    done = "approved"


class SpamBulkAction(ModerateBulkAction):
    display_name = "Mark as spam"
    action_type = "spam"
    aria_label = "Mark the selected comments as spam"
    action_priority = 20
    target_state = State.SPAM
    done = "marked as spam"
    classes = {"serious"}


class RemoveBulkAction(ModerateBulkAction):
    display_name = "Remove"
    action_type = "remove"
    aria_label = "Remove the selected comments"
    action_priority = 30
    target_state = State.REMOVED
    done = "removed"
    classes = {"serious"}


BULK_ACTIONS = [ApproveBulkAction, SpamBulkAction, RemoveBulkAction]


# --- One comment, in its thread ------------------------------------------------------------------


@dataclass
class ThreadEntry:
    comment: Comment
    indent: int
    current: bool = False


@dataclass
class Action:
    name: str
    label: str
    icon: str
    classname: str = ""


STATE_ACTIONS = {
    "approve": (Action("approve", "Approve", "check"), State.APPROVED, "approved"),
    "spam": (Action("spam", "Mark as spam", "warning", "serious"), State.SPAM, "marked as spam"),
    "remove": (Action("remove", "Remove", "bin", "serious"), State.REMOVED, "removed"),
}
PICK = Action("pick", "Make editor’s pick", "thumbtack", "button-secondary")
UNPICK = Action("unpick", "Unpin editor’s pick", "thumbtack-crossed", "button-secondary")


def thread_entries(comment: Comment) -> list[ThreadEntry]:
    """The comment's ancestors (oldest first), the comment, then its replies depth first.

    One query: every comment of the thread, whatever its state, through the `root` link.
    """
    root_id = comment.root_id or comment.pk
    thread = {
        c.pk: c
        for c in Comment.objects.filter(Q(pk=root_id) | Q(root_id=root_id)).order_by("created_at", "pk")
    }
    thread[comment.pk] = comment

    ancestors, seen, parent_id = [], {comment.pk}, comment.parent_id
    while parent_id is not None and parent_id in thread and parent_id not in seen:
        seen.add(parent_id)
        ancestors.append(thread[parent_id])
        parent_id = thread[parent_id].parent_id
    ancestors.reverse()

    children: dict[int, list[Comment]] = {}
    for c in thread.values():
        children.setdefault(c.parent_id, []).append(c)

    entries = [ThreadEntry(c, min(i, MAX_INDENT)) for i, c in enumerate(ancestors)]
    level = len(ancestors)
    entries.append(ThreadEntry(comment, min(level, MAX_INDENT), current=True))
    stack = [(reply, level + 1) for reply in reversed(children.get(comment.pk, []))]
    while stack:
        reply, depth = stack.pop()
        if reply.pk in seen:
            continue
        seen.add(reply.pk)
        entries.append(ThreadEntry(reply, min(depth, MAX_INDENT)))
        stack.extend((child, depth + 1) for child in reversed(children.get(reply.pk, [])))
    return entries


class CommentModerationView(PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView):
    """A comment with its article and thread, and the moderation buttons (POST, `action=`)."""

    model = Comment
    any_permission_required = ["change", "view", "moderate"]
    template_name = "comments/admin/moderate.html"
    page_title = "Moderate comment"
    header_icon = "comment"
    index_url_name = None
    edit_url_name = None

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.object = get_object_or_404(
            Comment.objects.select_related("article", "moderated_by"), pk=self.kwargs["pk"]
        )

    @cached_property
    def can_moderate(self) -> bool:
        return self.user_has_permission("moderate")

    def get_page_subtitle(self):
        return Truncator(excerpt(self.object)).chars(50)

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse(self.index_url_name), "label": "Comments"},
            {"url": "", "label": self.get_page_title(), "sublabel": self.get_page_subtitle()},
        ]

    def available_actions(self) -> list[Action]:
        comment = self.object
        if not self.can_moderate or comment.deleted_by_author:
            return []
        actions = [action for action, state, _ in STATE_ACTIONS.values() if comment.state != state]
        if comment.is_pick:
            actions.append(UNPICK)
        elif comment.state == State.APPROVED:
            actions.append(PICK)
        return actions

    def post(self, request, *args, **kwargs):
        if not self.can_moderate:
            return forbidden(request)
        comment, action = self.object, request.POST.get("action", "")
        if comment.deleted_by_author:
            messages.error(request, "This comment was deleted by its author and cannot be moderated.")
        elif action in STATE_ACTIONS:
            _, state, done = STATE_ACTIONS[action]
            if moderate([comment], state, request.user):
                messages.success(request, f"Comment {done}.")
        elif action == PICK.name:
            if comment.state != State.APPROVED:
                messages.error(request, "Only an approved comment can be an editor’s pick.")
            else:
                set_pick(comment, True)
                messages.success(request, "Comment pinned as an editor’s pick.")
        elif action == UNPICK.name:
            set_pick(comment, False)
            messages.success(request, "Comment is no longer an editor’s pick.")
        else:
            messages.error(request, "Unknown moderation action.")
        return redirect(get_valid_next_url_from_request(request) or request.path)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        comment, article, user = self.object, self.object.article, self.request.user
        site = article.get_site()
        policy = CommentPolicy.for_site(site) if site else CommentPolicy.for_request(self.request)
        article_url = article.get_url(self.request) if article.live else None
        context.update(
            comment=comment,
            article=article,
            article_url=article_url,
            comment_url=f"{article_url}#comment-{comment.pk}" if article_url and comment.is_visible else None,
            article_edit_url=(
                reverse("wagtailadmin_pages:edit", args=[article.pk])
                if article.permissions_for_user(user).can_edit()
                else None
            ),
            article_queue_url=reverse(self.index_url_name) + f"?article={article.pk}&state={ANY_STATE}",
            closed_reason=closed_reason(article, policy),
            thread=thread_entries(comment),
            can_moderate=self.can_moderate,
            actions=self.available_actions(),
        )
        return context


# --- Viewsets ------------------------------------------------------------------------------------


class AllPermissionsMixin:
    """Offer every permission of the model (view and moderate too) when editing a group."""

    def get_permissions_to_register(self):
        return Permission.objects.filter(content_type=ContentType.objects.get_for_model(self.model))


class CommentViewSet(AllPermissionsMixin, SnippetViewSet):
    model = Comment
    icon = "comment"
    menu_label = "Comments"
    menu_name = "comments"
    menu_order = 250  # after Pages, before Images
    add_to_admin_menu = True
    url_prefix = "comments"
    url_namespace = "comments_moderation"
    index_view_class = CommentIndexView
    index_template_name = "comments/admin/index.html"
    filterset_class = CommentFilterSet
    ordering = "-created_at"
    search_fields = SEARCH_FIELDS
    search_backend_name = None
    list_per_page = 50
    copy_view_enabled = False

    @property
    def edit_view(self):
        # Moderation replaces editing: the text stays exactly as the reader wrote it.
        return self.construct_view(CommentModerationView)


class BlockedTermForm(WagtailAdminModelForm):
    def clean_value(self):
        # As BlockedTerm.save() will store it, so that the unique check sees the stored value
        # (an error on the form instead of an IntegrityError for "Spam.example" vs "spam.example").
        return self.cleaned_data["value"].strip().casefold()


class BlockedTermViewSet(AllPermissionsMixin, SnippetViewSet):
    model = BlockedTerm
    icon = "no-view"
    menu_label = "Blocked terms"
    menu_name = "blocked-terms"
    menu_order = 251
    add_to_admin_menu = True
    url_prefix = "blocked-terms"
    url_namespace = "comments_blocked_terms"
    edit_handler = ObjectList(BlockedTerm.panels, base_form_class=BlockedTermForm)
    list_display = [
        "value",
        "kind",
        "note",
        DateColumn("created_at", label="Added", sort_key="created_at"),
    ]
    list_filter = ["kind"]
    search_fields = ["value", "note"]
    search_backend_name = None
    copy_view_enabled = False
    inspect_view_enabled = False
