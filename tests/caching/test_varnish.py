"""Varnish in front of masthead: the purge backend, the shipped VCL, and the two together for real.

1. masthead.caching.varnish against a fake HTTP server on loopback: the shape of the BAN
   request, key cleaning and chunking, several servers, pooled connections, and failures that
   are logged but never raised.
2. deploy/varnish/masthead.vcl in Debian's varnishd, in front of a stand-in backend whose
   answers the test controls: what is cached, what passes, what a ban drops and what it keeps.
3. The same VCL in front of a real `masthead serve` with the demo publication: an article is a
   MISS then a HIT, an editor's request passes, and editing an article bans exactly the pages
   that carry its keys, fresh within a second, while an unrelated page stays a HIT.

Parts 2 and 3 need varnishd (apt-get install varnish). Without it they are skipped, except
under CI=true, where they fail: CI must never pass without having run them.
"""

from __future__ import annotations

import gzip
import http.client
import http.server
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from masthead.caching import varnish
from tests.serving.support import START_TIMEOUT, free_port, serve_command, stop_process, wait_until_answering

pytestmark = pytest.mark.own_data  # its process-driving tests run once, outside both passes (tests/conftest.py)

REPO = Path(__file__).resolve().parent.parent.parent
VCL = REPO / "deploy" / "varnish" / "masthead.vcl"
PARAMS = VCL.with_name("varnishd.params")
VARNISHD = shutil.which("varnishd") or next(
    (p for p in ("/usr/sbin/varnishd", "/usr/bin/varnishd") if os.access(p, os.X_OK)), None
)


def request(base: str, method: str = "GET", path: str = "/", headers: dict | None = None, body: bytes = b""):
    """One request on a new connection: (status, lowercased headers, body), nothing decoded."""
    host, port = base.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=15)
    try:
        conn.request(method, path, body=body or None, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


# --- 1. The purge backend against a fake server -----------------------------------------------


class Recorder(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, status: int = 200, delay: float = 0.0, close_after_each: bool = False):
        self.status, self.delay, self.close_after_each = status, delay, close_after_each
        self.seen: list[dict] = []
        super().__init__(("127.0.0.1", 0), RecorderHandler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class RecorderHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_BAN(self):  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("Content-Length") or 0)
        self.server.seen.append(
            {
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": self.rfile.read(length),
                "client": self.client_address,
            }
        )
        if self.server.delay:
            time.sleep(self.server.delay)
        body = b"Banned\n" if self.server.status == 200 else b"Forbidden\n"
        self.send_response(self.server.status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if self.server.close_after_each:
            # Like Varnish closing an idle connection: no "Connection: close" warned of it.
            self.wfile.flush()
            self.close_connection = True

    do_PURGE = do_BAN  # noqa: N815

    def log_message(self, *args):
        pass


@pytest.fixture
def recorder(settings):
    settings.VARNISH_REBAN_DELAY = 0  # one request per purge; the second ban has its own test
    servers: list[Recorder] = []

    def make(**kwargs) -> Recorder:
        server = Recorder(**kwargs)
        servers.append(server)
        return server

    yield make
    varnish.POOL.clear()
    for server in servers:
        server.stop()


def test_a_purge_is_one_ban_with_the_keys_in_a_surrogate_key_header(recorder, settings):
    fake = recorder()
    settings.VARNISH_URL = fake.url
    varnish.purge(["a12", "S3", "home", "a12", "feeds"])
    assert len(fake.seen) == 1
    seen = fake.seen[0]
    assert seen["method"] == "BAN" and seen["path"] == "/"
    assert seen["headers"]["surrogate-key"] == "a12 s3 home feeds"  # lowercased, deduplicated, in order
    assert seen["headers"]["host"] == fake.url.removeprefix("http://")
    assert seen["body"] == b""


def test_invalid_keys_are_dropped_and_logged_and_no_keys_send_nothing(recorder, settings, caplog):
    fake = recorder()
    settings.VARNISH_URL = fake.url
    with caplog.at_level(logging.WARNING, logger="masthead.caching.varnish"):
        varnish.purge(["a1", "bad key", 'x")|.*', "", "ok-2"])
    assert fake.seen[0]["headers"]["surrogate-key"] == "a1 ok-2"
    assert "bad key" in caplog.text
    varnish.purge([])
    varnish.purge(["not valid!"])
    assert len(fake.seen) == 1


def test_many_keys_are_sent_in_requests_that_fit_varnish_header_limits(recorder, settings):
    fake = recorder()
    settings.VARNISH_URL = fake.url
    keys = [f"a{n}" for n in range(3000)]
    varnish.purge(keys)
    assert len(fake.seen) > 1
    sent = [s["headers"]["surrogate-key"] for s in fake.seen]
    assert all(len(group) <= varnish.MAX_KEYS_BYTES for group in sent)
    assert " ".join(sent).split(" ") == keys


def test_every_server_in_a_comma_separated_varnish_url_is_banned(recorder, settings):
    one, two = recorder(), recorder()
    settings.VARNISH_URL = f"{one.url}, {two.url.removeprefix('http://')}"
    varnish.purge(["t9"])
    assert [s["headers"]["surrogate-key"] for s in one.seen] == ["t9"]
    assert [s["headers"]["surrogate-key"] for s in two.seen] == ["t9"]


def test_connections_are_pooled_and_a_connection_varnish_closed_is_replaced(recorder, settings):
    fake = recorder()
    settings.VARNISH_URL = fake.url
    for key in ("a1", "a2", "a3"):
        varnish.purge([key])
    assert len({s["client"] for s in fake.seen}) == 1, "each purge opened its own connection"

    closing = recorder(close_after_each=True)
    settings.VARNISH_URL = closing.url
    outcomes = [varnish.ban([key]) for key in ("b1", "b2", "b3")]
    assert all(o[0].ok for o in outcomes), outcomes
    assert [s["headers"]["surrogate-key"] for s in closing.seen] == ["b1", "b2", "b3"]


def test_a_refusal_is_logged_not_raised(recorder, settings, caplog):
    fake = recorder(status=403)
    settings.VARNISH_URL = fake.url
    with caplog.at_level(logging.ERROR, logger="masthead.caching.varnish"):
        varnish.purge(["a1"])  # must not raise
    assert "varnish purge FAILED" in caplog.text and "403" in caplog.text and "a1" in caplog.text


def test_a_server_that_is_down_or_hangs_costs_at_most_the_timeout(recorder, settings, caplog):
    down = f"http://127.0.0.1:{free_port()}"  # nobody listens
    hanging = recorder(delay=5)
    alive = recorder()
    settings.VARNISH_URL = f"{down},{hanging.url},{alive.url}"
    settings.VARNISH_TIMEOUT = 0.3
    started = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="masthead.caching.varnish"):
        varnish.purge(["home"])
    assert time.monotonic() - started < 2, "servers are banned in parallel, each within VARNISH_TIMEOUT"
    assert [s["headers"]["surrogate-key"] for s in alive.seen] == ["home"]
    failed = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failed) == 2 and any(down in m for m in failed) and any(hanging.url in m for m in failed)


