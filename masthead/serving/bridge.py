"""masthead's WSGI application behind an asyncio server, so that slow clients cost no thread.

gunicorn's `asgi` worker reads request headers and writes responses in its event loop, where a
connection that trickles its request byte by byte (slowloris), or reads its response a few bytes
a second, is a buffer and a timer rather than a blocked thread. Django stays a WSGI application
(no async views, one database connection per thread as before): a2wsgi runs it in a pool of
threads, which only ever see complete requests. Stored pages do not even need a thread: they
are answered in the loop (masthead.caching.asgi).

a2wsgi alone would still read a request *body* from its thread, a chunk at a time as it arrives,
so a client trickling a comment POST would hold a thread; `BufferedBody` reads bodies up to
`BUFFER_BYTES` in the event loop first, within a per-process budget. Larger bodies (an editor's
image upload) stream as they come: they need a logged-in editor, and buffering them would cost
memory per upload.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

BUFFER_BYTES = 2_621_440  # Django's DATA_UPLOAD_MAX_MEMORY_SIZE: a form larger than that is refused anyway
BUDGET_BYTES = 32 * 1024 * 1024  # all bodies being buffered in one process at once


class BufferedBody:
    """ASGI middleware: the request body is received in full (up to `limit`) before the
    application runs, then replayed to it from memory.

    Memory is bounded per process, not only per request: up to a thousand connections may each
    be sending a body, and 2.5 MB each would be gigabytes. Bodies share a budget of
    `budget` bytes; a body arriving when the budget is spent streams to its thread as it comes,
    as an upload beyond `limit` does. A comment (a few kilobytes) always finds room unless the
    process is already buffering megabytes for other clients.
    """

    def __init__(self, app: ASGIApp, limit: int = BUFFER_BYTES, budget: int = BUDGET_BYTES):
        self.app = app
        self.limit = limit
        self.budget = budget
        self.in_use = 0  # bytes received and not yet handed over (one event loop: no lock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _may_have_body(scope):
            await self.app(scope, receive, send)
            return
        buffered: list[Message] = []
        held = 0
        try:
            while True:
                message = await receive()
                buffered.append(message)
                chunk = len(message.get("body", b""))
                held += chunk
                self.in_use += chunk
                if message["type"] != "http.request" or not message.get("more_body"):
                    break
                if held > self.limit or self.in_use > self.budget:
                    break  # the rest streams from the client as the application reads it

            async def replay() -> Message:
                nonlocal held
                if buffered:
                    message = buffered.pop(0)
                    given = len(message.get("body", b""))  # the application holds it now
                    held -= given
                    self.in_use -= given
                    return message
                return await receive()

            await self.app(scope, replay, send)
        finally:
            self.in_use -= held


def _may_have_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return value.strip() not in (b"", b"0")
        if name == b"transfer-encoding":
            return True
    return False


def asgi_application(threads: int) -> ASGIApp:
    """masthead.wsgi.application as an ASGI application, run in `threads` threads per process."""
    from a2wsgi import WSGIMiddleware

    from masthead.caching.asgi import HitsInLoop
    from masthead.wsgi import application

    return BufferedBody(HitsInLoop(WSGIMiddleware(application, workers=threads)))
