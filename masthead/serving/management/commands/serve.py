"""`masthead serve`: the production server (gunicorn, DEBUG off, compressed hashed static files)."""

from __future__ import annotations

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from masthead.serving.files import SEND_IDLE_SECONDS
from masthead.serving.server import default_workers, run

MAX_SEND_TIMEOUT = 86_400  # a day; the kernel takes milliseconds in a C int (at most 24.8 days)


class Command(BaseCommand):
    help = "Serve masthead in production with gunicorn."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=default_workers())
        parser.add_argument("--threads", type=int, default=4)
        parser.add_argument(
            "--renders", type=int, default=1, help="requests rendered at once per worker (masthead/serving/gate.py)"
        )
        parser.add_argument(
            "--send-timeout",
            type=float,
            default=SEND_IDLE_SECONDS,
            help="seconds a client may go without taking any more of a response before it is "
            "disconnected (a file's sending also stops when it takes less than about 48 KB in that time)",
        )
        parser.add_argument("--migrate", action="store_true", help="apply database migrations first")

    def handle(self, *args, host, port, workers, threads, renders, send_timeout, migrate, **options):
        if min(workers, threads, renders) < 1:
            raise CommandError("--workers, --threads and --renders must be at least 1")
        if not 1 <= send_timeout <= MAX_SEND_TIMEOUT:  # also refuses nan and inf
            raise CommandError(f"--send-timeout must be from 1 to {MAX_SEND_TIMEOUT:,} (seconds)")
        if settings.SECRET_KEY == settings.DEMO_SECRET_KEY:
            raise CommandError(
                "refusing to serve with the demo secret key: set SECRET_KEY in the environment "
                "(for example: export SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))'))"
            )
        if settings.DEBUG:
            raise CommandError("refusing to serve with DEBUG on: unset DEBUG or set DEBUG=0")
        call_command("collectstatic", interactive=False, verbosity=0)
        if migrate:
            call_command("migrate", interactive=False, verbosity=1)
        self.stdout.write(
            f"masthead serving on http://{host}:{port}/ with {workers} workers × {threads} threads, "
            f"{min(renders, threads)} rendering at once"
        )
        run(host, port, workers, threads, renders, send_timeout)
