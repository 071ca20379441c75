"""Files go out from the event loop: a slow reader of a large upload holds no thread
(masthead/serving/files.py)."""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import io
import os
import socket
import time

from whitenoise.responders import SlicedFile

import pytest

from masthead.serving.files import SLICE_BYTES, FilesFromLoop, FileWrapper, HandedOver

from .support import get, module_server

pytestmark = pytest.mark.own_data  # its process-driving tests run once, outside both passes (tests/conftest.py)


def _sent(app, method: str = "GET") -> list[dict]:
    """The messages `FilesFromLoop(app)` sends for one request."""
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    asyncio.run(FilesFromLoop(app)({"type": "http", "method": method}, receive, send))
    return sent


def _hand_over(filelike) -> HandedOver:
    """What the thread does with a FileResponse's file: hand it over, then close its own."""
    wrapper = FileWrapper(filelike)
    handed = next(iter(wrapper))
    wrapper.close()
    assert isinstance(handed, HandedOver)
    return handed


def _app_returning(wrapper: FileWrapper):
    """An ASGI application that sends what a2wsgi sends for a WSGI response of `wrapper`."""

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for chunk in wrapper:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        wrapper.close()
        await send({"type": "http.response.body", "body": b""})

    return app


def test_a_file_on_disk_is_handed_over_from_where_it_stands_and_closed_once_sent(tmp_path):
    data = os.urandom(3 * SLICE_BYTES + 123)
    path = tmp_path / "picture.bin"
    path.write_bytes(data)
    original = open(path, "rb")
    original.read(10)  # a response may start part-way (and the buffer reads ahead of it)
    wrapper = FileWrapper(original, 8192)
    chunks = list(wrapper)
    assert len(chunks) == 1 and isinstance(chunks[0], HandedOver)
    handed = chunks[0]
    wrapper.close()
    assert original.closed and not handed.file.closed  # the loop's copy outlives the thread's

    sent = _sent(_app_returning(FileWrapper(open(path, "rb"))))
    body = b"".join(m.get("body", b"") for m in sent[1:])
    assert body == data
    assert all(len(m["body"]) <= SLICE_BYTES for m in sent[1:])
    assert sent[-1] == {"type": "http.response.body", "body": b""}

    # The handed-over copy from above, sent on its own: from byte 10, then closed.

    async def app(scope, receive, send):
        await send({"type": "http.response.body", "body": handed, "more_body": True})

    sent_rest = _sent(app)
    assert b"".join(m["body"] for m in sent_rest) == data[10:]
    assert handed.file.closed


def test_a_head_request_sends_no_body_and_closes_the_file(tmp_path):
    path = tmp_path / "picture.bin"
    path.write_bytes(b"x" * 1000)
    handed = _hand_over(open(path, "rb"))

    async def app(scope, receive, send):
        await send({"type": "http.response.body", "body": handed, "more_body": True})

    assert _sent(app, method="HEAD") == []
    assert handed.file.closed


def test_what_is_not_a_plain_file_is_read_in_the_thread_as_before():
    wrapper = FileWrapper(io.BytesIO(b"a" * 10_000), 4096)
    chunks = list(wrapper)
    assert [len(c) for c in chunks] == [4096, 4096, 1808]
    assert not any(isinstance(c, HandedOver) for c in chunks)


# `masthead serve` with a single thread: one reader holding it would stop everything. Its send
# timeout is short, so that a reader who takes nothing is dropped within a test.
SEND_TIMEOUT = 2
one_thread = module_server("--workers", "1", "--threads", "1", "--send-timeout", str(SEND_TIMEOUT))


