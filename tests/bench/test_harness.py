"""bench/harness.py, what bench/peers_bench.py, bench/scale_bench.py and bench/search_bench.py
share: a process started in its own session, waited for over HTTP and stopped by its PID, and
the environment a server under test gets. No Django, no database: a stdlib HTTP server."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.own_data  # its process-driving tests run once, outside both passes (tests/conftest.py)

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture
def harness(on_bench_path):
    import harness

    return harness


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_proc_wait_get_stop(harness, tmp_path):
    (tmp_path / "index.html").write_text("hello bench")
    port = free_port()
    messages: list[str] = []
    proc = harness.Proc(
        "http.server",
        [sys.executable, "-m", "http.server", "--bind", harness.HOST, str(port)],
        {"PATH": "/usr/bin:/bin"},
        tmp_path,
        tmp_path / "server.log",
        messages.append,
        tmp_path / "server.pid",
    )
    proc.start()
    try:
        assert (tmp_path / "server.pid").read_text().strip() == str(proc.pid)
        harness.wait_http(port, "/", proc, timeout=30)
        assert harness.port_in_use(port)
        status, headers, body, seconds = harness.http_get("/index.html", port)
        assert (status, body) == (200, b"hello bench")
        assert headers["content-length"] == str(len(body)) and seconds > 0
    finally:
        proc.stop()
    assert not proc.alive() and not (tmp_path / "server.pid").exists()
    assert messages[0].startswith("started http.server (pid ") and messages[-1].startswith("stopped http.server")
    with pytest.raises(harness.HarnessError, match="exited before answering"):
        harness.wait_http(port, "/", harness.Proc("gone", [], {}, tmp_path, tmp_path / "x.log", print), 1)


def test_masthead_env_strips_the_shell(harness, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://elsewhere/db")
    monkeypatch.setenv("PYTHONPATH", "/somewhere")
    env = harness.masthead_env(tmp_path, "k" * 50, DEBUG="1")
    assert "DATABASE_URL" not in env and "DATABASE_URL" not in harness.clean_env()
    # bench/ for the settings modules, then this checkout's code, never the shell's path.
    assert env["PYTHONPATH"] == os.pathsep.join((str(BENCH), str(BENCH.parent)))
    assert env["MASTHEAD_DATA_DIR"] == str(tmp_path)
    assert env["DEBUG"] == "1" and env["DJANGO_SETTINGS_MODULE"] == "masthead.settings"
    assert harness.serve_cmd(Path("/x/masthead"), 8000, 3)[-2:] == ["--workers", "3"]
