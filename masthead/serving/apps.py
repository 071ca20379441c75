from django.apps import AppConfig


class ServingConfig(AppConfig):
    """Running masthead in production: the server process and its safety checks."""

    name = "masthead.serving"
    label = "serving"
    verbose_name = "Serving"
