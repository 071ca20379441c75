from django.apps import AppConfig


class SearchConfig(AppConfig):
    """Finding articles: full-text search on the database's own engine, and related reading."""

    name = "masthead.search"
    label = "search"
    verbose_name = "Search"

    def ready(self) -> None:
        from . import signals

        signals.connect()
