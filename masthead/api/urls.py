"""URLs of this app; masthead/urls.py includes them before Wagtail's page catch-all.

/api/v1/ is the read API (masthead.api.api). Any other address under it answers with a JSON 404
rather than the site's HTML one, so a client always gets JSON back.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import path, re_path

from . import docs
from .api import api, error


def unknown(request: HttpRequest, rest: str = "") -> HttpResponse:
    return error(request, 404, "Not found.")


urlpatterns = [
    path("api/v1/docs/assets/<str:name>", docs.asset, name="api-docs-asset"),
    path("api/v1/", api.urls),
    re_path(r"^api/v1/(?P<rest>.*/)$", unknown),
]