def test_a_bad_varnish_url_is_logged_not_raised(settings, caplog):
    settings.VARNISH_URL = "https://cdn.example"
    with caplog.at_level(logging.ERROR, logger="masthead.caching.varnish"):
        varnish.purge(["a1"])
    assert "expected http://HOST[:PORT]" in caplog.text


def test_the_keys_are_banned_again_once_every_process_has_purged(recorder, settings):
    fake = recorder()
    settings.VARNISH_URL = fake.url
    settings.VARNISH_REBAN_DELAY = 0.3
    varnish.purge(["a1", "home"])
    varnish.purge(["a2"])
    assert [s["headers"]["surrogate-key"] for s in fake.seen] == ["a1 home", "a2"]
    time.sleep(0.1)
    assert len(fake.seen) == 2, "the second ban came too early"
    # Until every key has come again: a key can also be due later (an earlier test's "a1",
    # say), and the last ban may still be on its way when nothing is pending any more.
    deadline = time.monotonic() + 3
    while sorted(" ".join(s["headers"]["surrogate-key"] for s in fake.seen[2:]).split()) != ["a1", "a2", "home"]:
        assert time.monotonic() < deadline, fake.seen
        time.sleep(0.02)


def test_the_second_ban_follows_the_store_and_poll_settings(settings):
    settings.MASTHEAD_PAGE_CACHE = True
    settings.MASTHEAD_CACHE_REDIS_URL = ""
    settings.MASTHEAD_CACHE_POLL_SECONDS = 0.5
    assert varnish.reban_delay() == 0.65  # per-process stores: after every process has polled
    settings.MASTHEAD_PAGE_CACHE = False
    assert varnish.reban_delay() == 0.5  # a render that read the database before the commit
    settings.VARNISH_REBAN_DELAY = 2
    assert varnish.reban_delay() == 2
    settings.VARNISH_REBAN_DELAY = 0
    assert varnish.reban_delay() == 0


def test_varnish_url_adds_the_varnish_purger_to_the_settings():
    code = "from django.conf import settings; print(getattr(settings, 'MASTHEAD_CACHE_PURGERS', []))"
    env = {k: v for k, v in os.environ.items() if k != "VARNISH_URL"}
    env["DJANGO_SETTINGS_MODULE"] = "masthead.settings"
    command = [sys.executable, "-c", code]
    without = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    assert "masthead.caching.varnish.purge" not in without.stdout
    env["VARNISH_URL"] = "http://127.0.0.1:6081"
    with_url = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    assert "'masthead.caching.varnish.purge'" in with_url.stdout


# --- The shipped varnishd parameters ----------------------------------------------------------


