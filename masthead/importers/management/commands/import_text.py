"""`masthead import-text FILE... [--section NAME] [--author NAME]`"""

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from masthead.importers.service import ImportFailed, import_files


class Command(BaseCommand):
    help = "Import articles in the seed's plain-text form (sections line, headline, paragraphs)."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument("--section", help="primary section (default: the last one on the file's first line)")
        parser.add_argument("--author", help="byline for the imported articles")

    def handle(self, *args, files, section, author, **options):
        try:
            results = import_files(files, section=section, author=author)
        except DatabaseError as exc:
            raise CommandError(f"the database is not ready ({exc}); run `masthead migrate` first")
        except ImportFailed as failure:
            for line in failure.problems:
                self.stderr.write(f"error: {line}")
            raise CommandError(f"nothing imported: {len(failure.problems)} file(s) could not be imported")
        for result in results:
            self.stdout.write(f"{result.action}: {result.article.get_url() or result.article.url_path} ({result.path})")
