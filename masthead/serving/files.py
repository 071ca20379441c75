"""Files are sent from the event loop, so a reader who takes them slowly holds no thread.

a2wsgi sends a response from the thread that made it, a chunk at a time through a short
queue: once a client stops reading, the queue fills and the thread waits on the client. For a
page that is a few kilobytes the socket's buffers absorb it and the thread is free at once, but
an uploaded picture or document of some megabytes held a thread, one of four per process, for
as long as the reader cared to take. A handful of slow readers of the largest picture could
then stop a process from rendering anything else.

WSGI has a hook for this: a server may offer `wsgi.file_wrapper`, and Django hands it the open
file of every FileResponse (uploaded media, static files from WhiteNoise, documents) instead of
iterating it. `FileWrapper` (the thread's side) gives the loop a file descriptor of its own on
the same file and returns; `FilesFromLoop` (the loop's side) reads it in slices and sends each
when the client has taken the last. The thread is back in the pool once the response is
handed over, and its `close()` (Django's `request_finished`, database connections) runs there
as before.

Plain files on disk are handed over: whole, as the slice WhiteNoise cuts for a range request,
or inside Django's File (a Wagtail document in local storage). Anything else (a file in memory,
one in remote storage) is read in the thread, as a2wsgi did.
"""

from __future__ import annotations

import asyncio
import io
import os
import stat
from typing import Any, Callable, Iterable, Iterator

from django.core.files.base import File
from django.db.models.fields.files import FieldFile, ImageFieldFile
from whitenoise.responders import SlicedFile

from .bridge import ASGIApp, Message, Receive, Scope, Send

SLICE_BYTES = 64 * 1024  # read and sent at a time: asyncio's default write buffer high-water mark
# To make room for the next slice, or the sending stops (cf. nginx's send_timeout): the default
# of `masthead serve --send-timeout`, which also limits unsent data in the kernel (server.py).
SEND_IDLE_SECONDS = 60.0
# Django's own wrappers around an open file, unwrapped to reach it. Not their subclasses: one
# that overrides read() (a decrypting storage, say) must be read through it, in the thread.
PLAIN_WRAPPERS = (File, FieldFile, ImageFieldFile)


class ReaderStalled(ConnectionError):
    """The client stopped taking the file: sending it is given up."""


class FileCutShort(OSError):
    """The file lost bytes after Content-Length was sent: the response cannot be completed."""


class HandedOver(bytes):
    """An empty body chunk that carries an open file, for the loop to send `length` bytes of
    it from `offset` in its place."""

    file: io.FileIO
    offset: int
    length: int

    def __new__(cls, file: io.FileIO, offset: int, length: int) -> "HandedOver":
        chunk = super().__new__(cls, b"")
        chunk.file = file
        chunk.offset = offset
        chunk.length = length
        return chunk


def _own_copy(filelike: Any) -> HandedOver | None:
    """A descriptor of our own on `filelike`'s file, from where it stands to its end (or the
    end of WhiteNoise's slice); None when it is not a plain file on disk. The copy closes
    itself if it is dropped unsent."""
    limit = None
    if type(filelike) is SlicedFile:  # a range: the file, moved to its start, and a length
        filelike, limit = filelike.fileobj, filelike.remaining
    try:
        while type(filelike) in PLAIN_WRAPPERS:  # a document's FieldFile, around a File, around the file
            filelike = filelike.file
        if not isinstance(filelike, (io.BufferedReader, io.FileIO)):
            return None
        fd = filelike.fileno()
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            return None
        offset = filelike.tell()
        length = max(status.st_size - offset, 0)
        if limit is not None:
            length = min(length, limit)
        return HandedOver(io.FileIO(os.dup(fd), "rb"), offset, length)
    except (OSError, ValueError):  # closed, or no real descriptor
        return None


class FileWrapper:
    """`environ["wsgi.file_wrapper"]`: what Django returns for a FileResponse."""

    def __init__(self, filelike: Any, block_size: int = 8192):
        self.filelike = filelike
        self.block_size = block_size

    def __iter__(self) -> Iterator[bytes]:
        handed = _own_copy(self.filelike)
        if handed is not None:
            yield handed
            return
        while chunk := self.filelike.read(self.block_size):
            yield chunk

    def close(self) -> None:
        """Django's response.close (it patches the file's close to it): request_finished, in
        the thread that served the request. The loop's copy of the file is not affected."""
        self.filelike.close()


def offer_file_wrapper(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """WSGI middleware: offer `FileWrapper` to the application (a2wsgi offers none)."""

    def with_file_wrapper(environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ["wsgi.file_wrapper"] = FileWrapper
        return app(environ, start_response)

    return with_file_wrapper


def _content_length(start: Message) -> int | None:
    for name, value in start.get("headers", ()):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def send_file(
    handed: HandedOver, send: Send, promised: int | None = None, idle_seconds: float = SEND_IDLE_SECONDS
) -> None:
    """Send the file in slices, each once the client has taken the one before (the server's
    `send` waits for its buffer to drain), and no more than the `promised` Content-Length
    should the file have grown since Django measured it. Disk reads go to the loop's default
    executor, a moment each, never waiting on the client.

    A client that has not made room for the next slice within `idle_seconds` (the server
    waits until its buffer is down to 16 KB, so about 48 KB must have been taken) is given up:
    ReaderStalled. That frees the file and the loop's task. The connection is left to gunicorn,
    which closes it; asyncio would keep a socket with unsent data open until it is taken, and
    ASGI has no way to abort it, so the kernel does (`TCP_USER_TIMEOUT`, masthead.serving.server)."""
    loop = asyncio.get_running_loop()
    length = handed.length if promised is None else min(handed.length, promised)
    offset, end = handed.offset, handed.offset + length
    with handed.file as file:
        while offset < end:
            size = min(SLICE_BYTES, end - offset)
            chunk = await loop.run_in_executor(None, os.pread, file.fileno(), size, offset)
            if not chunk:  # the file was truncated meanwhile: fewer bytes than promised
                raise FileCutShort(f"{handed.file.name}: ended {end - offset} bytes early")
            offset += len(chunk)
            try:
                await asyncio.wait_for(
                    send({"type": "http.response.body", "body": chunk, "more_body": True}), idle_seconds
                )
            except TimeoutError:
                raise ReaderStalled(f"too little taken in {idle_seconds:g} s") from None


class FilesFromLoop:
    """ASGI middleware around a2wsgi: a handed-over file is sent from here, not the thread."""

    def __init__(self, app: ASGIApp, idle_seconds: float = SEND_IDLE_SECONDS):
        self.app = app
        self.idle_seconds = idle_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        promised: int | None = None

        async def send_files(message: Message) -> None:
            nonlocal promised
            body = message.get("body")
            if message["type"] == "http.response.start":
                promised = _content_length(message)
            if not isinstance(body, HandedOver):
                await send(message)
            elif scope["method"] == "HEAD":  # the headers are the answer
                body.file.close()
            else:
                await send_file(body, send, promised, self.idle_seconds)

        try:
            await self.app(scope, receive, send_files)
        except (ReaderStalled, FileCutShort):
            # Returning with the response unfinished makes gunicorn close the connection, so
            # the client sees a cut, never a short body on a connection kept alive (one line
            # in gunicorn's log, not a traceback per stalled reader).
            return
