"""Admin views: the sourcing summary by section and month, and the Sources panel's body."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.defaults import permission_denied
from django.views.generic import TemplateView
from wagtail.admin.views.generic import WagtailAdminTemplateMixin
from wagtail.models import Page
from wagtail.permission_policies.pages import PagePermissionPolicy

from .panels import panel_context
from .summary import section_summaries

PERIODS = [
    (1, "This month"),
    (3, "3 months"),
    (6, "6 months"),
    (12, "12 months"),
    (24, "24 months"),
    (0, "All time"),
]
DEFAULT_PERIOD = 12


def can_edit_pages(user) -> bool:
    """Anyone who may add, edit or publish pages anywhere (the Page types report uses the same)."""
    return PagePermissionPolicy().user_has_any_permission(user, ["add", "change", "publish"])


def forbidden(request, message: str) -> HttpResponse:
    # A plain 403: Wagtail turns a raised PermissionDenied into a redirect to the dashboard.
    return permission_denied(request, PermissionDenied(message))


class SourcingSummaryView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "sourcing/admin/summary.html"
    page_title = "Sourcing by section"
    header_icon = "openquote"

    def dispatch(self, request, *args, **kwargs):
        if not can_edit_pages(request.user):
            return forbidden(request, "You may not see the sourcing summary.")
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": "", "label": self.get_page_title()}]

    def get_period(self) -> int:
        try:
            months = int(self.request.GET.get("months", DEFAULT_PERIOD))
        except ValueError:
            return DEFAULT_PERIOD
        return months if months in dict(PERIODS) else DEFAULT_PERIOD

    def get_section_id(self) -> int | None:
        try:
            return int(self.request.GET["section"]) or None
        except (KeyError, ValueError):
            return None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        months = self.get_period()
        since = None
        if months:
            first_of_month = timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            since = first_of_month
            for _ in range(months - 1):  # this month and the months - 1 before it
                since = (since - timedelta(days=1)).replace(day=1)
        section_id = self.get_section_id()
        summaries = section_summaries(since=since)
        context.update(
            periods=PERIODS,
            months=months,
            section_id=section_id,
            section_choices=[(s.key, s.trail) for s in summaries if s.key],
            summaries=[s for s in summaries if section_id is None or s.key == section_id],
        )
        return context


def panel_body(request: HttpRequest, page_id: int) -> HttpResponse:
    """The Sources panel's content for the article's latest revision (reloaded after autosave)."""
    page = get_object_or_404(Page, pk=page_id)
    if not page.permissions_for_user(request.user).can_edit():
        return forbidden(request, "You may not edit this page.")
    # Wagtail's admin URLs are never cached (no-store), so the panel is always fresh.
    return render(request, "sourcing/admin/panel_body.html", panel_context(page, request))
