"""Where cached pages live: an LRU in each process by default, Redis when REDIS_URL is set.

Both stores index entries by surrogate key, so a purge deletes exactly the entries that carry
one of its keys, and both refuse to store a page that may have been rendered from data older
than a purge of one of its keys:

    request starts, reads the store's purge clock (`lookup`)
        ... renders from the database ...
    an editor's change commits; its purge bumps the clock and marks its keys
    request ends: `save(since=clock)` sees a key marked after `since`, and stores nothing.

Without that check a page rendered just before a publish could be stored just after its purge
and stay stale until its lifetime ran out.

Each store also remembers when each key was last purged (and when it started remembering), for
Last-Modified: a page changed at the latest when one of its keys was last purged, so its
Last-Modified never goes back in time, even when the newest story it listed is withdrawn.
"""

from __future__ import annotations

import json
import logging
import os
import struct
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Iterable

from . import conf

logger = logging.getLogger(__name__)

ENTRY_OVERHEAD = 256  # bytes of bookkeeping counted per entry of the in-process LRU
PURGE_MEMORY_SECONDS = 120  # longer than any request may take (gunicorn's timeout is 30 s)
MAX_CHANGE_TIMES = 200_000  # keys whose purge time is remembered before starting afresh


@dataclass
class Entry:
    """A stored response: status, headers (validators included) and body, to answer byte for byte.

    `gzipped` is the body compressed once when stored (None when it is not text worth it), so
    that a hit for a client accepting gzip costs no compression; `headers` are the plain
    version's, and the gzipped version's differ only in the three `gzip_header_store` sets.
    """

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    gzipped: bytes | None = None

    @property
    def size(self) -> int:
        extra = len(self.gzipped) if self.gzipped is not None else 0
        return len(self.body) + extra + sum(len(k) + len(v) for k, v in self.headers) + ENTRY_OVERHEAD

    def header_store(self) -> dict[str, tuple[str, str]]:
        """The headers in the form of Django's ResponseHeaders._store (lowercase name -> (name,
        value)), a fresh copy each time: middleware outside the cache adds headers to it."""
        store = self.__dict__.get("_header_store")
        if store is None:
            store = self.__dict__["_header_store"] = {name.lower(): (name, value) for name, value in self.headers}
        return dict(store)

    def gzip_header_store(self) -> dict[str, tuple[str, str]]:
        """header_store() for the gzipped body: its Content-Encoding, Content-Length and ETag."""
        store = self.__dict__.get("_gzip_header_store")
        if store is None:
            from .headers import gzip_etag

            store = self.header_store()
            store["content-encoding"] = ("Content-Encoding", "gzip")
            store["content-length"] = ("Content-Length", str(len(self.gzipped or b"")))
            if "etag" in store:
                store["etag"] = ("ETag", gzip_etag(store["etag"][1]))
            self.__dict__["_gzip_header_store"] = store
        return dict(store)

    def encode(self) -> bytes:
        if self.gzipped is None:
            meta = json.dumps([self.status, self.headers]).encode()
            return struct.pack(">I", len(meta)) + meta + self.body
        meta = json.dumps([self.status, self.headers, len(self.body)]).encode()
        return struct.pack(">I", len(meta)) + meta + self.body + self.gzipped

    @classmethod
    def decode(cls, blob: bytes) -> Entry:
        (length,) = struct.unpack(">I", blob[:4])
        meta = json.loads(blob[4 : 4 + length])
        status, headers = meta[0], [(name, value) for name, value in meta[1]]
        rest = blob[4 + length :]
        if len(meta) > 2:  # [status, headers, plain length]: the gzipped body follows the plain one
            return cls(status, headers, rest[: meta[2]], rest[meta[2] :])
        return cls(status, headers, rest)


