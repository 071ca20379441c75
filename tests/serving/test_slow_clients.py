"""Slow clients must not starve the others: `masthead serve` under slowloris and slow readers.

A thread-per-connection server (gunicorn's gthread) gives each connection a thread from the
moment its first byte arrives until its response is sent, so a few dozen clients that trickle a
request byte by byte, or read a response a few bytes at a time, hold every thread and everyone
else waits. This starts the real server with few processes (so the attack is cheap to mount
here; more processes only raise the number of attackers needed) and checks that an ordinary
reader still gets the home page within a second or two while the attack goes on.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path


import pytest

from .support import get, module_server

pytestmark = pytest.mark.own_data  # its process-driving tests run once, outside both passes (tests/conftest.py)

SLOWLORIS = 40  # connections trickling a request header, one byte each TRICKLE seconds
SLOW_READERS = 10  # connections reading a large response a few bytes a second
TRICKLE = 0.5
ATTACK_SECONDS = 4.0  # how long the attack runs before the ordinary reader asks
PROBE_TIMEOUT = 10.0  # the ordinary reader gives up after this (a failure, not a hang)
PROBE_BUDGET = 2.0  # seconds an ordinary request may take during the attack


server = module_server("--workers", "2")


def largest_static_file(server) -> str:
    """The URL of the largest uncompressed file collectstatic wrote (a big response to read slowly)."""
    root: Path = server["data"] / "static"
    files = [p for p in root.rglob("*") if p.is_file() and p.suffix in {".js", ".css", ".svg"}]
    biggest = max(files, key=lambda p: p.stat().st_size)
    assert biggest.stat().st_size > 100_000, biggest
    return "/static/" + biggest.relative_to(root).as_posix()


class Attack:
    """Slowloris and slow-reader connections, driven by one thread until stop()."""

    def __init__(self, port: int, big_path: str):
        self.port = port
        self.big_path = big_path
        self.stopping = threading.Event()
        self.sockets: list[socket.socket] = []
        self.opened = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _connect(self, rcvbuf: int | None = None) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)  # before connect: a small window
        sock.settimeout(2)
        sock.connect(("127.0.0.1", self.port))
        sock.settimeout(0.05)
        self.sockets.append(sock)
        self.opened += 1
        return sock

    def _run(self) -> None:
        request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slowloris\r\n"
        trickling = []
        for _ in range(SLOWLORIS):
            try:
                trickling.append([self._connect(), 0])
            except OSError:
                pass
        readers = []
        slow_request = f"GET {self.big_path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
        for _ in range(SLOW_READERS):
            try:
                sock = self._connect(rcvbuf=4096)
                sock.sendall(slow_request)
                readers.append(sock)
            except OSError:
                pass
        while not self.stopping.wait(TRICKLE):
            for slot in trickling:
                sock, sent = slot
                try:
                    # One byte at a time, never finishing the header (an endless X-a: header).
                    sock.send(request[sent : sent + 1] if sent < len(request) else b"a")
                    slot[1] += 1
                except OSError:
                    pass
            for sock in readers:
                try:
                    sock.recv(16)
                except OSError:
                    pass

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)
        for sock in self.sockets:
            sock.close()


def timed_get(url: str) -> tuple[float, int]:
    started = time.monotonic()
    try:
        status, _, body = get(url, timeout=PROBE_TIMEOUT)
    except OSError:
        return time.monotonic() - started, 0
    assert b"<html" in body
    return time.monotonic() - started, status


def test_an_ordinary_reader_is_served_during_a_slow_client_attack(server):
    base = server["base"]
    big = largest_static_file(server)
    assert timed_get(base + "/")[1] == 200
    attack = Attack(server["port"], big)
    attack.start()
    try:
        time.sleep(ATTACK_SECONDS)
        assert attack.opened >= SLOWLORIS + SLOW_READERS - 2
        timings = [timed_get(base + "/") for _ in range(5)]
    finally:
        attack.stop()
    print("ordinary requests during the attack (seconds, status):", timings)
    assert all(status == 200 for _, status in timings), timings
    assert max(seconds for seconds, _ in timings) < PROBE_BUDGET, timings
    # And the server is well once the attackers are gone.
    assert timed_get(base + "/")[1] == 200
