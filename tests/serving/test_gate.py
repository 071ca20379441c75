"""The render gate: one request inside Django at a time per process, and a body that streams
from its client waiting beside the gate rather than inside it."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from masthead.serving.bridge import BUFFER_BYTES
from masthead.serving.gate import STREAMS_BODY, RenderGate

from .support import get, module_server

pytestmark = pytest.mark.own_data  # its process-driving tests run once, outside both passes (tests/conftest.py)


class HeldApp:
    """A WSGI application that stays inside until released, counting who is inside."""

    def __init__(self):
        self.inside = 0
        self.most = 0
        self.entered = threading.Semaphore(0)
        self.release = threading.Event()
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            self.inside += 1
            self.most = max(self.most, self.inside)
        self.entered.release()
        self.release.wait(10)
        with self.lock:
            self.inside -= 1
        start_response("200 OK", [])
        return [b"ok"]


def call_in_thread(app, environ) -> threading.Thread:
    thread = threading.Thread(target=lambda: list(app(environ, lambda status, headers: None)), daemon=True)
    thread.start()
    return thread


def test_one_render_at_a_time():
    held = HeldApp()
    gate = RenderGate(held, renders=1)
    first = call_in_thread(gate, {"asgi.scope": {}})
    assert held.entered.acquire(timeout=5)
    second = call_in_thread(gate, {"asgi.scope": {}})
    assert not held.entered.acquire(timeout=0.3), "a second render entered while the first was inside"
    held.release.set()
    for thread in (first, second):
        thread.join(5)
        assert not thread.is_alive()
    assert held.most == 1 and held.inside == 0


def test_a_request_whose_body_streams_passes_beside_the_gate():
    held = HeldApp()
    gate = RenderGate(held, renders=1)
    render = call_in_thread(gate, {"asgi.scope": {}})
    assert held.entered.acquire(timeout=5)
    upload = call_in_thread(gate, {"asgi.scope": {STREAMS_BODY: True}})
    assert held.entered.acquire(timeout=5), "the streaming upload waited for the render"
    assert held.most == 2
    held.release.set()
    for thread in (render, upload):
        thread.join(5)
        assert not thread.is_alive()


def test_more_renders_when_asked():
    held = HeldApp()
    gate = RenderGate(held, renders=2)
    threads = [call_in_thread(gate, {"asgi.scope": {}}) for _ in range(3)]
    assert held.entered.acquire(timeout=5) and held.entered.acquire(timeout=5)
    assert not held.entered.acquire(timeout=0.3)
    held.release.set()
    for thread in threads:
        thread.join(5)
    assert held.most == 2


def test_static_files_and_media_pass_beside_the_gate():
    held = HeldApp()
    gate = RenderGate(held, renders=1, beside=["/static/", "/media/", "/"])  # "/" would be everything: ignored
    render = call_in_thread(gate, {"PATH_INFO": "/world/"})
    assert held.entered.acquire(timeout=5)
    files = [call_in_thread(gate, {"PATH_INFO": path}) for path in ("/static/site.css", "/media/images/a.jpg")]
    assert held.entered.acquire(timeout=5) and held.entered.acquire(timeout=5), "a file waited for the render"
    page = call_in_thread(gate, {"PATH_INFO": "/staticky/"})  # a page whose path only looks alike
    assert not held.entered.acquire(timeout=0.3)
    held.release.set()
    for thread in (render, *files, page):
        thread.join(5)
        assert not thread.is_alive()
    assert held.most == 3


def test_the_gate_is_released_when_the_application_raises():
    def failing(environ, start_response):
        raise RuntimeError("boom")

    gate = RenderGate(failing, renders=1)
    with pytest.raises(RuntimeError):
        gate({}, lambda status, headers: None)
    assert gate.slots.acquire(timeout=1), "the gate stayed closed after an error"


def test_a_streamed_response_is_sent_outside_the_gate():
    """Django returns a streaming response before producing its body: the body is read while
    the response is sent, after the gate has let the next render in."""
    gate_holder: list = []

    def streaming(environ, start_response):
        start_response("200 OK", [])

        def body():
            yield b"free: " + str(gate_holder[0].slots.acquire(blocking=False)).encode()

        return body()

    gate = RenderGate(streaming, renders=1)
    gate_holder.append(gate)
    assert b"".join(gate({}, lambda status, headers: None)) == b"free: True"


def test_no_renders_is_refused():
    with pytest.raises(ValueError):
        RenderGate(HeldApp(), renders=0)


# --- through the real server ------------------------------------------------------------------

one_process = module_server("--workers", "1", "--threads", "2")


def test_a_stalled_upload_does_not_stop_the_pages_of_its_process(one_process):
    """An editor's upload too large to buffer streams to a thread at the client's pace; here the
    client stops sending. With the one process's renders all behind the gate, the next request
    would wait for the upload's body to time out (15 s); beside it, the page comes at once.
    The page asked for is one the page cache never answers in the event loop (the admin's
    login form), so it needs the gate."""
    boundary = "masthead-test-boundary"
    head = (
        f"POST /admin/images/multiple/add/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Cookie: csrftoken={'a' * 32}\r\n"  # so that the CSRF check reads the form, body and all
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {BUFFER_BYTES * 2}\r\n\r\n"
    ).encode()
    part = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files[]"; filename="big.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    upload = socket.create_connection(("127.0.0.1", one_process["port"]), timeout=10)
    try:
        upload.sendall(head + part + b"\0" * (BUFFER_BYTES + 65536))  # past the buffer, then silence
        time.sleep(1)  # the server has handed the request to a thread, which waits for more
        started = time.monotonic()
        status, _, body = get(one_process["base"] + "/admin/login/", timeout=20)
        took = time.monotonic() - started
    finally:
        upload.close()
    assert status == 200 and b"<html" in body
    assert took < 8, f"the page took {took:.1f} s behind a stalled upload (the body times out at 15 s)"
