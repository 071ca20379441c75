from django.apps import AppConfig


class CommentsConfig(AppConfig):
    """Reader comments: posting, moderation, spam defence and the people behind them."""

    name = "masthead.comments"
    label = "comments"
    verbose_name = "Comments"
