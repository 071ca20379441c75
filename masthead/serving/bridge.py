"""masthead's WSGI application behind an asyncio server, so that slow clients cost no thread.

gunicorn's `asgi` worker reads request headers and writes responses in its event loop, where a
connection that trickles its request byte by byte (slowloris), or reads its response a few bytes
a second, is a buffer and a timer rather than a blocked thread. Django stays a WSGI application
(no async views, one database connection per thread as before): a2wsgi runs it in a pool of
threads, which only ever see complete requests. Stored pages do not even need a thread: they
are answered in the loop (masthead.caching.asgi). Files are handed over to the loop by the
thread that opened them and sent from there (masthead.serving.files).

a2wsgi alone would still read a request *body* from its thread, a chunk at a time as it arrives,
so a client trickling a comment POST would hold a thread; `BufferedBody` reads bodies up to
`BUFFER_BYTES` in the event loop first, within a per-process budget. Larger bodies (an editor's
image upload) stream as they come: they need a logged-in editor, and buffering them would cost
memory per upload.

A body must also keep coming. gunicorn has no deadline for a request body, so a client could
hold its budget share, or a thread once its body streams, by sending a byte now and then. Each
body gets `BODY_IDLE_SECONDS` between chunks and, after `BODY_GRACE_SECONDS`, must keep an
average of `BODY_MIN_RATE` bytes a second (nginx's client_body_timeout is the idle rule alone).
A body cut while it is still being buffered is answered 408 in the event loop and the application
never sees it; one cut while it streams ends in the thread as a read error (Django's
UnreadablePostError), never as a shortened form that could be saved. The same goes for a client
that disconnects in the middle of its body.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Awaitable, Callable

from .gate import STREAMS_BODY, RenderGate, file_prefixes

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

BUFFER_BYTES = 2_621_440  # Django's DATA_UPLOAD_MAX_MEMORY_SIZE: a form larger than that is refused anyway
BUDGET_BYTES = 32 * 1024 * 1024  # all bodies being buffered in one process at once
BODY_IDLE_SECONDS = 15.0  # no byte of the body for this long: the client stalled or left
BODY_GRACE_SECONDS = 10.0  # before the rate rule applies: a slow start, a mobile radio waking
BODY_MIN_RATE = 8192  # bytes a second on average after the grace: 2.5 MB in about five minutes


class BodyTimeout(TimeoutError):
    """The request body stopped arriving fast enough (an OSError, as Django expects from a
    broken input stream)."""


class ClientGone(ConnectionResetError):
    """The client disconnected before its body ended (an OSError, as Django expects)."""


class BodyClock:
    """When the next chunk of one body must have arrived.

    Only the time spent waiting for the client counts. While the application is not asking
    for data (a body streaming to a thread that is still queued, or busy with the chunk before)
    the server stops reading the socket, so that time is the server's, not the client's: the
    clock is moved on by it before each wait."""

    def __init__(self, idle: float, grace: float, min_rate: float):
        self.idle, self.grace, self.min_rate = idle, grace, min_rate
        self.started = self.last = self.handed = time.monotonic()
        self.received = 0

    def got(self, size: int) -> None:
        self.received += size
        self.last = self.handed = time.monotonic()

    def seconds_left(self) -> float:
        by_idle = self.last + self.idle
        by_rate = self.started + self.grace + self.received / self.min_rate
        return min(by_idle, by_rate) - time.monotonic()

    async def next(self, receive: Receive) -> Message:
        not_asked = time.monotonic() - self.handed
        self.started += not_asked
        self.last += not_asked
        left = self.seconds_left()
        if left <= 0:
            raise self._timeout()
        try:
            message = await asyncio.wait_for(receive(), left)
        except asyncio.TimeoutError:
            raise self._timeout() from None
        self.got(len(message.get("body", b"")))
        return message

    def _timeout(self) -> BodyTimeout:
        return BodyTimeout(f"request body: {self.received} bytes in {time.monotonic() - self.started:.0f} s")


class BufferedBody:
    """ASGI middleware: the request body is received in full (up to `limit`) before the
    application runs, then replayed to it from memory.

    Memory is bounded per process, not only per request: up to a thousand connections may each
    be sending a body, and 2.5 MB each would be gigabytes. Bodies share a budget of
    `budget` bytes; a body arriving when the budget is spent streams to its thread as it comes,
    as an upload beyond `limit` does. A comment (a few kilobytes) always finds room unless the
    process is already buffering megabytes for other clients.
    """

    def __init__(
        self,
        app: ASGIApp,
        limit: int = BUFFER_BYTES,
        budget: int = BUDGET_BYTES,
        idle: float = BODY_IDLE_SECONDS,
        grace: float = BODY_GRACE_SECONDS,
        min_rate: float = BODY_MIN_RATE,
    ):
        self.app = app
        self.limit = limit
        self.budget = budget
        self.clock_rules = (idle, grace, min_rate)
        self.in_use = 0  # bytes received and not yet handed over (one event loop: no lock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _may_have_body(scope):
            await self.app(scope, receive, send)
            return
        buffered: list[Message] = []
        held = 0
        clock = BodyClock(*self.clock_rules)
        try:
            while True:
                try:
                    message = await clock.next(receive)
                except BodyTimeout:
                    await _request_timeout(send)
                    return
                if message["type"] == "http.disconnect":
                    return  # the client left before its body ended: nobody to answer, nothing to run
                buffered.append(message)
                chunk = len(message.get("body", b""))
                held += chunk
                self.in_use += chunk
                if message["type"] != "http.request" or not message.get("more_body"):
                    break
                if held > self.limit or self.in_use > self.budget:
                    scope[STREAMS_BODY] = True  # it waits on the client: not held by the render gate
                    break  # the rest streams from the client as the application reads it

            async def replay() -> Message:
                nonlocal held
                if buffered:
                    message = buffered.pop(0)
                    given = len(message.get("body", b""))  # the application holds it now
                    held -= given
                    self.in_use -= given
                    return message
                message = await clock.next(receive)  # BodyTimeout reaches the thread reading it
                if message["type"] == "http.disconnect":
                    # a2wsgi would take this for the body's end: Django would parse a prefix
                    raise ClientGone("the client disconnected before its request body ended")
                return message

            await self.app(scope, replay, send)
        finally:
            self.in_use -= held


async def _request_timeout(send: Send) -> None:
    body = b"The request body did not arrive in time.\n"
    await send(
        {
            "type": "http.response.start",
            "status": 408,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _may_have_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return value.strip() not in (b"", b"0")
        if name == b"transfer-encoding":
            return True
    return False


def asgi_application(threads: int, renders: int, send_timeout: float) -> ASGIApp:
    """masthead.wsgi.application as an ASGI application, run in `threads` threads per process,
    `renders` of them inside Django at once (masthead.serving.gate); a file's reader who takes
    nothing for `send_timeout` seconds is given up (masthead.serving.files)."""
    from masthead.caching.asgi import HitsInLoop
    from masthead.wsgi import application

    from .files import FilesFromLoop, offer_file_wrapper
    from .memory import FreezeWhenWarm, freeze
    from .responses import WholeResponses

    gated = RenderGate(offer_file_wrapper(FreezeWhenWarm(application)), renders, beside=file_prefixes())
    django = WholeResponses(gated, workers=threads)
    app = BufferedBody(HitsInLoop(FilesFromLoop(django, send_timeout)))
    freeze()  # in gunicorn's master (preload_app): what every worker inherits
    return app
