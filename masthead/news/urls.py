from django.urls import path

from masthead import converters  # noqa: F401 (registers <id:...>)

from . import views

app_name = "news"

urlpatterns = [
    path("authors/<str:slug>/", views.author, name="author"),
    path("tags/<str:slug>/", views.tag, name="tag"),
    path("share/mastodon/<id:page_id>/", views.share_mastodon, name="share_mastodon"),
]
