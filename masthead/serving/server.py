"""Gunicorn embedded as a library, so `masthead serve` needs no separate config file.

Why these settings:

* `worker_class="asgi"` (gunicorn's own asyncio worker) with masthead's WSGI application run by
  a2wsgi in a pool of `threads` threads (masthead.serving.bridge). The event loop reads request
  headers and bodies and writes responses, so a client that trickles its request byte by byte
  (slowloris) or reads its response a few bytes at a time holds a buffer, not a thread. Until
  this, the worker was `gthread`, which gives a connection a thread from its first byte to its
  last: tests/serving/test_slow_clients.py (40 trickling and 10 slow-reading connections against
  2 processes x 4 threads) left 2 ordinary requests out of 5 without an answer after 10 s; with
  this worker all 5 take 1-15 ms. More gthread threads would only raise the number of attackers
  needed, and each thread is a possible database connection.
* `workers` = cores: rendering is CPU-bound Python under one GIL per process, so processes use
  the cores. An extra process, meant to keep a core busy while another waits on the database,
  cost throughput instead (measured: 3 processes served 5-8 % fewer uncached articles a second
  than 2 on this 2-core machine, on SQLite and PostgreSQL; PostgreSQL's own processes fill
  those waits).
* `threads` (default 4) per process, of which `renders` (default 1) are inside Django at once
  (masthead.serving.gate): two renders sharing a GIL finish no sooner than one after the
  other, and the handing over of the GIL costs 5-10 % more. The other threads carry what waits
  rather than renders: an upload streaming from its client, static files and media (see the
  gate's docstring for what a render that waits costs). Each thread may keep a database
  connection (CONN_MAX_AGE).
* `worker_connections` (gunicorn's default, 1,000 per process) bounds open connections, idle or
  slow ones included. gunicorn has no deadline for a request's headers: for a public site, put
  Varnish or a TLS terminator in front (deploy/varnish), whose own timeouts drop idle attackers.
* `reuse_port`: each worker listens on a socket of its own (SO_REUSEPORT) and the kernel shares
  new connections out between them. With one shared socket the event loop that woke first
  accepted every waiting connection at once, so a burst of keep-alive clients (a proxy's pool,
  a benchmark) all landed on one process while the other cores idled: 9.7 uncached requests/s
  against 14 with the work shared (tests/serving/test_workers.py). The cost: connections
  queued on a worker that is restarting are reset, so restarts should be rare (they are: no
  max_requests).
* `timeout` 30 s: a process whose event loop stops answering is restarted. `keepalive` 5 s.
* `send_timeout` (default 60 s, `masthead serve --send-timeout`): a connection whose client
  has taken nothing of what was sent to it for that long is aborted by the kernel
  (`TCP_USER_TIMEOUT` on the listening sockets, which every accepted connection inherits; a
  client whose window stays shut needs Linux 5.11 or later, where the limit also applies to
  zero-window probes), and a file's sending stops (masthead.serving.files). Without it, a client that opened its window
  to nothing kept its socket and the unsent part of a response after the sending stopped:
  asyncio closes such a transport only once its buffer is taken, and ASGI cannot abort one. It
  also drops a client that vanished with data in flight, after that time rather than after
  the kernel's 15 minutes of retransmissions. A paused download of more than the socket
  buffers hold is cut as well, as nginx's `send_timeout` does.
* `asgi_lifespan` off: Django has no startup or shutdown hooks to run.
* `preload_app`: the application is imported once in the master and shared copy-on-write.
"""

from __future__ import annotations

import os
import socket
from typing import Any, Callable

from gunicorn.app.base import BaseApplication

from masthead.serving.files import SEND_IDLE_SECONDS


def default_workers() -> int:
    return os.cpu_count() or 1


class MastheadServer(BaseApplication):
    def __init__(self, options: dict, threads: int, renders: int, send_timeout: float = SEND_IDLE_SECONDS):
        self.options = options
        self.threads = threads
        self.renders = renders
        self.send_timeout = send_timeout
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from masthead.serving.bridge import asgi_application

        return asgi_application(self.threads, self.renders, self.send_timeout)


def refuse_a_taken_port(host: str, port: int) -> None:
    """Exit if something already listens on host:port. With SO_REUSEPORT (see above) gunicorn
    would bind beside it without an error, and the kernel would share connections between the
    two servers: a forgotten one would keep serving old code to some readers."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a closed one's TIME_WAIT is fine
        try:
            probe.bind(address)
        except OSError as exc:
            raise SystemExit(f"masthead serve: {host}:{port} is already in use ({exc.strerror})") from None


def dropping_stalled_readers(seconds: float) -> Callable[[Any, Any], None]:
    """gunicorn's `post_fork` hook: the worker's listening sockets (its own, with `reuse_port`)
    get `TCP_USER_TIMEOUT`, so the kernel aborts a connection whose sent data has stayed
    unacknowledged, or unsent behind a closed window, for `seconds` (see the module's
    docstring). Only TCP has it, and only Linux: elsewhere the sockets are left as they are."""

    def post_fork(server, worker) -> None:
        if not hasattr(socket, "TCP_USER_TIMEOUT"):
            return
        for listener in worker.sockets:
            if listener.family in (socket.AF_INET, socket.AF_INET6):
                listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, round(seconds * 1000))

    return post_fork


def finish_outgoing_mail(server, worker) -> None:
    """A stopping worker sends the emails it still holds (masthead/mail.py), for a few seconds
    at most."""
    from masthead import mail

    mail.close()


def run(
    host: str, port: int, workers: int, threads: int, renders: int = 1, send_timeout: float = SEND_IDLE_SECONDS
) -> None:
    refuse_a_taken_port(host, port)
    MastheadServer(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "asgi",
            "asgi_lifespan": "off",
            "timeout": 30,
            "graceful_timeout": 10,
            "keepalive": 5,
            "accesslog": "-" if os.environ.get("ACCESS_LOG") else None,
            "preload_app": True,
            "reuse_port": True,
            # No gunicornc socket: two servers on one machine would otherwise share its path.
            "control_socket_disable": True,
            "post_fork": dropping_stalled_readers(send_timeout),
            "worker_exit": finish_outgoing_mail,
        },
        threads=threads,
        renders=renders,
        send_timeout=send_timeout,
    ).run()
