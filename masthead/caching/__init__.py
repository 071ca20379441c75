"""Full-page caching for anonymous readers, surrogate keys, and exact purges.

See the README's "Caching" section. In short: `middleware.PageCacheMiddleware` stores whole
responses for anonymous readers (in-process, or in Redis when REDIS_URL is set) and serves them
without touching the database; every response names what it shows as surrogate keys
(`keys.py`); content changes purge exactly those keys (`invalidation.py`, `purge.py`).
"""
