from django.apps import AppConfig


class NewsConfig(AppConfig):
    """The publication: home front, sections, articles, authors and tags."""

    name = "masthead.news"
    label = "news"
    verbose_name = "News"

    def ready(self) -> None:
        from . import sites

        sites.install()
