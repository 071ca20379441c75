"""Sourcing transparency: who said what in an article, and on whose word.

This package's core (everything importable from here) is plain Python with no Django import, so
the analyser can be used, tested and benchmarked alone. The Django app (models, admin panel, reader
box) lives in the modules that say so (``apps``, ``models``, ``wagtail_hooks``, ``views``) and is
never imported by the core.
"""

from masthead.sourcing.analyser import analyse

__all__ = ["analyse"]
