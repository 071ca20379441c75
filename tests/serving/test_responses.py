"""WholeResponses: a response already whole in memory reaches the event loop in one hand-over;
anything that streams still goes part by part, with a2wsgi's backpressure."""

from __future__ import annotations

import asyncio

import pytest
from a2wsgi.wsgi import WSGIResponder
from django.http import HttpResponse, StreamingHttpResponse

from masthead.serving.responses import WholeResponses

SCOPE = {
    "type": "http",
    "method": "GET",
    "path": "/",
    "query_string": b"",
    "http_version": "1.1",
    "headers": [],
}


async def no_body():
    return {"type": "http.request", "body": b"", "more_body": False}


def serve(app, waits: list | None = None) -> list[dict]:
    """The ASGI messages `app` (WSGI) answers one GET with. `waits` collects each time the
    application's thread waited on the event loop to queue a part (a2wsgi's send)."""
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    original = WSGIResponder.send  # a2wsgi's: queue a part on the loop and wait

    def counted(self, message):
        if waits is not None:
            waits.append(message["type"])
        return original(self, message)

    WSGIResponder.send = counted
    middleware = WholeResponses(app, workers=2)
    try:
        asyncio.run(middleware(dict(SCOPE), no_body, send))
    finally:
        WSGIResponder.send = original
        middleware.executor.shutdown()
    return sent


def django_app(response_for):
    """A WSGI application returning a Django response, as Django's WSGIHandler does: the
    response object itself is the iterable, after start_response."""

    def app(environ, start_response):
        response = response_for()
        start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
        return response

    return app


def test_a_page_in_memory_is_handed_over_without_waiting_on_the_loop():
    closed = []
    response = HttpResponse(b"<p>page</p>", content_type="text/html", status=201)
    response._resource_closers.append(lambda: closed.append(True))
    waits: list = []
    sent = serve(django_app(lambda: response), waits)
    assert waits == []
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 201
    assert (b"content-type", b"text/html") in sent[0]["headers"]
    assert sent[1]["body"] == b"<p>page</p>" and not sent[1].get("more_body")
    assert closed == [True]  # Django's close() (request_finished) still runs, in the thread


def test_a_streaming_response_still_goes_part_by_part():
    chunks = [b"one,", b"two,", b"three"]
    waits: list = []
    sent = serve(django_app(lambda: StreamingHttpResponse(iter(chunks))), waits)
    assert waits == ["http.response.start"] + ["http.response.body"] * 4
    assert [m["body"] for m in sent[1:]] == chunks + [b""]
    assert all(m.get("more_body") for m in sent[1:-1]) and not sent[-1].get("more_body")


def test_a_generator_that_starts_its_response_late_is_sent_in_order():
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"late"

    sent = serve(app)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body", "http.response.body"]
    assert sent[1]["body"] == b"late"


def test_wsgi_write_streams_from_the_first_call():
    def app(environ, start_response):
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written ")
        return [b"returned"]

    sent = serve(app)
    assert [m.get("body") for m in sent] == [None, b"written ", b"returned", b""]


def test_an_application_error_reaches_the_server():
    def app(environ, start_response):
        raise RuntimeError("broken view")

    with pytest.raises(RuntimeError, match="broken view"):
        serve(app)


def test_a_queue_too_short_for_a_whole_response_is_refused():
    with pytest.raises(ValueError, match="at least 2"):
        WholeResponses(lambda environ, start_response: [], send_queue_size=1)
