"""A response that is already whole in memory is handed to the event loop in one piece.

a2wsgi sends each part of a response from the application's thread (the status and headers,
each chunk of the body, then the end) by scheduling it on the event loop and waiting until the
loop has queued it. An ordinary page is three such waits: three wake-ups of the loop, and three
hand-overs of the GIL between a thread that wants to go on and a loop that has other
connections to serve. On a request that costs little else (robots.txt), that made
`masthead serve` answer about a third fewer requests a second than gunicorn's plain sync worker
(BENCHMARKS.md, "A sixth machine").

A Django response that does not stream (HttpResponse: every page, feed, sitemap and API answer)
holds its whole body when the application returns it, so there is nothing to wait for: the
thread hands over the start and the body together, without waiting, and returns. Everything
else (a StreamingHttpResponse, a file through `wsgi.file_wrapper`, an application that calls
WSGI's write()) goes through a2wsgi's path unchanged, part by part, with its backpressure.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Optional

from a2wsgi.wsgi import WSGIMiddleware, WSGIResponder

from .bridge import Receive, Scope, Send

Message = dict[str, Any]


class WholeResponses(WSGIMiddleware):
    """a2wsgi's WSGIMiddleware, with WholeResponder answering HTTP requests."""

    def __init__(self, app: Callable, workers: int = 10, send_queue_size: int = 10) -> None:
        if send_queue_size < 2:  # a whole response is two messages, queued at once
            raise ValueError("send_queue_size must be at least 2")
        super().__init__(app, workers=workers, send_queue_size=send_queue_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        await WholeResponder(self.app, self.executor, self.send_queue_size)(scope, receive, send)


class WholeResponder(WSGIResponder):
    """Holds the response's start until it knows whether the body is whole in memory."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.start: Optional[Message] = None  # the start a2wsgi's start_response made, held

    def send(self, message: Message) -> None:
        """a2wsgi's send (queue on the loop and wait), but the start waits for the body: it goes
        with the first part sent this way, or with the whole body in `wsgi`."""
        if message["type"] == "http.response.start":
            self.start = message
            return
        if self.start is not None:
            start, self.start = self.start, None
            super().send(start)
        super().send(message)

    def wsgi(self, environ: dict, start_response: Callable) -> None:
        iterable = self.app(environ, start_response)
        try:
            if self.start is not None and getattr(iterable, "streaming", None) is False:
                body = b"".join(iterable)
                start, self.start = self.start, None
                whole = [start, {"type": "http.response.body", "body": body}]
                # Queued by the loop before the end of the response that a2wsgi queues once
                # this thread returns: the loop runs the callbacks in the order they were made.
                self.loop.call_soon_threadsafe(self.queue_all, whole)
                return
            for chunk in iterable:
                self.send({"type": "http.response.body", "body": chunk, "more_body": True})
            self.send({"type": "http.response.body", "body": b""})
        finally:
            getattr(iterable, "close", lambda: None)()

    def queue_all(self, messages: Iterable[Message]) -> None:
        """In the loop: nothing else has been queued, and the queue holds at least two."""
        for message in messages:
            self.send_queue.put_nowait(message)
