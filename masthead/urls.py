from django.conf import settings
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from django.views.static import serve as serve_file
from django.templatetags.static import static
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls



class FaviconRedirect(RedirectView):
    """Browsers ask for /favicon.ico; send them to the hashed SVG, looked up per request so
    that importing the URLconf never needs collectstatic's manifest."""

    permanent = False

    def get_redirect_url(self, *args, **kwargs) -> str:
        return static("masthead/favicon.svg")


urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("favicon.ico", FaviconRedirect.as_view()),
    path("", include("masthead.news.urls")),
    path("", include("masthead.comments.urls")),
    path("", include("masthead.distribution.urls")),
    path("", include("masthead.search.urls")),
    path("", include("masthead.api.urls")),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()

# Uploaded images. Behind a reverse proxy, let it serve MEDIA_ROOT and set MASTHEAD_SERVE_MEDIA=0.
if settings.MASTHEAD_SERVE_MEDIA:
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", serve_file, {"document_root": settings.MEDIA_ROOT}),
    ]

urlpatterns += [path("", include(wagtail_urls))]
