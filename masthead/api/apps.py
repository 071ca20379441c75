from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The public read API, documented by the OpenAPI schema it serves."""

    name = "masthead.api"
    label = "api"
    verbose_name = "Read API"
