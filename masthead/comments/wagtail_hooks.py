"""Comments in the Wagtail admin: the moderation queue, blocked terms and the bulk actions."""

from wagtail import hooks
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet

from .admin_views import BULK_ACTIONS, BlockedTermViewSet, CommentPermissionPolicy, CommentViewSet
from .models import Comment

# Before the viewset registers: Wagtail refuses a policy once it has made a fallback one.
register_permission_policy(Comment, CommentPermissionPolicy(Comment))

register_snippet(CommentViewSet)
register_snippet(BlockedTermViewSet)

for action_class in BULK_ACTIONS:
    hooks.register("register_bulk_action", action_class)
