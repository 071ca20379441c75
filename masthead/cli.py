"""The `masthead` command: our jobs plus every Django management command.

`masthead demo`, `masthead serve`, `masthead import-text`, `masthead sources`, and e.g. `masthead migrate`.
"""

from __future__ import annotations

import os
import sys

# Dashed names for our commands; Django's own keep their names.
ALIASES = {"import-text": "import_text", "comment-data": "comment_data", "comments-html": "comments_html"}


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "sources":
        # Plain Python, no Django: fast enough to run once per file.
        from masthead.sourcing.cli import main as sources

        sys.exit(sources(args[1:]))
    if args:
        args[0] = ALIASES.get(args[0], args[0])
    if args and args[0] == "serve":
        # Production: DEBUG is off unless someone insists, and then serve refuses to start.
        os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "masthead.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["masthead", *args])


if __name__ == "__main__":
    main()
