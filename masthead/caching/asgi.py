"""Cache hits answered in the server's event loop, before any thread or Django handler runs.

`masthead serve` runs Django in a thread pool behind an asyncio server (masthead.serving.bridge),
which protects it from slow clients but costs every request a hand-off to a thread and back.
For a stored page that hand-off and Django's request handling are most of the work, so a hit
on the in-process store is answered here, by the same functions PageCacheMiddleware uses
(classify, cache_key, stored_answer): same bytes, same headers, same 304s.

Everything else goes to the thread pool as before: misses, personal requests, a Redis store
(its lookups are network calls, which must not block the loop) and any request arriving when
this process is due to read the purge log (the middleware reads it, in a thread, first).
Only active when PageCacheMiddleware is the first middleware, as in masthead.settings.
"""

from __future__ import annotations

import io
from typing import Any, Awaitable, Callable

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse

from . import conf
from .middleware import PUBLIC, cache_key, classify, stored_answer
from .propagation import poller_for
from .store import get_store

Scope = dict[str, Any]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Any, Send], Awaitable[None]]

MIDDLEWARE = "masthead.caching.middleware.PageCacheMiddleware"


def answer_from_store(scope: Scope) -> HttpResponse | None:
    """The stored answer to this request if it is a public hit in the in-process store."""
    if scope.get("type") != "http" or scope.get("method") not in ("GET", "HEAD"):
        return None
    if not conf.get("MASTHEAD_PAGE_CACHE"):
        return None
    store = get_store()
    if store.shared or poller_for(store).due():
        return None
    request = ASGIRequest(scope, io.BytesIO())
    if classify(request) != PUBLIC:
        return None
    key = cache_key(request)
    if key is None:
        return None
    response, _clock = stored_answer(request, store, key)
    return response


class HitsInLoop:
    """ASGI middleware: stored pages from the loop, everything else to `app`."""

    def __init__(self, app: ASGIApp):
        self.app = app
        self.active = bool(settings.MIDDLEWARE) and settings.MIDDLEWARE[0] == MIDDLEWARE

    async def __call__(self, scope: Scope, receive, send: Send) -> None:
        response = answer_from_store(scope) if self.active else None
        if response is None:
            await self.app(scope, receive, send)
            return
        body = response.content
        fields = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in response.items()]
        if not response.has_header("Content-Length"):
            fields.append((b"content-length", str(len(body)).encode("ascii")))
        await send({"type": "http.response.start", "status": response.status_code, "headers": fields})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
