from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo content and the one-command demo site."""

    name = "masthead.demo"
    label = "demo"
    verbose_name = "Demo"
