"""`masthead rebuild_related`: compute "Related" for every live article.

Publishing keeps the lists current; run this once after upgrading an existing site (articles
published before related reading existed have none) or after a bulk import that bypassed
publishing.
"""

from django.core.management.base import BaseCommand

from masthead.news.related import rebuild_all


class Command(BaseCommand):
    help = "Compute the related articles of every live article."

    def handle(self, *args, **options) -> None:
        count = rebuild_all()
        self.stdout.write(f"related articles computed for {count} article{'s' if count != 1 else ''}")
