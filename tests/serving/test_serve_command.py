"""`masthead serve`: refuses unsafe settings, and really serves (gunicorn, hashed compressed static)."""

from __future__ import annotations

import gzip
import re
import subprocess
from pathlib import Path

import pytest
from tests.cli_support import MASTHEAD, masthead_env

from .support import SECRET, free_port, get, module_server

pytestmark = pytest.mark.own_data  # its process-driving tests run once, outside both passes (tests/conftest.py)


# --- Refusals ---------------------------------------------------------------------------------


def refuse(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    if not MASTHEAD.exists():
        pytest.skip(f"{MASTHEAD} is not installed")
    # A port nobody listens on: if serve wrongly started, the timeout below would catch it.
    return subprocess.run(
        [MASTHEAD, "serve", "--port", str(free_port()), "--workers", "1", *args],
        env=masthead_env(tmp_path, **env),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_refuses_the_demo_secret_key(tmp_path):
    result = refuse(tmp_path)
    assert result.returncode != 0
    assert "refusing to serve with the demo secret key" in result.stderr
    assert "SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr
    assert "serving on" not in result.stdout
    assert not (tmp_path / "static").exists()  # refused before doing anything


@pytest.mark.parametrize("option", ["--workers", "--threads", "--renders"])
def test_refuses_fewer_than_one_before_doing_anything(tmp_path, option):
    result = refuse(tmp_path, option, "0", "--migrate", SECRET_KEY=SECRET)
    assert result.returncode != 0
    assert "--workers, --threads and --renders must be at least 1" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "static").exists() and not list(tmp_path.glob("*.sqlite3"))


@pytest.mark.parametrize("seconds", ["0.5", "inf"])
def test_refuses_a_send_timeout_out_of_range_before_doing_anything(tmp_path, seconds):
    result = refuse(tmp_path, "--send-timeout", seconds, "--migrate", SECRET_KEY=SECRET)
    assert result.returncode != 0
    assert "--send-timeout must be from 1 to 86,400 (seconds)" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "static").exists() and not list(tmp_path.glob("*.sqlite3"))


def test_refuses_debug_on(tmp_path):
    result = refuse(tmp_path, SECRET_KEY=SECRET, DEBUG="1")
    assert result.returncode != 0
    assert "refusing to serve with DEBUG on" in result.stderr
    assert "Traceback" not in result.stderr
    assert "serving on" not in result.stdout


# --- Serving ----------------------------------------------------------------------------------


# `masthead serve` on a free loopback port, over a fresh copy of a migrated data directory.
server = module_server("--workers", "1", "--threads", "2")


def test_serves_the_home_page(server):
    status, headers, body = get(server["base"] + "/")
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    html = body.decode("utf-8")
    assert "<html" in html and "The Masthead" in html
    assert headers.get("server", "").startswith("gunicorn")
    assert headers.get("x-content-type-options") == "nosniff"
    log = (server["data"] / "server.log").read_text()
    assert "masthead serving on http://127.0.0.1:" in log


def stylesheet_url(server) -> str:
    _, _, body = get(server["base"] + "/")
    match = re.search(r'<link rel="stylesheet" href="([^"]+)"', body.decode("utf-8"))
    assert match, "no stylesheet link on the home page"
    return match.group(1)


def test_static_css_name_is_hashed(server):
    url = stylesheet_url(server)
    assert re.fullmatch(r"/static/masthead/css/site\.[0-9a-f]{12}\.css", url), url
    # collectstatic ran into the data directory, with compressed copies beside the files.
    name = url.rsplit("/", 1)[1]
    assert (server["data"] / "static" / "masthead" / "css" / name).is_file()
    assert (server["data"] / "static" / "staticfiles.json").is_file()


def max_age(headers: dict[str, str]) -> int:
    match = re.search(r"max-age=(\d+)", headers.get("cache-control", ""))
    assert match, headers.get("cache-control")
    return int(match.group(1))


def test_hashed_css_is_cached_for_a_year_and_compressed_on_request(server):
    url = server["base"] + stylesheet_url(server)
    status, plain_headers, plain = get(url)
    assert status == 200
    assert plain_headers["content-type"].startswith("text/css")
    assert "content-encoding" not in plain_headers
    assert max_age(plain_headers) >= 365 * 24 * 3600
    assert "accept-encoding" in plain_headers.get("vary", "").lower()
    assert b"--accent" in plain

    status, headers, body = get(url, {"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers.get("content-encoding") == "gzip"
    assert max_age(headers) >= 365 * 24 * 3600
    assert len(body) < len(plain)
    assert gzip.decompress(body) == plain

    status, headers, body = get(url, {"Accept-Encoding": "br, gzip"})
    assert status == 200
    assert headers.get("content-encoding") in {"br", "gzip"}
    if headers["content-encoding"] == "gzip":
        assert gzip.decompress(body) == plain
    else:
        assert len(body) < len(plain)


def test_debug_is_off_a_404_shows_no_debug_page(server):
    status, headers, body = get(server["base"] + "/no-such-page/nowhere/")
    assert status == 404
    html = body.decode("utf-8")
    assert "We could not find that page" in html
    assert "DEBUG = True" not in html
    assert "Traceback" not in html
    assert "URLconf" not in html and "technical_404" not in html


def test_debug_is_off_admin_media_and_favicon_still_work(server):
    status, headers, _ = get(server["base"] + "/favicon.ico")
    assert status == 302  # temporary: the hashed name changes with each release
    assert re.fullmatch(r"/static/masthead/favicon\.[0-9a-f]{12}\.svg", headers["location"]), headers["location"]
    status, _, _ = get(server["base"] + headers["location"])
    assert status == 200
    status, _, body = get(server["base"] + "/admin/login/")
    assert status == 200 and b"csrfmiddlewaretoken" in body


def test_server_stops_on_sigterm(server):
    # Last test of the module: the fixture's teardown must find a live process to stop.
    assert server["proc"].poll() is None
