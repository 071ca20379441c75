"""Starting the real `masthead serve` on a loopback port, shared by the serving tests.

Also the pieces other server tests build on (tests/caching): a free port, the `masthead serve`
command line, waiting for a started server to answer, and stopping it by its PID.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import pytest
from tests.cli_support import MASTHEAD, masthead_env

START_TIMEOUT = 60  # seconds for collectstatic + the server to answer
SECRET = "a-real-secret-key-for-this-test-0123456789abcdef"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def get(url: str, headers: dict[str, str] | None = None, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    """GET without following redirects or decompressing; returns status, headers, raw body."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with OPENER.open(request, timeout=timeout) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def serve_command(port: int, *args: str) -> list:
    """The command line of `masthead serve` on 127.0.0.1:port, with any further options."""
    return [MASTHEAD, "serve", "--host", "127.0.0.1", "--port", str(port), *args]


def wait_until_answering(
    proc: subprocess.Popen,
    answered: Callable[[], bool],
    what: str,
    output: Callable[[], str],
    timeout: float = START_TIMEOUT,
    interval: float = 0.2,
    on_timeout: Callable[[], None] | None = None,
) -> None:
    """Ask `answered()` every `interval` seconds until it is true (an OSError, nothing listening
    yet, counts as not yet). Fails the test, with `output()` (the process's log), when `proc`
    exits first or `timeout` seconds pass; `on_timeout` runs (stopping `proc`, say) before that."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with {proc.returncode}:\n{output()}")
        try:
            if answered():
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            message = f"{what} did not answer within {timeout}s:\n{output()}"
            if on_timeout:
                on_timeout()
            pytest.fail(message)
        time.sleep(interval)


def stop_process(proc: subprocess.Popen) -> None:
    """Stop a server by its PID: SIGTERM (a gunicorn master, or varnishd's manager, stops its
    children), SIGKILL if it has not exited within 20 s."""
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@contextmanager
def serving(migrated_template: Path, data: Path, *args: str, **env: str) -> Iterator[dict]:
    """`masthead serve` over a fresh copy of a migrated data directory, stopped (by PID) on exit."""
    if not MASTHEAD.exists():
        pytest.skip(f"{MASTHEAD} is not installed")
    for f in migrated_template.glob("masthead.sqlite3*"):
        shutil.copy2(f, data / f.name)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(data / "server.log", "w+")
    proc = subprocess.Popen(
        serve_command(port, *args),
        env=masthead_env(data, SECRET_KEY=SECRET, **env),
        cwd=data,
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def output() -> str:
        log.seek(0)
        return log.read()

    try:
        # Any answer will do, an error page included: the server is up.
        wait_until_answering(proc, lambda: bool(get(base + "/")), "masthead serve", output)
        yield {"base": base, "port": port, "data": data, "proc": proc, "log": log}
    finally:
        stop_process(proc)
        log.close()


def module_server(*args: str) -> Callable:
    """A module-scoped fixture: one `masthead serve` with `args`, shared by a module's tests."""

    @pytest.fixture(scope="module")
    def running_server(migrated_template, tmp_path_factory):
        with serving(migrated_template, tmp_path_factory.mktemp("serve"), *args) as running:
            yield running

    return running_server