class Store:
    """The interface PageCacheMiddleware and purge() use."""

    shared = False  # True when every process sees the same entries (no propagation needed)

    def lookup(self, key: str) -> tuple[Entry | None, int]:
        """The entry for `key` (or None) and the purge clock, for a later save(since=clock)."""
        return None, 0

    def save(self, key: str, entry: Entry, tags: Iterable[str], ttl: int, since: int) -> bool:
        return False

    def purge(self, tags: Iterable[str], when: float | None = None) -> int:
        """Delete every entry carrying any of `tags`; returns how many were deleted. `when` is
        the time the purge happened when another process made it (read from the purge log), so
        that every process gives a page the same Last-Modified. It is kept as it is, even ahead
        of this machine's clock (headers.sendable_last_modified)."""
        return 0

    def changed_at(self, tags: Iterable[str]) -> float:
        """The latest time any of `tags` was purged (at least: when this store started remembering)."""
        return STARTED

    def freshness(self, since: int, tags: Iterable[str]) -> tuple[bool, float]:
        """What a page just rendered, showing `tags`, needs to know before it goes out, in one
        read (one round trip for Redis): whether any of them was purged after lookup() gave the
        clock `since` (the page may show what the purge replaced), and changed_at(tags)."""
        return False, self.changed_at(tags)

    def clear(self) -> None:
        pass


STARTED = time.time()


class NullStore(Store):
    """Caching switched off: nothing is kept, headers are still sent."""


class LocalStore(Store):
    """An LRU of whole responses in this process, bounded in bytes, indexed by surrogate key.

    Other processes' purges reach it through masthead.caching.propagation (the PurgeEvent table).
    """

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[Entry, frozenset[str], float]] = OrderedDict()
        self._by_tag: dict[str, set[str]] = {}
        self._bytes = 0
        self._clock = 0
        self._recent: deque[tuple[int, frozenset[str], float]] = deque()  # (clock, tags, when)
        self._changed: dict[str, float] = {}
        self._floor = time.time()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def bytes_used(self) -> int:
        return self._bytes

    def lookup(self, key):
        with self._lock:
            slot = self._entries.get(key)
            if slot is None:
                return None, self._clock
            if slot[2] < time.monotonic():
                self._drop(key)
                return None, self._clock
            self._entries.move_to_end(key)
            return slot[0], self._clock

    def save(self, key, entry, tags, ttl, since):
        tags = frozenset(tags)
        with self._lock:
            if self._purged_since(since, tags):
                return False
            if key in self._entries:
                self._drop(key)
            self._entries[key] = (entry, tags, time.monotonic() + ttl)
            self._bytes += entry.size
            for tag in tags:
                self._by_tag.setdefault(tag, set()).add(key)
            while self._bytes > self.max_bytes and self._entries:
                self._drop(next(iter(self._entries)))
            return True

    def freshness(self, since, tags):
        tags = frozenset(tags)
        with self._lock:
            return self._purged_since(since, tags), self.changed_at(tags)

    def _purged_since(self, since: int, tags: frozenset[str]) -> bool:
        if since >= self._clock:
            return False
        if not self._recent or self._recent[0][0] > since + 1:
            return True  # purges older than our memory happened since: do not risk it
        for clock, purged, _ in reversed(self._recent):
            if clock <= since:
                break
            if purged & tags:
                return True
        return False

    def _drop(self, key: str) -> None:
        entry, tags, _ = self._entries.pop(key)
        self._bytes -= entry.size
        for tag in tags:
            keys = self._by_tag.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_tag[tag]

    def purge(self, tags, when=None):
        tags = frozenset(tags)
        now = time.time()
        # Another machine's purge keeps that machine's time, even ahead of this one's clock
        # (not sent while it is: headers.sendable_last_modified).
        stamp = now if when is None else when
        with self._lock:
            self._clock += 1
            self._recent.append((self._clock, tags, now))
            while self._recent and self._recent[0][2] < now - PURGE_MEMORY_SECONDS:
                self._recent.popleft()
            if len(self._changed) > MAX_CHANGE_TIMES:
                self._floor = max([now, *self._changed.values()])  # no date goes back
                self._changed.clear()
            deleted = 0
            for tag in tags:
                self._changed[tag] = max(stamp, self._changed.get(tag, 0.0))  # never backwards
                for key in list(self._by_tag.get(tag, ())):
                    self._drop(key)
                    deleted += 1
            return deleted

    def changed_at(self, tags):
        changed = self._changed
        return max([self._floor, *(changed.get(tag, 0.0) for tag in tags)])

    def clear(self):
        """Empty the store, purge times included: they start again from now, so no page's
        Last-Modified goes back, and none stays dated by another machine's clock ahead."""
        with self._lock:
            self._entries.clear()
            self._by_tag.clear()
            self._bytes = 0
            self._changed.clear()
            self._floor = time.time()


