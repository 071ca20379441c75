"""One render at a time per process, while the thread pool stays free for what waits.

Rendering a page is Python under one GIL per process: two threads rendering at once take as
long as the two one after the other, plus the cost of handing the GIL back and forth at every
query and every switch interval. Measured on the uncached seed article (2 cores, interleaved
rounds, BENCHMARKS.md "Server: one render at a time"): 2 processes x 1 thread served 9-19 % more
requests a second than the old 3 processes x 4 threads, on SQLite and on PostgreSQL alike.

A pool of one thread would give that too, but then a thread waiting on something other than
the CPU would stop its process: an editor's upload too large to be buffered streams to its
thread at the client's pace (masthead.serving.bridge). So the pool keeps its threads and this
gate lets one request at a time into Django; a request whose body streams from the client
passes beside it, since it spends its time waiting for bytes, not rendering. Cached pages are
answered in the event loop (masthead.caching.asgi) and never reach the gate, so a long render
delays only the renders queued behind it in the same process, as under gunicorn's sync worker.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterable

STREAMS_BODY = "masthead.streams_body"  # set in the ASGI scope by bridge.BufferedBody

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


class RenderGate:
    """WSGI middleware: at most `renders` requests inside the application at once.

    The gate is held while the application builds its response, not while the response is
    sent: Django renders an ordinary page before returning it, and a2wsgi then writes it to
    the client from the event loop. A streamed response (a file, a long export) is produced
    while it is sent and so outside the gate."""

    def __init__(self, app: WSGIApp, renders: int = 1):
        if renders < 1:
            raise ValueError("renders must be at least 1")
        self.app = app
        self.slots = threading.BoundedSemaphore(renders)

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ.get("asgi.scope", {}).get(STREAMS_BODY):
            return self.app(environ, start_response)
        with self.slots:
            return self.app(environ, start_response)
