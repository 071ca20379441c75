"""``python -m masthead.sourcing FILE... [--json]``: the same as ``masthead sources``."""

import sys

from masthead.sourcing.cli import main

sys.exit(main())
