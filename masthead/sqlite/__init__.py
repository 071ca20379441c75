"""masthead's SQLite database backend: Django's own, with its placeholder rewriting remembered.

Selected by settings (ENGINE "masthead.sqlite") whenever DATABASE_URL names SQLite, the
embedded default. See base.py for why.
"""
