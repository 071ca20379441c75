"""Purging Varnish by surrogate key: a purge backend for masthead.caching.purge.

settings.VARNISH_URL names the Varnish server(s) running deploy/varnish/masthead.vcl, e.g.
"http://127.0.0.1:6081" or "http://10.0.0.5:6081,http://10.0.0.6:6081". When it is set,
settings add "masthead.caching.varnish.purge" to MASTHEAD_CACHE_PURGERS, and every purge
(after its transaction commits) becomes, on each server:

    BAN / HTTP/1.1
    Surrogate-Key: a12 s3 home feeds

which the VCL turns into a lurker-friendly ban of whole keys:

    obj.http.Surrogate-Key ~ (^|[[:space:]])(a12|s3|home|feeds)([[:space:]]|$)

A page can also reach Varnish old just after its ban: a render that read the database before
the commit and answers after the ban, or, without Redis (each process keeps its own page store
and applies other processes' purges within MASTHEAD_CACHE_POLL_SECONDS, see
masthead.caching.propagation), a process that has not looked at the purge log yet. Varnish
would keep that page for its s-maxage. So every ban is sent once more, VARNISH_REBAN_DELAY
seconds later: by default the poll interval plus 0.15 s with per-process stores, else 0.5 s.

A purge never raises into the publishing request: a server that is down, slow (VARNISH_TIMEOUT,
1 s by default) or refuses is logged at ERROR on the "masthead.caching.varnish" logger, and its
pages stay stale until their s-maxage runs out. Connections are kept open and reused, one pool
per server, safe across threads and forked workers.
"""

from __future__ import annotations

import http.client
import logging
import os
import re
import threading
import time
import urllib.parse
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

KEY = re.compile(r"[a-z0-9-]+")
MAX_KEYS_BYTES = 4000  # per BAN request: well inside Varnish's 8 KB limit for one header line
MAX_IDLE = 4  # idle connections kept per server
DEFAULT_TIMEOUT = 1.0  # seconds, for connecting and for the answer
# A kept-alive connection Varnish has closed meanwhile (its timeout_idle is 5 s) fails like this
# on reuse; the request is then sent once more on a fresh connection.
STALE_CONNECTION_ERRORS = (http.client.RemoteDisconnected, http.client.BadStatusLine, ConnectionError)


@dataclass(frozen=True)
class Server:
    host: str
    port: int

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def __str__(self) -> str:
        return f"http://{self.netloc}"


@dataclass(frozen=True)
class Outcome:
    server: Server
    ok: bool
    status: int | None  # HTTP status, None when no answer came
    detail: str  # Varnish's reason, or the error
    seconds: float


def parse_servers(value: str) -> list[Server]:
    """"http://a:6081, http://b" -> [Server(a, 6081), Server(b, 80)]; raises ValueError on nonsense."""
    servers = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        parts = urllib.parse.urlsplit(item if "://" in item else f"http://{item}")
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"VARNISH_URL entry {item!r}: expected http://HOST[:PORT]")
        servers.append(Server(parts.hostname, parts.port or 80))
    return servers


def clean_keys(keys: Iterable[str]) -> list[str]:
    """Lowercase, deduplicated, in first-seen order; anything but [a-z0-9-] is dropped and logged."""
    seen: dict[str, None] = {}
    for raw in keys:
        key = str(raw).strip().lower()
        if KEY.fullmatch(key):
            seen.setdefault(key, None)
        else:
            logger.warning("varnish purge: ignoring invalid surrogate key %r", raw)
    return list(seen)


def chunks(keys: list[str], limit: int = MAX_KEYS_BYTES) -> list[str]:
    """Space-separated groups of keys, each at most `limit` bytes."""
    groups: list[str] = []
    current: list[str] = []
    size = 0
    for key in keys:
        if current and size + 1 + len(key) > limit:
            groups.append(" ".join(current))
            current, size = [], 0
        size += len(key) + (1 if current else 0)
        current.append(key)
    if current:
        groups.append(" ".join(current))
    return groups