def test_the_shipped_params_are_read_as_varnishd_arguments_and_match_the_readme():
    args = varnish.varnishd_params(PARAMS)
    assert args[0::2] == ["-p"] * (len(args) // 2) and args, args
    lines = dict(arg.split("=", 1) for arg in args[1::2])
    assert "-ReqHeader" in lines["vsl_mask"] and "-Timestamp" in lines["vsl_mask"]
    readme = (VCL.parent / "README.md").read_text()
    for arg in args[1::2]:
        assert f"-p {arg}" in readme, f"deploy/varnish/README.md's command line lacks -p {arg}"


def test_a_params_line_that_is_not_name_value_is_refused(tmp_path):
    bad = tmp_path / "varnishd.params"
    bad.write_text("# fine\n\nthread_pools=2\nhttp1_iovs=64\nvsl_mask -Debug\n")
    with pytest.raises(ValueError, match=r"varnishd.params:5: expected name=value"):
        varnish.varnishd_params(bad)
    bad.write_text("thread_pools=2\nhttp1_iovs=64\n")
    assert varnish.varnishd_params(bad) == ["-p", "thread_pools=2", "-p", "http1_iovs=64"]


# --- Running Debian's varnishd ----------------------------------------------------------------


def need_varnishd() -> str:
    if VARNISHD:
        return VARNISHD
    reason = "varnishd is not installed (apt-get install varnish)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}, and CI=true requires the Varnish tests")
    pytest.skip(reason)


