from django.apps import AppConfig


class CachingConfig(AppConfig):
    """Full-page cache, surrogate keys and purges (see masthead/caching/__init__.py)."""

    name = "masthead.caching"
    label = "caching"
    verbose_name = "Caching"

    def ready(self) -> None:
        from . import config, invalidation

        invalidation.connect()
        config.connect()
