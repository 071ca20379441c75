"""URLs of this app; masthead/urls.py includes them before Wagtail's page catch-all."""

from django.urls import path

from . import views

app_name = "search"

urlpatterns = [
    path("search/", views.search, name="search"),
]
