"""Sourcing in the Wagtail admin: the summary page, the panel's reload URL and the publish message.

Warnings never block publishing. When an article is published or submitted to a workflow
(from its create or edit view), the editor gets a warning message listing the sourcing warnings
of the version just published or submitted, with a link to its Sources tab.
"""

from django.urls import path, reverse
from django.utils.html import format_html
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.menu import MenuItem

from .models import latest_report
from .panels import ReportView, warnings_html
from .views import SourcingSummaryView, can_edit_pages, panel_body

# Edit/create view POST buttons after which the editor is told about warnings.
ANNOUNCED_ACTIONS = {
    "action-publish": "published",
    "action-submit": "submitted for moderation",
    "action-restart-workflow": "submitted for moderation",
}


@hooks.register("register_admin_urls")
def register_admin_urls():
    return [
        path("sourcing/summary/", SourcingSummaryView.as_view(), name="sourcing_summary"),
        path("sourcing/panel/<int:page_id>/", panel_body, name="sourcing_panel"),
    ]


class SourcingSummaryMenuItem(MenuItem):
    def is_shown(self, request):
        return can_edit_pages(request.user)


@hooks.register("register_reports_menu_item")
def register_summary_menu_item():
    return SourcingSummaryMenuItem(
        "Sourcing by section",
        reverse("sourcing_summary"),
        name="sourcing-summary",
        icon_name="openquote",
        order=1300,
    )


def announced_action(request) -> str | None:
    if request.method != "POST":
        return None
    for field, done in ANNOUNCED_ACTIONS.items():
        if request.POST.get(field):
            return done
    if request.POST.get("action-workflow-action") and request.POST.get("workflow-action-name") == "approve":
        return "approved"
    return None


def announce_warnings(request, page) -> None:
    done = announced_action(request)
    if done is None:
        return
    report = latest_report(page)
    if report is None or not report.warning_count:
        return
    count = report.warning_count
    view = ReportView(report)
    message = format_html(
        "“{}” was {} with {} sourcing warning{}. Warnings never block publishing; please check them.{}",
        page.get_admin_display_title(),
        done,
        count,
        "" if count == 1 else "s",
        warnings_html(view),
    )
    url = reverse("wagtailadmin_pages:edit", args=[page.pk]) + "#tab-sources"
    messages.warning(request, message, buttons=[messages.button(url, "Review sources")])


@hooks.register("after_create_page")
def after_create_page(request, page):
    announce_warnings(request, page)


@hooks.register("after_edit_page")
def after_edit_page(request, page):
    announce_warnings(request, page)