def reader_taking_nothing(server: dict, name: str) -> socket.socket:
    """A connection that has asked for a 64 MB upload (far more than the socket buffers and
    a2wsgi's queue hold), had its first bytes, and then takes nothing: its window is small and
    stays shut until it reads."""
    media = server["data"] / "media"
    media.mkdir(exist_ok=True)
    with open(media / name, "wb") as f:
        f.truncate(64 * 1024 * 1024)
    reader = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
    try:
        reader.connect(("127.0.0.1", server["port"]))
        reader.sendall(f"GET /media/{name} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        reader.settimeout(10)
        assert reader.recv(16).startswith(b"HTTP/1.1 200")  # it is being sent
    except BaseException:
        reader.close()
        raise
    return reader


def test_a_slow_reader_of_a_large_upload_holds_no_thread(one_thread):
    # Once before, so the measured request costs a render, not the process's first one.
    assert get(one_thread["base"] + "/admin/login/", timeout=30)[0] == 200
    reader = reader_taking_nothing(one_thread, "slow-reader.bin")
    try:
        time.sleep(1.0)
        started = time.monotonic()
        # A page no cache answers: it needs the process's only thread.
        try:
            status, _, body = get(one_thread["base"] + "/admin/login/", timeout=15)
        except TimeoutError:
            status, body = 0, b""
        waited = time.monotonic() - started
    finally:
        reader.close()
    assert waited < 5, f"the admin login page waited {waited:.1f} s behind a slow reader"
    assert status == 200 and b"<form" in body


@pytest.mark.skipif(not hasattr(socket, "TCP_USER_TIMEOUT"), reason="TCP_USER_TIMEOUT is Linux's")
def test_a_reader_who_takes_nothing_loses_the_connection_not_only_the_file(one_thread):
    """Once the sending stops, the connection must go too: asyncio keeps a socket open with the
    unsent rest of the response until the client takes it, so a client that never does would
    hold both for as long as it liked. The kernel aborts it (TCP_USER_TIMEOUT): when the client
    reads at last, it meets a reset, never the clean end of a short body."""
    reader = reader_taking_nothing(one_thread, "never-read.bin")
    try:
        time.sleep(SEND_TIMEOUT + 3)  # taking nothing meanwhile
        taken, outcome = 0, "still open"
        for _ in range(10_000):  # what was buffered before the reset, if anything, then the reset
            try:
                chunk = reader.recv(1 << 20)
            except ConnectionResetError:
                outcome = "reset"
                break
            except TimeoutError:
                break
            if not chunk:
                outcome = "closed cleanly"
                break
            taken += len(chunk)
    finally:
        reader.close()
    assert outcome == "reset", f"{outcome} after {taken:,} bytes"


def test_a_file_arrives_whole_and_head_has_only_headers(one_thread):
    media = one_thread["data"] / "media"
    media.mkdir(exist_ok=True)
    data = os.urandom(3 * 1024 * 1024 + 17)
    (media / "whole.bin").write_bytes(data)
    status, headers, body = get(one_thread["base"] + "/media/whole.bin")
    assert status == 200
    assert int(headers["content-length"]) == len(data)
    assert hashlib.sha256(body).digest() == hashlib.sha256(data).digest()

    conn = http.client.HTTPConnection("127.0.0.1", one_thread["port"], timeout=10)
    try:
        conn.request("HEAD", "/media/whole.bin")
        response = conn.getresponse()
        assert response.status == 200 and int(response.getheader("content-length")) == len(data)
        assert response.read() == b""
        # The connection is still in step: a second request on it gets its own answer.
        conn.request("GET", "/robots.txt")
        second = conn.getresponse()
        assert second.status == 200 and b"User-agent" in second.read()
    finally:
        conn.close()


def test_a_file_that_grows_after_the_headers_sends_what_they_promised(tmp_path):
    path = tmp_path / "growing.log"
    path.write_bytes(b"a" * 1000)
    opened = open(path, "rb")  # Django measures it here: Content-Length 1000
    with open(path, "ab") as more:
        more.write(b"b" * 500)  # and it grows before the thread hands it over
    wrapper = FileWrapper(opened)

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1000")]})
        for chunk in wrapper:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        wrapper.close()
        await send({"type": "http.response.body", "body": b""})

    sent = _sent(app)
    assert b"".join(m.get("body", b"") for m in sent[1:]) == b"a" * 1000


def test_a_range_of_a_static_file_is_handed_over_as_its_slice(tmp_path):
    """WhiteNoise answers a Range request with a slice of the file (SlicedFile)."""
    data = os.urandom(200_000)
    path = tmp_path / "big.js"
    path.write_bytes(data)
    handed = _hand_over(SlicedFile(open(path, "rb"), 1000, 150_999))
    assert isinstance(handed, HandedOver) and (handed.offset, handed.length) == (1000, 150_000)

    async def app(scope, receive, send):
        await send({"type": "http.response.body", "body": handed, "more_body": True})

    assert b"".join(m["body"] for m in _sent(app)) == data[1000:151_000]


def test_a_file_inside_djangos_file_wrapper_is_handed_over(tmp_path):
    """Wagtail serves a document as FileResponse(document.file), a FieldFile around the file."""
    from django.core.files.base import File

    path = tmp_path / "report.pdf"
    path.write_bytes(b"%PDF-" + b"x" * 5000)
    handed = _hand_over(File(open(path, "rb")))
    assert isinstance(handed, HandedOver) and (handed.offset, handed.length) == (0, 5005)
    handed.file.close()


def test_a_reader_who_takes_nothing_is_cut_off_and_the_file_closed(tmp_path):
    path = tmp_path / "picture.bin"
    path.write_bytes(b"x" * (3 * SLICE_BYTES))
    handed = _hand_over(open(path, "rb"))
    taken: list[bytes] = []

    async def app(scope, receive, send):
        await send({"type": "http.response.body", "body": handed, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def send(message):
        if taken:  # the client's window is full after the first slice, and never opens again
            await asyncio.Event().wait()
        taken.append(message["body"])

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    started = time.monotonic()
    asyncio.run(FilesFromLoop(app, idle_seconds=0.2)({"type": "http", "method": "GET"}, receive, send))
    assert time.monotonic() - started < 5
    assert [len(body) for body in taken] == [SLICE_BYTES]  # nor the final empty message
    assert handed.file.closed


def test_a_file_wrapper_that_reads_its_own_way_is_read_through_it_in_the_thread(tmp_path):
    """A storage's File subclass may change the bytes (decrypt, say): the raw file must not go out."""
    from django.core.files.base import File

    class Shouting(File):
        def read(self, size=-1):
            return self.file.read(size).upper()

    path = tmp_path / "note.txt"
    path.write_bytes(b"quiet words")
    wrapper = FileWrapper(Shouting(open(path, "rb")), 4)
    try:
        assert b"".join(wrapper) == b"QUIET WORDS"
    finally:
        wrapper.close()


def test_a_file_truncated_while_it_is_sent_leaves_the_response_unfinished(tmp_path):
    """Fewer bytes than Content-Length must end in a cut (the server then closes the
    connection), not in a complete-looking response a kept-alive client would misread."""
    path = tmp_path / "picture.bin"
    path.write_bytes(b"x" * (3 * SLICE_BYTES))
    handed = _hand_over(open(path, "rb"))
    sent: list[dict] = []

    async def app(scope, receive, send):
        headers = [(b"content-length", str(3 * SLICE_BYTES).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": handed, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def send(message):
        sent.append(message)
        if len(sent) == 2:  # after the first slice, the file is cut to half its size
            os.truncate(path, SLICE_BYTES + 100)

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    asyncio.run(FilesFromLoop(app)({"type": "http", "method": "GET"}, receive, send))  # no exception
    bodies = [m["body"] for m in sent[1:]]
    assert [len(b) for b in bodies] == [SLICE_BYTES, 100]  # then nothing, not even the final b""
    assert all(m.get("more_body") for m in sent[1:])
    assert handed.file.closed
