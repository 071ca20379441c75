"""Settings come from the environment, so one module serves the demo, tests and production.

See base.py for every variable read; test.py only overrides what makes tests fast.
"""

from .base import *  # noqa: F401,F403