class ConnectionPool:
    """Idle keep-alive connections per server, shared by threads; emptied after a fork."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[Server, list[http.client.HTTPConnection]] = {}
        self._pid = os.getpid()

    def get(
        self, server: Server, timeout: float, fresh: bool = False
    ) -> tuple[http.client.HTTPConnection, bool]:
        """A connection to server, and whether it was reused (may have been closed by Varnish)."""
        with self._lock:
            if self._pid != os.getpid():  # a forked worker must not share its parent's sockets
                self._idle, self._pid = {}, os.getpid()
            idle = self._idle.get(server)
            if fresh and idle:  # one idle connection went stale: the others are as old
                for conn in idle:
                    conn.close()
                idle.clear()
            if idle:
                conn = idle.pop()
                conn.timeout = timeout
                if conn.sock is not None:
                    conn.sock.settimeout(timeout)
                return conn, True
        return http.client.HTTPConnection(server.host, server.port, timeout=timeout), False

    def put(self, server: Server, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(server, [])
            if self._pid == os.getpid() and len(idle) < MAX_IDLE:
                idle.append(conn)
                return
        conn.close()

    def clear(self) -> None:
        with self._lock:
            for idle in self._idle.values():
                for conn in idle:
                    conn.close()
            self._idle = {}


POOL = ConnectionPool()
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _request(
    server: Server, method: str, path: str, headers: dict[str, str], timeout: float
) -> tuple[int, str]:
    """One request on a pooled connection; a stale reused connection gets one retry on a fresh one."""
    for attempt in range(2):
        conn, reused = POOL.get(server, timeout, fresh=attempt > 0)
        try:
            conn.request(method, path, headers={"Host": server.netloc, "Content-Length": "0", **headers})
            response = conn.getresponse()
            body = response.read(2048)
            if response.will_close:
                conn.close()
            else:
                POOL.put(server, conn)
            return response.status, body.decode("utf-8", "replace").strip() or response.reason
        except STALE_CONNECTION_ERRORS:
            conn.close()
            if not reused or attempt:
                raise
        except BaseException:
            conn.close()
            raise
    raise AssertionError("unreachable")


def _ban_server(server: Server, groups: list[str], timeout: float) -> Outcome:
    started = time.monotonic()
    for group in groups:
        try:
            status, detail = _request(server, "BAN", "/", {"Surrogate-Key": group}, timeout)
        except Exception as exc:  # noqa: BLE001 (any failure: report it, never raise)
            return Outcome(server, False, None, f"{type(exc).__name__}: {exc}", time.monotonic() - started)
        if status != 200:
            return Outcome(server, False, status, detail[:200], time.monotonic() - started)
    return Outcome(server, True, 200, "Banned", time.monotonic() - started)


def _executor_for(workers: int) -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=max(4, workers), thread_name_prefix="varnish-purge")
        return _executor


def ban(keys: Iterable[str], servers: str | None = None, timeout: float | None = None) -> list[Outcome]:
    """Ban every object carrying any of `keys` on each server; one Outcome per server, never raises.

    servers and timeout default to settings.VARNISH_URL and settings.VARNISH_TIMEOUT. Several
    servers are banned in parallel, so one that hangs costs `timeout`, not `timeout` times N.
    """
    value = getattr(settings, "VARNISH_URL", "") if servers is None else servers
    if timeout is None:
        timeout = float(getattr(settings, "VARNISH_TIMEOUT", DEFAULT_TIMEOUT))
    try:
        targets = parse_servers(value or "")
    except ValueError as exc:
        logger.error("varnish purge: %s; nothing purged", exc)
        return []
    groups = chunks(clean_keys(keys))
    if not targets or not groups:
        return []
    if len(targets) == 1:
        outcomes = [_ban_server(targets[0], groups, timeout)]
    else:
        executor = _executor_for(len(targets))
        outcomes = list(executor.map(lambda server: _ban_server(server, groups, timeout), targets))
    for outcome in outcomes:
        count = sum(len(group.split(" ")) for group in groups)
        if outcome.ok:
            logger.debug(
                "varnish purge: %s banned %d keys in %.1f ms", outcome.server, count, outcome.seconds * 1000
            )
        else:
            shown = " ".join(groups)[:300]
            logger.error(
                "varnish purge FAILED at %s (%s%s) after %.0f ms; pages with keys [%s] stay cached there "
                "until their s-maxage runs out",
                outcome.server,
                f"HTTP {outcome.status}: " if outcome.status else "",
                outcome.detail,
                outcome.seconds * 1000,
                shown,
            )
    return outcomes


def reban_delay() -> float:
    """Seconds after a ban to ban the same keys again (0: never); see the module's docstring."""
    value = getattr(settings, "VARNISH_REBAN_DELAY", None)
    if value is not None:
        return max(0.0, float(value))
    from . import conf
    from .store import get_store

    if conf.get("MASTHEAD_PAGE_CACHE") and not get_store().shared:
        return float(conf.get("MASTHEAD_CACHE_POLL_SECONDS")) + 0.15
    return 0.5


class Rebans:
    """Keys to ban again at a given moment, sent by one thread that lives while any are due.

    The thread is not a daemon, so a short-lived process (a management command that published)
    sends its second ban before it exits."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._due: dict[str, float] = {}  # key -> monotonic time of its second ban
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def schedule(self, keys: list[str], delay: float) -> None:
        at = time.monotonic() + delay
        with self._lock:
            if self._pid != os.getpid():  # a forked child has no thread of its parent's
                self._due, self._thread, self._pid = {}, None, os.getpid()
            for key in keys:
                self._due[key] = max(self._due.get(key, 0.0), at)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="varnish-reban", daemon=False)
                self._thread.start()
            self._lock.notify()

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._due:
                    self._thread = None
                    return
                now = time.monotonic()
                ready = [key for key, at in self._due.items() if at <= now]
                if not ready:
                    self._lock.wait(min(self._due.values()) - now)
                    continue
                for key in ready:
                    del self._due[key]
            try:
                ban(ready)
            except Exception:  # noqa: BLE001
                logger.exception("varnish purge: the second ban of %r failed", ready[:50])

    def pending(self) -> set[str]:
        with self._lock:
            return set(self._due)


REBANS = Rebans()


def purge(keys: list[str]) -> None:
    """The MASTHEAD_CACHE_PURGERS backend: ban `keys` on every server in VARNISH_URL (and again
    once every process has applied the purge, when processes keep their own stores)."""
    try:
        keys = clean_keys(keys)
        ban(keys)
        delay = reban_delay()
        if delay and keys and getattr(settings, "VARNISH_URL", ""):
            REBANS.schedule(keys, delay)
    except Exception:  # noqa: BLE001 (a bug here must not fail a publish)
        logger.exception("varnish purge: unexpected error; keys %r", list(keys)[:50])


def varnishd_params(path: str | os.PathLike) -> list[str]:
    """The `-p name=value` arguments for varnishd from a params file such as
    deploy/varnish/varnishd.params: one `name=value` per line; blank lines and # comments
    skipped. A line that is not `name=value` raises ValueError naming it, rather than
    varnishd failing later on an argument split at a space."""
    args: list[str] = []
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep or not re.fullmatch(r"[a-z][a-z0-9_]*", name) or not value or any(c.isspace() for c in value):
            raise ValueError(f"{path}:{number}: expected name=value, got {line!r}")
        args += ["-p", line]
    return args