class Varnish:
    """varnishd -F with the shipped VCL, its backend pointed at backend_port, on a free port."""

    def __init__(self, backend_port: int, workdir: Path, port: int | None = None, probe_interval: str = ""):
        binary = need_varnishd()
        vcl = VCL.read_text()
        vcl, count = re.subn(r'(\.port = )"8000";', rf'\1"{backend_port}";', vcl)
        assert count == 1, "the VCL's backend port line moved; update this test and the README"
        if probe_interval:
            vcl, count = re.subn(r"(\.interval = )\d+s;", rf"\g<1>{probe_interval};", vcl)
            assert count == 1, "the VCL's probe interval line moved"
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "masthead.vcl").write_text(vcl)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.log = open(workdir / "varnishd.log", "w+")
        # -j none: run as the current user (root or not), with no jail to chown the workdir for.
        self.proc = subprocess.Popen(
            [
                binary, "-F", "-j", "none",
                "-f", str(workdir / "masthead.vcl"),
                "-a", f"127.0.0.1:{self.port}",
                "-n", str(workdir / "n"),
                "-s", "malloc,64m",
                "-l", "8m",  # shared-memory log: 8 MB, not 80
                "-p", "thread_pool_min=10",
                *varnish.varnishd_params(PARAMS),  # as shipped
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip

        def bans() -> bool:
            status, _, _ = request(self.url, "BAN", "/", {"Surrogate-Key": "warm-up"})
            assert status == 200, self.output()
            return True

        wait_until_answering(self.proc, bans, "varnishd", self.output, interval=0.1, on_timeout=self.stop)

    def output(self) -> str:
        self.log.flush()
        return (self.workdir / "varnishd.log").read_text()[-5000:]

    def get(self, path: str, headers: dict | None = None, method: str = "GET", body: bytes = b""):
        return request(self.url, method, path, headers, body)

    def ban(self, keys: str, headers: dict | None = None):
        return request(self.url, "BAN", "/", {"Surrogate-Key": keys, **(headers or {})})

    def bans(self, since: float = 0.0) -> list[str]:
        """The ban expressions Varnish holds, newest first, added after `since` (varnishadm ban.list)."""
        varnishadm = shutil.which("varnishadm") or str(Path(need_varnishd()).with_name("varnishadm"))
        command = [varnishadm, "-n", str(self.workdir / "n"), "ban.list"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=20)
        assert result.returncode == 0, result.stdout + result.stderr
        rows = [line.split(None, 3) for line in result.stdout.splitlines()[1:]]
        # Completed bans (a newer identical one replaced them) have no expression left.
        return [row[3] for row in rows if len(row) == 4 and float(row[0]) > since]

    def stop(self) -> None:
        stop_process(self.proc)  # by PID: the manager stops its child
        self.log.close()


# --- 2. The VCL in front of a stand-in backend ------------------------------------------------

# path -> surrogate keys, as masthead would send them.
PAGES = {
    "/": "home feeds",
    "/world/": "s1 home",
    "/world/story-a/": "a1 s1 au4",
    "/world/story-b/": "a12 s1",  # a12 contains a1: banning a1 must leave it alone
    "/tags/war/": "t9 a12 a1-x",  # a1-x contains a1 too
    "/authors/jo/": "au4",
    "/admin/pages/": "home",  # would be cacheable, but the admin always passes
    "/comments/ticket/1/": "a1",
}
PUBLIC = "public, max-age=60, s-maxage=300, stale-while-revalidate=30"


class StandIn(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        self.version = 1
        self.down = False  # answer 503 to everything, the health probe included
        self.lock = threading.Lock()
        self.seen: list[dict] = []
        super().__init__(("127.0.0.1", 0), StandInHandler)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def bump(self) -> None:
        """A new version of every page, as after an edit: what Varnish fetches next shows it."""
        with self.lock:
            self.version += 1

    def hits(self, path: str) -> int:
        with self.lock:
            return sum(1 for s in self.seen if s["path"] == path)


class StandInHandler(http.server.BaseHTTPRequestHandler):
    """Public pages with surrogate keys; /private/, /no-cc/, /set-cookie/ and /brief/ for the rules."""

    protocol_version = "HTTP/1.1"

    def answer(self):
        server: StandIn = self.server
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        with server.lock:
            headers = {k.lower(): v for k, v in self.headers.items()}
            server.seen.append({"method": self.command, "path": self.path, "headers": headers})
            version = server.version
        path = self.path
        headers = {"Content-Type": "text/html; charset=utf-8", "Vary": "Cookie"}
        if server.down:
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if path in PAGES:
            keys = PAGES[path]
            headers.update(
                {
                    "Cache-Control": PUBLIC,
                    "Surrogate-Key": keys,
                    "Cache-Tag": keys.replace(" ", ","),
                    "ETag": f'"{keys.replace(" ", "-")}-{version}"',
                    "Last-Modified": "Wed, 01 Jan 2025 00:00:00 GMT",
                }
            )
        elif path == "/private/":
            headers["Cache-Control"] = "private, no-store"
        elif path == "/set-cookie/":
            headers.update({"Cache-Control": PUBLIC, "Set-Cookie": "sessionid=new; HttpOnly"})
        elif path == "/brief/":
            headers.update({"Cache-Control": "public, max-age=0, s-maxage=1, stale-while-revalidate=30",
                            "Surrogate-Key": "brief"})  # fmt: skip
        elif path == "/short/":
            headers.update({"Cache-Control": "public, max-age=0, s-maxage=1, stale-while-revalidate=1, "
                                             "stale-if-error=3600", "Surrogate-Key": "short"})  # fmt: skip
        elif path.startswith("/page/"):
            headers.update({"Cache-Control": PUBLIC, "Surrogate-Key": "listing"})
        # /no-cc/ and anything else: no Cache-Control at all.
        body = (f"<p>{path} version {version} for {self.command} " + "news " * 400 + "</p>").encode()
        self.send_response(200)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("X-Seen-Cookie", self.headers.get("Cookie", "-"))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_HEAD = answer  # noqa: N815

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory):
    need_varnishd()
    backend = StandIn()
    cache = Varnish(backend.port, tmp_path_factory.mktemp("varnish-standin"))
    yield cache, backend
    cache.stop()
    backend.shutdown()
    backend.server_close()


def version(body: bytes) -> int:
    match = re.search(rb"version (\d+)", body)
    assert match, body[:200]
    return int(match.group(1))


def test_a_public_page_is_a_miss_then_a_hit_and_hides_its_keys(stand_in):
    cache, backend = stand_in
    status, headers, body = cache.get("/authors/jo/")
    assert status == 200 and headers["x-cache"] == "MISS"
    status, headers, body = cache.get("/authors/jo/")
    assert status == 200 and headers["x-cache"] == "HIT"
    assert backend.hits("/authors/jo/") == 1
    assert "surrogate-key" not in headers and "cache-tag" not in headers
    assert headers["cache-control"] == PUBLIC
    assert '"au4-' in headers["etag"]  # weak (W/"...") once Varnish has gzipped the page
    # A purger asking for them sees the keys (for debugging a purge).
    _, debug_headers, _ = cache.get("/authors/jo/", {"X-Cache-Debug": "1"})
    assert debug_headers["surrogate-key"] == "au4" and debug_headers["cache-tag"] == "au4"


def test_a_cached_page_answers_a_conditional_request_with_304(stand_in):
    cache, backend = stand_in
    _, headers, _ = cache.get("/authors/jo/")
    status, headers304, body = cache.get("/authors/jo/", {"If-None-Match": headers["etag"]})
    assert status == 304 and body == b"" and headers304["x-cache"] == "HIT"


def test_anonymous_cookies_are_stripped_and_do_not_split_the_cache(stand_in):
    cache, backend = stand_in
    status, headers, _ = cache.get("/page/cookies/", {"Cookie": "csrftoken=abc; _ga=GA1.2.3"})
    assert status == 200 and headers["x-cache"] == "MISS"
    assert headers["x-seen-cookie"] == "-", "masthead must never see an anonymous reader's cookies"
    _, headers, _ = cache.get("/page/cookies/", {"Cookie": "consent=yes"})
    assert headers["x-cache"] == "HIT"


@pytest.mark.parametrize(
    "headers",
    [
        {"Cookie": "sessionid=editor-session"},
        {"Cookie": "csrftoken=abc; sessionid=editor-session"},
        {"Cookie": "messages=you-did-it"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ],
    ids=["session", "session-among-others", "messages", "authorization"],
)
def test_a_logged_in_request_passes_with_its_cookie_and_is_never_served_from_cache(stand_in, headers):
    cache, backend = stand_in
    cache.get("/world/")  # cached for anonymous readers
    assert cache.get("/world/")[1]["x-cache"] == "HIT"
    before = backend.hits("/world/")
    status, response_headers, _ = cache.get("/world/", headers)
    assert status == 200 and response_headers["x-cache"] == "PASS"
    assert backend.hits("/world/") == before + 1
    assert backend.seen[-1]["headers"].get("cookie") == headers.get("Cookie")
    assert backend.seen[-1]["headers"].get("authorization") == headers.get("Authorization")


def test_posts_the_admin_and_comment_endpoints_are_never_cached(stand_in):
    cache, backend = stand_in
    for _ in range(2):
        status, headers, _ = cache.get("/world/story-a/", method="POST", body=b"x=1")
        assert status == 200 and headers["x-cache"] == "PASS"
    for path in ("/admin/pages/", "/comments/ticket/1/"):
        for _ in range(2):
            _, headers, _ = cache.get(path, {"Cookie": "csrftoken=abc"})
            assert headers["x-cache"] == "PASS", path
            assert headers["x-seen-cookie"] == "csrftoken=abc", "the ticket endpoint needs the CSRF cookie"
    assert backend.hits("/admin/pages/") == 2 and backend.hits("/comments/ticket/1/") == 2


@pytest.mark.parametrize("path", ["/private/", "/no-cc/", "/set-cookie/"])
def test_private_unmarked_and_cookie_setting_responses_are_not_cached(stand_in, path):
    cache, backend = stand_in
    for _ in range(3):
        status, headers, _ = cache.get(path)
        assert status == 200 and headers["x-cache"] in {"MISS", "PASS"}
    assert backend.hits(path) == 3


def test_tracking_parameters_share_the_page_s_cache_entry(stand_in):
    cache, backend = stand_in
    cache.get("/page/viral/?page=2")
    _, headers, _ = cache.get("/page/viral/?fbclid=IwAR123&page=2&utm_source=x")
    assert headers["x-cache"] == "HIT"
    _, headers, _ = cache.get("/page/viral/?utm_medium=social")
    assert headers["x-cache"] == "MISS"  # the same as /page/viral/, which was not cached yet
    assert [s["path"] for s in backend.seen if s["path"].startswith("/page/viral")] == [
        "/page/viral/?page=2",
        "/page/viral/",
    ]


def test_gzip_and_plain_clients_each_get_a_copy_stored_their_way(stand_in):
    cache, backend = stand_in
    gzip_client = {"Accept-Encoding": "br, gzip, deflate"}
    _, zipped_headers, zipped = cache.get("/page/zip/", gzip_client)
    assert zipped_headers["x-cache"] == "MISS" and zipped_headers.get("content-encoding") == "gzip"
    _, headers, again = cache.get("/page/zip/", {"Accept-Encoding": "gzip"})
    assert headers["x-cache"] == "HIT" and again == zipped
    _, plain_headers, plain = cache.get("/page/zip/", {"Accept-Encoding": "br"})
    assert plain_headers["x-cache"] == "MISS" and "content-encoding" not in plain_headers
    _, headers, _ = cache.get("/page/zip/")
    assert headers["x-cache"] == "HIT" and "content-encoding" not in headers
    assert gzip.decompress(zipped) == plain and len(zipped) < len(plain) / 4
    asked = [s["headers"].get("accept-encoding") for s in backend.seen if s["path"] == "/page/zip/"]
    assert asked == ["gzip", "gzip"]
    # A ban drops both copies.
    cache.ban("listing")
    assert cache.get("/page/zip/", gzip_client)[1]["x-cache"] == "MISS"
    assert cache.get("/page/zip/")[1]["x-cache"] == "MISS"


def test_a_ban_drops_exactly_the_pages_carrying_a_key_and_they_come_back_fresh(stand_in):
    cache, backend = stand_in
    paths = ["/", "/world/", "/world/story-a/", "/world/story-b/", "/tags/war/", "/authors/jo/"]
    for path in paths:
        cache.get(path)
    assert all(cache.get(path)[1]["x-cache"] == "HIT" for path in paths)
    backend.bump()  # "article a1 was edited"

    status, _, body = cache.ban("a1")
    assert status == 200 and body == b"Banned\n"
    started = time.monotonic()
    results = {path: cache.get(path) for path in paths}
    assert time.monotonic() - started < 1
    banned = {path for path, (_, headers, _) in results.items() if headers["x-cache"] == "MISS"}
    assert banned == {"/world/story-a/"}
    assert version(results["/world/story-a/"][2]) == backend.version
    assert all(results[p][1]["x-cache"] == "HIT" for p in paths if p != "/world/story-a/")

    # Several keys at once: the section and the author.
    assert cache.ban("s1 au4")[0] == 200
    results = {path: cache.get(path) for path in paths}
    banned = {path for path, (_, headers, _) in results.items() if headers["x-cache"] == "MISS"}
    assert banned == {"/world/", "/world/story-a/", "/world/story-b/", "/authors/jo/"}
    assert {version(results[p][2]) for p in banned} == {backend.version}
    assert results["/"][1]["x-cache"] == "HIT" and results["/tags/war/"][1]["x-cache"] == "HIT"


def test_the_purge_backend_bans_through_the_real_varnish(stand_in, settings):
    cache, backend = stand_in
    settings.VARNISH_URL = cache.url
    settings.VARNISH_REBAN_DELAY = 0
    cache.get("/tags/war/")
    cache.get("/authors/jo/")
    varnish.purge(["t9"])
    assert cache.get("/tags/war/")[1]["x-cache"] == "MISS"
    assert cache.get("/authors/jo/")[1]["x-cache"] == "HIT"
    varnish.POOL.clear()


def test_a_single_url_can_be_purged(stand_in):
    cache, backend = stand_in
    for headers in ({}, {"Accept-Encoding": "gzip"}):
        cache.get("/page/one/", headers)
        cache.get("/page/two/", headers)
    status, _, body = cache.get("/page/one/", method="PURGE")
    assert status == 200 and body == b"Purged\n"
    for headers in ({}, {"Accept-Encoding": "gzip"}):
        assert cache.get("/page/one/", headers)[1]["x-cache"] == "MISS"
        assert cache.get("/page/two/", headers)[1]["x-cache"] == "HIT"


def test_bans_need_valid_keys_and_come_only_from_purgers_directly(stand_in):
    cache, backend = stand_in
    cache.get("/authors/jo/")
    for bad in ("", "A1", "a1  b2", 'a1|.*', "a1 .*", "(^|x)"):
        status, _, _ = cache.ban(bad)
        assert status == 400, bad
    # Relayed by a proxy on loopback (nginx in front, say): the relayed client is not a purger.
    status, _, _ = cache.ban("au4", {"X-Forwarded-For": "203.0.113.9"})
    assert status == 403
    status, _, _ = cache.get("/authors/jo/", {"X-Forwarded-For": "203.0.113.9"}, method="PURGE")
    assert status == 403
    assert cache.get("/authors/jo/")[1]["x-cache"] == "HIT"
    # A client cannot forge the cache status either.
    assert cache.get("/authors/jo/", {"X-Cache": "MISS"})[1]["x-cache"] == "HIT"


def cache_then_edit(stand_in, path: str, wait: float) -> bytes:
    """Cache path (a MISS), give every page a new version, and wait `wait` seconds; the first body."""
    cache, backend = stand_in
    _, headers, first = cache.get(path)
    assert headers["x-cache"] == "MISS"
    backend.bump()
    time.sleep(wait)
    return first


def test_an_expired_page_is_served_stale_within_stale_while_revalidate_then_refreshed(stand_in):
    cache, backend = stand_in
    # s-maxage=1 has run out; stale-while-revalidate=30 has not
    first = cache_then_edit(stand_in, "/brief/", 1.3)
    _, headers, stale = cache.get("/brief/")
    assert headers["x-cache"] == "STALE" and version(stale) == version(first)
    deadline = time.monotonic() + 5
    while True:  # the background refetch lands
        _, headers, body = cache.get("/brief/")
        if headers["x-cache"] == "HIT" and version(body) == backend.version:
            break
        assert time.monotonic() < deadline, headers
        time.sleep(0.05)
    # A banned page is never served stale, whatever its stale-while-revalidate.
    cache.ban("brief")
    backend.bump()
    _, headers, body = cache.get("/brief/")
    assert headers["x-cache"] == "MISS" and version(body) == backend.version


def test_past_stale_while_revalidate_a_page_is_fetched_before_it_is_served(stand_in):
    cache, backend = stand_in
    # past s-maxage=1 and stale-while-revalidate=1; within stale-if-error=3600
    cache_then_edit(stand_in, "/short/", 2.3)
    _, headers, body = cache.get("/short/")
    assert headers["x-cache"] == "MISS" and version(body) == backend.version


@pytest.fixture
def failing(tmp_path):
    need_varnishd()
    backend = StandIn()
    cache = Varnish(backend.port, tmp_path / "varnish", probe_interval="0.2s")
    yield cache, backend
    cache.stop()
    backend.shutdown()
    backend.server_close()


def wait_for(condition, seconds: float = 10, what: str = ""):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_while_masthead_is_down_pages_are_served_stale_for_stale_if_error(failing):
    cache, backend = failing
    _, headers, first = cache.get("/short/")
    cache.get("/authors/jo/")
    assert cache.get("/short/")[1]["x-cache"] == "HIT"
    backend.down = True
    time.sleep(2.3)  # past s-maxage and stale-while-revalidate
    # Wait until the probe has seen it (a page that was never cached gets the 503 then).
    wait_for(lambda: cache.get("/world/")[0] == 503, what="the probe to mark masthead sick")
    status, headers, body = cache.get("/short/")
    assert status == 200 and headers["x-cache"] == "STALE" and version(body) == version(first)
    assert cache.get("/authors/jo/")[1]["x-cache"] == "HIT"
    # A ban still drops a page, masthead up or down: a withdrawn story never comes back stale.
    cache.ban("au4")
    assert cache.get("/authors/jo/")[0] == 503
    backend.down = False
    backend.bump()
    wait_for(lambda: cache.get("/short/")[1]["x-cache"] in {"MISS", "HIT"}, what="masthead healthy again")
    _, headers, body = cache.get("/short/")
    assert version(body) == backend.version


def test_the_shipped_vcl_compiles(tmp_path):
    binary = need_varnishd()
    result = subprocess.run(
        [binary, "-C", "-j", "none", "-f", str(VCL), "-n", str(tmp_path / "n")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]


# --- 3. The VCL in front of a real `masthead serve` -------------------------------------------

SECRET = "a-real-secret-key-for-the-varnish-test-0123456789abcdef"
BAN_KEYS = re.compile(r"^obj\.http\.Surrogate-Key ~ \(\^\|\[\[:space:\]\]\)\(([a-z0-9|-]+)\)")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The demo publication served by `masthead serve`, behind varnishd, purging it by VARNISH_URL."""
    from tests.cli_support import masthead, masthead_env

    need_varnishd()
    data = tmp_path_factory.mktemp("varnish-site")
    demo = masthead(data, "demo", "--no-serve", timeout=300)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    password = re.search(r"login: admin / (\S+)", demo.stdout).group(1)

    backend_port, varnish_port = free_port(), free_port()
    cache = Varnish(backend_port, data / "varnish", port=varnish_port)
    env = masthead_env(data, SECRET_KEY=SECRET, VARNISH_URL=cache.url, LOG_LEVEL="INFO")
    log = open(data / "server.log", "w+")
    server = subprocess.Popen(
        serve_command(backend_port, "--workers", "2", "--threads", "4"),
        env=env, cwd=data, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip

    def server_log() -> str:
        log.flush()
        return (data / "server.log").read_text()[-20000:]

    try:
        deadline = time.monotonic() + START_TIMEOUT
        backend = f"http://127.0.0.1:{backend_port}"

        def answered() -> bool:
            return request(backend, "GET", "/robots.txt")[0] == 200

        wait_until_answering(server, answered, "masthead serve", server_log)
        # Varnish's health probe saw masthead down while it started: wait until it is seen up.
        while cache.get("/robots.txt")[0] != 200:
            if time.monotonic() > deadline:
                pytest.fail(f"Varnish did not see masthead up within {START_TIMEOUT}s:\n{cache.output()}")
            time.sleep(0.2)
        # The first views create rows that purge every page (site settings): let that happen,
        # with its second ban, before any test counts HITs.
        _, _, home = cache.get("/")
        for path in article_links(home)[:3] + ["/feeds/rss/", "/sitemap.xml"]:
            cache.get(path)
        time.sleep(1.5)
        yield {
            "cache": cache, "data": data, "env": env, "password": password,
            "backend": backend, "server_log": server_log,
        }  # fmt: skip
    finally:
        stop_process(server)  # by PID: the gunicorn master stops its workers
        log.close()
        cache.stop()


def links(html: bytes, pattern: str) -> list[str]:
    return list(dict.fromkeys(re.findall(rf'href="({pattern})"', html.decode("utf-8"))))


def article_links(html: bytes) -> list[str]:
    paths = links(html, r"/[a-z-]+/[a-z0-9-]+/")
    return [p for p in paths if not p.startswith(("/authors/", "/tags/", "/feeds/", "/sitemaps/", "/api/"))]


def surrogate_keys(cache: Varnish, path: str) -> set[str]:
    _, headers, _ = cache.get(path, {"X-Cache-Debug": "1"})
    return set(headers.get("surrogate-key", "").split())


def headline(body: bytes) -> str:
    match = re.search(rb"<h1[^>]*>(.*?)</h1>", body, re.S)
    assert match, body[:300]
    return match.group(1).decode("utf-8").strip()


def test_a_masthead_article_is_a_miss_then_a_hit_and_carries_nothing_personal(site):
    cache = site["cache"]
    _, _, home = cache.get("/")
    article = links(home, r"/world/[a-z0-9-]+/")[0]
    status, headers, body = cache.get(article, {"Accept-Encoding": "gzip"})
    assert status == 200 and headers["x-cache"] in {"MISS", "HIT"}  # the fixture may have cached it
    status, headers, body = cache.get(article, {"Accept-Encoding": "gzip"})
    assert status == 200 and headers["x-cache"] == "HIT", headers
    assert "set-cookie" not in headers and "surrogate-key" not in headers and "cache-tag" not in headers
    assert "s-maxage=" in headers["cache-control"] and "public" in headers["cache-control"]
    assert headers.get("etag") and headers.get("last-modified")
    html = gzip.decompress(body)
    assert b"csrfmiddlewaretoken" not in html and b"sessionid" not in html
    assert surrogate_keys(cache, article), "masthead sent no Surrogate-Key for an article"


def test_a_logged_in_editor_passes_varnish(site):
    cache = site["cache"]
    status, headers, body = cache.get("/admin/login/")
    assert status == 200 and headers["x-cache"] == "PASS"
    csrf_cookie = re.search(r"csrftoken=([^;]+)", headers["set-cookie"]).group(1)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    form = f"csrfmiddlewaretoken={token}&username=admin&password={site['password']}&next=/admin/"
    status, headers, _ = cache.get(
        "/admin/login/",
        {"Cookie": f"csrftoken={csrf_cookie}", "Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
        body=form.encode(),
    )
    assert status == 302 and headers["x-cache"] == "PASS", (status, headers)
    session = re.search(r"sessionid=([^;]+)", headers["set-cookie"]).group(1)
    editor = {"Cookie": f"csrftoken={csrf_cookie}; sessionid={session}"}

    cache.get("/")
    assert cache.get("/")[1]["x-cache"] == "HIT"
    status, headers, _ = cache.get("/", editor)
    assert status == 200 and headers["x-cache"] == "PASS"
    status, headers, body = cache.get("/admin/", editor)
    assert status == 200 and headers["x-cache"] == "PASS" and b"Dashboard" in body


def test_editing_an_article_bans_exactly_the_pages_carrying_its_keys_fresh_within_a_second(site):
    cache = site["cache"]
    _, _, home = cache.get("/")
    world = links(home, r"/world/[a-z0-9-]+/")
    edited = world[0]
    _, _, article_html = cache.get(edited)
    pages = ["/", "/world/", edited, "/feeds/rss/", "/sitemap.xml"]
    pages += links(article_html, r"/authors/[a-z0-9-]+/")[:1] + links(article_html, r"/tags/[a-z0-9-]+/")[:2]
    others = [p for p in article_links(home) if not p.startswith("/world/")]
    pages += others[:6] + ["/robots.txt"]
    pages = list(dict.fromkeys(pages))
    for path in pages:
        cache.get(path)
    cached = {path for path in pages if cache.get(path)[1]["x-cache"] == "HIT"}
    purges = [line for line in site["server_log"]().splitlines() if "purged" in line]
    assert {"/", edited} <= cached, (sorted(cached), cache.bans(), purges)
    keys = {path: surrogate_keys(cache, path) for path in cached}
    before_publish = time.time()

    slug = edited.rstrip("/").rsplit("/", 1)[1]
    new_title = f"Updated through Varnish {time.time_ns()}"
    # Publish in a shell (another process, like an editor's request in another worker) while
    # readers keep asking the server processes for the article, as Varnish does: a process that
    # has not looked at the purge log yet may hand Varnish the old page after the ban (the
    # second ban is for that). Then read the page through Varnish until it shows the new
    # headline, and on for 2.5 s: it must not turn old again.
    code = f"""
import time, urllib.request
from masthead.news.models import ArticlePage
def fetch(base, headers={{}}):
    request = urllib.request.Request(base + {edited!r}, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as r:
        return r.headers.get("X-Cache", ""), r.read().decode()
page = ArticlePage.objects.get(slug={slug!r}).get_latest_revision_as_object()
page.title = {new_title!r}
page.save_revision().publish()
published = time.monotonic()
visible = None
trace = []
while time.monotonic() - published < 2.5:
    status, html = fetch({cache.url!r})
    new = {new_title!r} in html
    trace.append((round(time.monotonic() - published, 3), status, new))
    if new and visible is None:
        visible = trace[-1][0]
    if not new:
        visible = None
    time.sleep(0.01)
print("VISIBLE", visible)
print("TRACE", [t for t in trace if t[0] < 1.2][:8], [t for t in trace if t[0] < 1.2][8::5])
"""
    from tests.cli_support import MASTHEAD

    done = threading.Event()

    as_varnish_asks = {"Host": cache.url.removeprefix("http://"), "Accept-Encoding": "gzip"}

    def readers():  # the same Host as through Varnish, so the same entry in the processes' stores
        while not done.is_set():
            request(site["backend"], "GET", edited, as_varnish_asks)
            time.sleep(0.01)

    reader = threading.Thread(target=readers)
    reader.start()
    try:
        command = [MASTHEAD, "shell", "-c", code]
        shell = subprocess.run(
            command, env=site["env"], cwd=site["data"], capture_output=True, text=True, timeout=120
        )
    finally:
        done.set()
        reader.join()
    assert shell.returncode == 0 and "VISIBLE" in shell.stdout, shell.stdout + shell.stderr
    print(shell.stdout)
    visible_after = shell.stdout.split("VISIBLE ", 1)[1].split()[0]
    # Seen new within a second of the publish, and never old again after that.
    assert visible_after != "None" and float(visible_after) < 1, shell.stdout
    status, headers, body = cache.get(edited)
    assert headline(body) == new_title and headers["x-cache"] == "HIT"
    visible_after = float(visible_after)

    # Exactly the cached pages whose keys were banned are fetched again; the rest stay HITs.
    matches = [BAN_KEYS.match(ban) for ban in cache.bans(before_publish)]
    banned_keys = {key for match in matches if match for key in match.group(1).split("|")}
    assert banned_keys, f"no surrogate-key ban reached Varnish: {cache.bans()}\n{site['server_log']()}"
    expected = {path for path in cached if keys[path] & banned_keys}
    unrelated = cached - expected
    assert edited in expected and "/" in expected
    assert unrelated, f"every cached page carried a banned key: {banned_keys}"
    results = {path: cache.get(path) for path in cached - {edited}}
    refetched = {path for path, (_, headers, _) in results.items() if headers["x-cache"] == "MISS"}
    assert refetched == expected - {edited}, {p: keys[p] for p in refetched ^ (expected - {edited})}
    assert new_title in results["/"][2].decode("utf-8")
    assert all(results[path][1]["x-cache"] == "HIT" for path in unrelated)
    print(
        f"visible through Varnish {visible_after * 1000:.0f} ms after the publish; banned keys "
        f"{sorted(banned_keys)}; refetched {sorted(refetched | {edited})}; still HITs {sorted(unrelated)}"
    )