# Redis: entries are strings with a lifetime; each key has an index of the entries carrying it
# (a sorted set scored by when each entry expires, pruned of expired ones at every save, so a
# key carried by every page, "site" or "nav", holds the live pages and not every URL stored
# since its last purge), a purge marker (the purge clock when it was last purged, kept long
# enough to outlive any request) and a purge time in one hash (whose "_floor" says since when
# times are remembered).
SAVE_SCRIPT = """
local n = tonumber(ARGV[4])
local since = tonumber(ARGV[1])
for i = 2, n + 1 do
  local marked = redis.call('GET', KEYS[i])
  if marked and tonumber(marked) > since then return 0 end
end
local now = tonumber(redis.call('TIME')[1])
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[3], 'EX', ttl)
for i = n + 2, 2 * n + 1 do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
  redis.call('ZADD', KEYS[i], now + ttl + 1, KEYS[1])  -- TIME is in whole seconds: never early
  if redis.call('TTL', KEYS[i]) < ttl then redis.call('EXPIRE', KEYS[i], ttl) end
end
return 1
"""

PURGE_SCRIPT = """
local n = tonumber(ARGV[1])
local clock = redis.call('INCR', KEYS[1])
local t = redis.call('TIME')
local now = t[1] .. '.' .. string.format('%06d', tonumber(t[2]))
if redis.call('HLEN', KEYS[2]) > tonumber(ARGV[3]) then redis.call('DEL', KEYS[2]) end
redis.call('HSETNX', KEYS[2], '_floor', now)
local deleted = 0
for i = 1, n do
  redis.call('SET', KEYS[2 + i], clock, 'EX', ARGV[2])
  redis.call('HSET', KEYS[2], ARGV[3 + i], now)
  local members = redis.call('ZRANGE', KEYS[2 + n + i], 0, -1)
  for _, member in ipairs(members) do deleted = deleted + redis.call('DEL', member) end
  redis.call('DEL', KEYS[2 + n + i])
  -- Pages stored before the index became a sorted set are listed in a plain set ("t"): purged
  -- too, until the last of them has expired (an hour after an upgrade).
  local legacy = KEYS[2 + 2 * n + i]
  if redis.call('TYPE', legacy)['ok'] == 'set' then
    for _, member in ipairs(redis.call('SMEMBERS', legacy)) do deleted = deleted + redis.call('DEL', member) end
    redis.call('DEL', legacy)
  end
end
return deleted
"""

# The kind of the per-key index: "x" since it became a sorted set. "t" held the earlier plain
# sets, which a save would fail on (WRONGTYPE); purges still empty them (PURGE_SCRIPT) until the
# pages they list have expired.
INDEX = "x"
LEGACY_INDEX = "t"

# Whether any key's purge mark (KEYS[2..]) is after the clock ARGV[1], then the purge-time
# floor and the purge times of the tags ARGV[2..] (KEYS[1], set up on first use). With no marks
# given it is the purge times alone (changed_at).
FRESHNESS_SCRIPT = """
local since = tonumber(ARGV[1])
local purged = 0
for i = 2, #KEYS do
  local marked = redis.call('GET', KEYS[i])
  if marked and tonumber(marked) > since then purged = 1 break end
end
local t = redis.call('TIME')
redis.call('HSETNX', KEYS[1], '_floor', t[1] .. '.' .. string.format('%06d', tonumber(t[2])))
local times = redis.call('HMGET', KEYS[1], '_floor', unpack(ARGV, 2))
table.insert(times, 1, purged)
return times
"""

UNKNOWN_CHANGE = float("inf")  # purges unchecked: no Last-Modified, a short s-maxage


