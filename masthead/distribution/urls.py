"""URLs of this app; masthead/urls.py includes them before Wagtail's page catch-all.

Feeds (each in rss, atom and json):
    /feeds/<fmt>/                               the whole site
    /feeds/sections/<section path>/<fmt>/       e.g. /feeds/sections/world/middle-east/rss/
    /feeds/authors/<slug>/<fmt>/
    /feeds/tags/<slug>/<fmt>/
Sitemaps:
    /sitemap.xml                                the index
    /sitemaps/sections.xml
    /sitemaps/articles-<n>.xml, /sitemaps/authors-<n>.xml, /sitemaps/tags-<n>.xml
    /sitemaps/news.xml                          Google News: the last 48 hours
/robots.txt
"""

from django.urls import path, re_path

from . import views

app_name = "distribution"

FORMAT = r"(?P<fmt>rss|atom|json)"

urlpatterns = [
    re_path(rf"^feeds/{FORMAT}/$", views.feed, {"kind": "site"}, name="feed"),
    re_path(
        rf"^feeds/sections/(?P<section_path>[-\w]+(?:/[-\w]+)*)/{FORMAT}/$",
        views.feed,
        {"kind": "section"},
        name="section_feed",
    ),
    re_path(
        rf"^feeds/authors/(?P<slug>[-\w]+)/{FORMAT}/$", views.feed, {"kind": "author"}, name="author_feed"
    ),
    re_path(rf"^feeds/tags/(?P<slug>[-\w]+)/{FORMAT}/$", views.feed, {"kind": "tag"}, name="tag_feed"),
    path("sitemap.xml", views.sitemap_index, name="sitemap_index"),
    path("sitemaps/sections.xml", views.sitemap_sections, name="sitemap_sections"),
    path("sitemaps/news.xml", views.sitemap_news, name="sitemap_news"),
    re_path(
        r"^sitemaps/(?P<name>articles|authors|tags)-(?P<number>[1-9][0-9]{0,17})\.xml$",
        views.sitemap_numbered,
        name="sitemap_numbered",
    ),
    path("robots.txt", views.robots_txt, name="robots_txt"),
]
