"""Gunicorn embedded as a library, so `masthead serve` needs no separate config file."""

from __future__ import annotations

import os

from gunicorn.app.base import BaseApplication


def default_workers() -> int:
    # Threads absorb slow clients; processes use the cores. One more than cores keeps a core
    # busy while another worker waits on the database.
    return (os.cpu_count() or 1) + 1


class MastheadServer(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from masthead.wsgi import application

        return application


def run(host: str, port: int, workers: int, threads: int) -> None:
    MastheadServer(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "timeout": 30,
            "graceful_timeout": 10,
            "keepalive": 5,
            "accesslog": "-" if os.environ.get("ACCESS_LOG") else None,
            "preload_app": True,
            # No gunicornc socket: two servers on one machine would otherwise share its path.
            "control_socket_disable": True,
        }
    ).run()
