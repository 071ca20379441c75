"""`masthead comment-data export|erase EMAIL`: a reader's right to see and to erase their data."""

import json

from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.core.exceptions import ValidationError

from masthead.comments.personal_data import erase, export


class Command(BaseCommand):
    help = "Export (as JSON) or erase everything stored about one commenter's email address."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["export", "erase"])
        parser.add_argument("email")
        parser.add_argument("--yes", action="store_true", help="erase without asking")

    def handle(self, *args, action, email, yes, **options):
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"not an email address: {email!r}")
        if action == "export":
            self.stdout.write(json.dumps(export(email), ensure_ascii=False, indent=2))
            return
        if not yes and input(f"Erase every comment by {email}? Type 'erase': ").strip() != "erase":
            raise CommandError("nothing erased")
        self.stdout.write(f"erased {erase(email)} comment(s) and any unsubscribe record for {email}")
