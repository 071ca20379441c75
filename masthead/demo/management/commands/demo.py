"""`masthead demo`: migrate, load the demo publication once, print the admin login, serve."""

from __future__ import annotations

import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from wagtail.models import Site

from masthead.caching import config
from masthead.demo.loader import demo_is_loaded, load_demo

ADMIN_USER = "admin"


def ensure_admin() -> str:
    """Create the demo editor-in-chief once; its password lives in DATA_DIR, readable by you only."""
    password_file = settings.DATA_DIR / "demo-admin-password.txt"
    User = get_user_model()
    user = User.objects.filter(username=ADMIN_USER).first()
    password = password_file.read_text().strip() if password_file.exists() else ""
    if user is None or not password or not user.check_password(password):
        password = password or secrets.token_urlsafe(12)
        if user is None:
            user = User.objects.create_superuser(ADMIN_USER, "admin@example.org", password)
        else:
            user.set_password(password)
            user.save()
        password_file.write_text(password + "\n")
        os.chmod(password_file, 0o600)
    return password


class Command(BaseCommand):
    help = "Set up the demo publication on this machine (once) and serve it until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true", help="set up only, do not start the server")

    def handle(self, *args, host, port, no_serve, **options):
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        if demo_is_loaded():
            self.stdout.write("Demo content already present: keeping your data.")
        else:
            self.stdout.write("Loading demo content (first run only)…")
            load_demo(self.stdout)
        Site.objects.filter(is_default_site=True).update(hostname=host, port=port)
        config.bump()  # an update() sends no signal: running servers must look the site up again
        password = ensure_admin()
        base = f"http://{host}:{port}"
        self.stdout.write(
            self.style.SUCCESS(
                f"\nmasthead demo\n  site:  {base}/\n  admin: {base}/admin/\n"
                f"  login: {ADMIN_USER} / {password}\n  data:  {settings.DATA_DIR}\n"
            )
        )
        if not no_serve:
            call_command("runserver", f"{host}:{port}", use_reloader=False)