class RedisStore(Store):
    """Pages in Redis, shared by every process and machine: a purge is seen by all at once.

    Redis errors never fail a request: a lookup that fails is a miss, a save that fails is
    skipped, and a purge that fails is logged (pages then live until their lifetime ends).
    """

    shared = True

    def __init__(self, url: str, prefix: str):
        import redis

        self.prefix = prefix
        self.client = redis.Redis.from_url(
            url, socket_timeout=1.0, socket_connect_timeout=1.0, health_check_interval=30
        )
        self._save = self.client.register_script(SAVE_SCRIPT)
        self._purge = self.client.register_script(PURGE_SCRIPT)
        self._freshness = self.client.register_script(FRESHNESS_SCRIPT)

    def _k(self, kind: str, name: str) -> str:
        return f"{self.prefix}:{kind}:{name}"

    @property
    def _clock_key(self) -> str:
        return f"{self.prefix}:clock"

    @property
    def _changed_key(self) -> str:
        return f"{self.prefix}:changed"

    def lookup(self, key):
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.get(self._k("e", key))
            pipe.get(self._clock_key)
            blob, clock = pipe.execute()
        except Exception:
            logger.warning("page cache: Redis lookup failed", exc_info=True)
            return None, -1  # -1: save() will refuse (the clock is unknown)
        return (Entry.decode(blob) if blob else None), int(clock or 0)

    def save(self, key, entry, tags, ttl, since):
        if since < 0:
            return False
        tags = sorted(tags)
        keys = [self._k("e", key), *(self._k("p", t) for t in tags), *(self._k(INDEX, t) for t in tags)]
        try:
            return bool(self._save(keys=keys, args=[since, int(ttl), entry.encode(), len(tags)]))
        except Exception:
            logger.warning("page cache: Redis save failed", exc_info=True)
            return False

    def freshness(self, since, tags):
        # With Redis unreachable (the lookup's clock unknown, or this read failing), whether a
        # purge raced the render is unknown: UNKNOWN_CHANGE says so, and the page goes out
        # undated, and public for shared caches only briefly (middleware). After a failed
        # lookup Redis is not asked again: each ask could wait for the socket's timeout.
        if since < 0:
            return False, UNKNOWN_CHANGE
        tags = sorted(set(tags))
        try:
            purged, *times = self._freshness(
                keys=[self._changed_key, *(self._k("p", t) for t in tags)], args=[since, *tags]
            )
        except Exception:
            logger.warning("page cache: Redis read of purge marks and times failed", exc_info=True)
            return False, UNKNOWN_CHANGE
        return bool(purged), max(float(value) for value in times if value is not None)

    def purge(self, tags, when=None):  # one shared store: Redis's own clock times every purge
        tags = sorted(set(tags))
        if not tags:
            return 0
        keys = [
            self._clock_key,
            self._changed_key,
            *(self._k("p", t) for t in tags),
            *(self._k(INDEX, t) for t in tags),
            *(self._k(LEGACY_INDEX, t) for t in tags),
        ]
        args = [len(tags), PURGE_MEMORY_SECONDS * 5, MAX_CHANGE_TIMES, *tags]
        return int(self._purge(keys=keys, args=args))  # errors are the caller's to log

    def changed_at(self, tags):
        try:
            _, *values = self._freshness(keys=[self._changed_key], args=[0, *sorted(set(tags))])
        except Exception:
            logger.warning("page cache: Redis read of purge times failed", exc_info=True)
            return UNKNOWN_CHANGE
        return max(float(value) for value in values if value is not None)

    def clear(self):
        for name in self.client.scan_iter(match=f"{self.prefix}:*", count=1000):
            self.client.delete(name)


_lock = threading.Lock()
_store: tuple[tuple, Store] | None = None


def _config() -> tuple:
    return (
        os.getpid(),  # a forked worker builds its own (gunicorn preloads the app in its master)
        bool(conf.get("MASTHEAD_PAGE_CACHE")),
        conf.redis_url(),
        conf.get("MASTHEAD_CACHE_PREFIX"),
        conf.get("MASTHEAD_CACHE_MAX_MB"),
    )


def get_store() -> Store:
    """This process's store, built on first use (and again after a fork or a settings change)."""
    global _store
    config = _config()
    current = _store
    if current is not None and current[0] == config:
        return current[1]
    with _lock:
        if _store is None or _store[0] != config:
            _, enabled, url, prefix, max_mb = config
            if not enabled:
                store: Store = NullStore()
            elif url:
                store = RedisStore(url, prefix)
            else:
                store = LocalStore(int(float(max_mb) * 1024 * 1024))
            _store = (config, store)
        return _store[1]
