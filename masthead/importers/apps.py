from django.apps import AppConfig


class ImportersConfig(AppConfig):
    """Bringing articles in from outside: the seed's plain-text form first."""

    name = "masthead.importers"
    label = "importers"
    verbose_name = "Importers"
