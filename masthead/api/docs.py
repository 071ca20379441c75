"""Interactive API docs (Swagger UI) served entirely by this site.

django-ninja's own docs page loads Swagger UI from a CDN unless "ninja" is an installed app; the
site makes no third-party requests, so this page uses the copy of Swagger UI that ships inside
the django-ninja package, served by `asset` below from a fixed list of files. The validator
badge, which would call validator.swagger.io, is switched off.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

import ninja
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe
from ninja.openapi.docs import DocsBase

ASSET_DIR = Path(ninja.__file__).resolve().parent / "static" / "ninja"
ASSETS = {"swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-init.js", "favicon.svg", "favicon.png"}
ASSET_MAX_AGE = 60 * 60 * 24  # the file names carry no hash; a day is short enough for upgrades


SWAGGER_SETTINGS = {"layout": "BaseLayout", "deepLinking": True, "validatorUrl": None}


class LocalSwagger(DocsBase):
    def render_page(self, request: HttpRequest, api, **kwargs) -> HttpResponse:
        context = {
            "api": api,
            "swagger_settings": {**SWAGGER_SETTINGS, "url": self.get_openapi_url(api, kwargs)},
            "asset_base": reverse("api-docs-asset", args=["x"]).removesuffix("x"),
        }
        return render(request, "api/docs.html", context)


@require_safe
def asset(request: HttpRequest, name: str) -> FileResponse:
    if name not in ASSETS:
        raise Http404("No such file")
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse((ASSET_DIR / name).open("rb"), content_type=content_type)
    response["Cache-Control"] = f"public, max-age={ASSET_MAX_AGE}"
    return response
