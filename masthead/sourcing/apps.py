from django.apps import AppConfig


class SourcingConfig(AppConfig):
    """Sourcing transparency in the newsroom and for readers.

    The analyser itself (``masthead.sourcing.analyse``) is plain Python; this app stores its
    report per article revision, shows it to editors (the "Sources" tab, the publish message,
    the per-section summary) and to readers (the "Who is quoted" box).
    """

    name = "masthead.sourcing"
    label = "sourcing"
    verbose_name = "Sourcing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import panels, signals

        signals.connect(self)
        panels.install_sources_tab()
