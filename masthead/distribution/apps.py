from django.apps import AppConfig


class DistributionConfig(AppConfig):
    """How journalism leaves the site: feeds, sitemaps, structured data and social cards."""

    name = "masthead.distribution"
    label = "distribution"
    verbose_name = "Distribution"
