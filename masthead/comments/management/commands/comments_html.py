"""`masthead comments-html`: store every comment's HTML again after its rules changed."""

from django.core.management.base import BaseCommand, CommandError

from masthead.comments.models import Comment, store_html
from masthead.comments.text import RENDER_VERSION


class Command(BaseCommand):
    help = (
        "Store the HTML of every comment whose stored HTML is missing or was made by other rules "
        "or another sanitiser version (after an upgrade); pages render those as they read them meanwhile."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=1000, help="comments per transaction (default 1000)")

    def handle(self, *args, batch, **options):
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        stored = store_html(Comment, batch)
        self.stdout.write(f"stored the HTML of {stored} comment(s) (render version {RENDER_VERSION})")
