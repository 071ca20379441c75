"""`masthead reanalyse_sources`: store sourcing reports that are missing or outdated."""

from django.core.management.base import BaseCommand

from masthead.sourcing.models import analyser_version
from masthead.sourcing.signals import analyse_revisions, revisions_to_analyse


class Command(BaseCommand):
    help = (
        "Analyse the latest and live revision of every article that has no sourcing report "
        "(with --stale: also those analysed by another analyser version)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--stale", action="store_true", help="also redo reports of an older analyser")
        parser.add_argument(
            "--every-revision", action="store_true", help="every stored revision, not only latest and live"
        )

    def handle(self, *args, stale=False, every_revision=False, **options):
        revisions = revisions_to_analyse(stale=stale, every_revision=every_revision)
        done, failed = analyse_revisions(revisions)
        self.stdout.write(f"Analysed {done} revision(s) with analyser {analyser_version()}.")
        if failed:
            self.stderr.write(f"{failed} revision(s) could not be loaded; see the log.")
