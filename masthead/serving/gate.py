"""One render at a time per process, while the thread pool stays free for what waits.

Rendering a page is Python under one GIL per process: two threads rendering at once take as
long as the two one after the other, plus the cost of handing the GIL back and forth at every
query and every switch interval. Measured on the uncached seed article (2 cores, interleaved
rounds, BENCHMARKS.md "One render at a time per worker"): 2 processes with this gate served
about 10 % more requests a second than the old 3 processes x 4 threads, with a p99 of 160-208
ms against 270-317 ms; the same order held on PostgreSQL.

A pool of one thread would give that too, but then a thread waiting on something other than
the CPU would stop its process. So the pool keeps its threads and this gate lets one request
at a time into Django. Two kinds pass beside it:
- a request whose body streams from the client (an upload too large to be buffered,
  masthead.serving.bridge): it spends its time waiting for bytes, not rendering;
- static files and media under STATIC_URL and MEDIA_URL: WhiteNoise and masthead's file
  view only open a file, which the event loop then sends (masthead.serving.files), so a
  reader's stylesheet never queues behind a slow page.
Pages in the process's own page store are answered in the event loop and never reach a thread
(masthead.caching.asgi); with a shared (Redis) store, a hit is a quick read in a thread, behind
any render in progress.

The cost: a render that waits (a slow query, a Varnish ban up to VARNISH_TIMEOUT) delays the
renders queued behind it in the same process, as under gunicorn's sync worker; the other
processes go on. Emails are sent by a thread of their own (masthead/mail.py) for this reason. Threads queued at the gate still occupy the pool, so under a long queue an upload waits
for a free thread.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterable

STREAMS_BODY = "masthead.streams_body"  # set in the ASGI scope by bridge.BufferedBody

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


class RenderGate:
    """WSGI middleware: at most `renders` requests inside the application at once, but for
    those under `beside` (URL path prefixes) and those whose body streams.

    The gate is held while the application builds its response, not while the response is
    sent: Django renders an ordinary page before returning it, and a2wsgi then writes it to
    the client from the event loop. A streamed response (a file, a long export) is produced
    while it is sent, and so outside the gate."""

    def __init__(self, app: WSGIApp, renders: int = 1, beside: Iterable[str] = ()) -> None:
        if renders < 1:
            raise ValueError("renders must be at least 1")
        self.app = app
        self.slots = threading.BoundedSemaphore(renders)
        self.beside = tuple(prefix for prefix in beside if prefix and prefix != "/")

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ.get("asgi.scope", {}).get(STREAMS_BODY) or environ.get("PATH_INFO", "").startswith(self.beside):
            return self.app(environ, start_response)
        with self.slots:
            return self.app(environ, start_response)


def file_prefixes() -> list[str]:
    """STATIC_URL and MEDIA_URL as path prefixes (an absolute URL, a CDN's, serves nothing here)."""
    from django.conf import settings

    return [url for url in (settings.STATIC_URL, settings.MEDIA_URL) if url and url.startswith("/")]
