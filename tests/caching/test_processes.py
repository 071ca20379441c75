"""Purges reach every process: real `masthead serve` servers on loopback, one shared database.

1. Two servers sharing Redis (REDIS_URL): an editor publishes through server A's admin, and the
   very next request to server B shows the change (the purge ran in the shared store before the
   editor's response was sent).
2. The in-process store (no Redis). One server with two gunicorn workers: the worker that
   answers the editor purges its own store, logs the purge and touches the signal file; the
   other worker reads the log at its very next request. Two servers with their own data
   directories, as on two machines: the other server reads the log at its first request once
   MASTHEAD_CACHE_POLL_SECONDS (0.5 s) have passed, so every request sent from then on is fresh.

The database is this run's kind: a copy of the migrated SQLite template, or a fresh PostgreSQL
database when the suite runs on PostgreSQL (dropped afterwards). Each step is timed and printed
(`-s`) for the record; the assertions are about what is served, not how fast.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.caching.conftest import need_redis
from tests.cli_support import MASTHEAD, TEST_ONLY_VARIABLES
from tests.serving.support import NoRedirect, free_port, serve_command, stop_process, wait_until_answering

REPO = Path(__file__).resolve().parent.parent.parent
SEED = REPO / "masthead" / "demo" / "seed-article.txt"
SEED_PATH = "/world/us-calls-on-israel-to-end-large-scale-ground-invasion-in-gaza/"
SECRET = "a-real-secret-key-for-the-caching-test-0123456789abcdef"
PASSWORD = "caching-test-password-0123"
POLL = 0.5  # MASTHEAD_CACHE_POLL_SECONDS (the default)
START_TIMEOUT = 90


def run(env: dict, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    result = subprocess.run([MASTHEAD, *args], env=env, cwd=env["MASTHEAD_DATA_DIR"], capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"masthead {' '.join(args)}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def base_env(data_dir: Path, database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in TEST_ONLY_VARIABLES}
    env.update(
        MASTHEAD_DATA_DIR=str(data_dir), HOME=str(data_dir), DATABASE_URL=database_url, SECRET_KEY=SECRET,
        SECURE_COOKIES="0", MASTHEAD_CACHE_DEBUG_HEADERS="1", **extra,
    )  # fmt: skip
    return env


def postgres_database() -> str | None:
    """The PostgreSQL server of this run, when the suite runs on PostgreSQL."""
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


@pytest.fixture(scope="module")
def database(migrated_template, tmp_path_factory):
    """A migrated database of this run's kind, with the seed article and an admin account."""
    data = tmp_path_factory.mktemp("caching-db")
    pg = postgres_database()
    dropped = None
    if pg:
        import psycopg

        parts = urllib.parse.urlsplit(pg.replace("postgres://", "postgresql://", 1))
        name = f"masthead_caching_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        admin = urllib.parse.urlunsplit(("postgresql", parts.netloc, "/postgres", parts.query, ""))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = urllib.parse.urlunsplit(("postgres", parts.netloc, f"/{name}", parts.query, ""))
        dropped = (admin, name)
        run(base_env(data, url), "migrate", "--no-input", "-v0")
    else:
        for f in migrated_template.glob("masthead.sqlite3*"):
            shutil.copy2(f, data / f.name)
        url = f"sqlite:///{data / 'masthead.sqlite3'}"
    env = base_env(data, url, DJANGO_SUPERUSER_PASSWORD=PASSWORD)
    try:
        run(env, "import-text", str(SEED))
        run(env, "createsuperuser", "--no-input", "--username", "admin", "--email", "admin@example.org")
        found = run(env, "shell", "-c", "from masthead.news.models import ArticlePage; print('ID', ArticlePage.objects.get().pk)")
        yield {"url": url, "article_id": int(found.stdout.split("ID", 1)[1].split()[0]), "env": env}
    finally:
        if dropped:
            import psycopg

            with psycopg.connect(dropped[0], autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{dropped[1]}" WITH (FORCE)')


class Server:
    """`masthead serve` on a free loopback port, over its own data directory."""

    def __init__(self, tmp: Path, database_url: str, workers: int, **env: str):
        self.data = tmp / f"server-{uuid.uuid4().hex[:6]}"
        self.data.mkdir()
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = self.data / "server.log"
        self.env = base_env(self.data, database_url, **env)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                serve_command(self.port, "--workers", str(workers), "--threads", "2"),
                env=self.env, cwd=self.data, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        wait_until_answering(
            self.proc, lambda: get(self.base + "/robots.txt")[0] == 200, "masthead serve", self.log,
            timeout=START_TIMEOUT, on_timeout=lambda: stop_process(self.proc),
        )  # fmt: skip

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def stop(self) -> None:
        stop_process(self.proc)  # by PID: the gunicorn master stops its workers
        assert "Traceback" not in self.log(), self.log()


def get(url: str, opener=None, data: bytes | None = None, host: str | None = None) -> tuple[int, dict[str, str], str]:
    opener = opener or urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, data=data, headers={"Host": host} if host else {})
    try:
        with opener.open(request, timeout=15) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read().decode()


class Editor:
    """An editor logged in to one server's admin."""

    def __init__(self, server: Server):
        self.base = server.base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)
        _, _, page = get(self.base + "/admin/login/", self.opener)
        status, _, _ = self.post("/admin/login/", page, username="admin", password=PASSWORD, next="/admin/")
        assert status == 302, "the admin login failed"

    def post(self, path: str, form_page: str, **fields: str) -> tuple[int, dict, str]:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form_page).group(1)
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **fields}).encode()
        return get(self.base + path, self.opener, data)

    def publish(self, page_id: int) -> None:
        """Publish the page's latest draft with the admin's bulk "Publish" action."""
        path = f"/admin/bulk/wagtailcore/page/publish/?id={page_id}&next=/admin/"
        status, _, page = get(self.base + path, self.opener)
        assert status == 200, page[:500]
        status, _, body = self.post(path, page)
        assert status == 302, body[:500]


def save_draft(database: dict, title: str) -> None:
    """An editor's draft with a new headline (saving a draft purges nothing)."""
    code = (
        "from masthead.news.models import ArticlePage\n"
        f"page = ArticlePage.objects.get(pk={database['article_id']}).get_latest_revision_as_object()\n"
        f"page.title = {title!r}\n"
        "page.save_revision()\n"
    )
    run(database["env"], "shell", "-c", code)


def headline(html: str) -> str:
    return re.search(r'<h1 class="article__headline">(.*?)</h1>', html, re.S).group(1)


# --- 1. Two servers sharing Redis ----------------------------------------------------------------


def test_a_publish_through_one_server_is_seen_by_another_sharing_redis(database, tmp_path):
    redis_url = need_redis()
    prefix = f"masthead-caching-test-{uuid.uuid4().hex[:8]}"
    one = Server(tmp_path, database["url"], 1, REDIS_URL=redis_url, MASTHEAD_CACHE_PREFIX=prefix)
    two = Server(tmp_path, database["url"], 1, REDIS_URL=redis_url, MASTHEAD_CACHE_PREFIX=prefix)
    # Behind a load balancer every server sees the site's one host name (the cache key holds it).
    def fetch(server: Server, path: str):
        return get(server.base + path, host="localhost")

    try:
        for server in (one, two):
            fetch(server, SEED_PATH)
            fetch(server, "/")
        for server in (one, two):  # one store: each page was rendered once, for both servers
            for path in (SEED_PATH, "/"):
                status, headers, _ = fetch(server, path)
                assert status == 200 and headers["x-cache"] == "HIT", (server.base, path)

        title = f"Published through server one {uuid.uuid4().hex[:6]}"
        save_draft(database, title)
        assert fetch(two, SEED_PATH)[1]["x-cache"] == "HIT"  # a draft purges nothing
        Editor(one).publish(database["article_id"])
        published = time.monotonic()
        status, headers, body = fetch(two, SEED_PATH)
        seen_after = time.monotonic() - published
        assert status == 200 and headline(body) == title and headers["x-cache"] == "MISS"
        assert title in fetch(two, "/")[2] and title in fetch(two, "/feeds/rss/")[2]
        print(f"\nRedis, two servers: the first request to the other server after the publish "
              f"({seen_after * 1000:.0f} ms later) showed it")  # fmt: skip
    finally:
        one.stop()
        two.stop()


# --- 2. In-process stores: workers of one server, and servers of two "machines" ------------------


def spread(base: str, path: str, count: int = 16, host: str | None = None) -> list[tuple[float, str, str, str]]:
    """`count` concurrent GETs, so that every worker answers some: (sent at, pid, X-Cache, body)."""

    def one(_):
        sent = time.monotonic()
        _, headers, body = get(base + path, host=host)
        return sent, headers["x-cache-process"], headers["x-cache"], body

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(count)))


def cache_everywhere(servers: list[Server], workers: int) -> None:
    """Until every worker of every server has the article and the home front cached."""
    for server in servers:
        hits: dict[str, set[str]] = {SEED_PATH: set(), "/": set()}
        deadline = time.monotonic() + 60
        while any(len(pids) < workers for pids in hits.values()):
            assert time.monotonic() < deadline, f"only these workers answered: {hits}"
            for path, pids in hits.items():
                pids.update(pid for _, pid, cache, _ in spread(server.base, path) if cache == "HIT")


def watch(server: Server, title: str, published: float, workers: int) -> tuple[dict[str, float], list]:
    """Poll the article until every worker has shown `title`: when each first did, and every
    stale answer (worker, seconds after the publish it was sent)."""
    first_fresh: dict[str, float] = {}
    stale = []
    while len(first_fresh) < workers and time.monotonic() - published < 10:
        for sent, pid, _, body in spread(server.base, SEED_PATH, 8):
            if headline(body) == title:
                first_fresh.setdefault(pid, sent - published)
            else:
                stale.append((pid, round(sent - published, 3)))
    assert len(first_fresh) == workers, f"every worker should show the publish: {first_fresh}"
    return first_fresh, stale


def test_workers_of_one_server_see_a_purge_at_their_next_request(database, tmp_path):
    """The purging worker touches the signal file: the other reads the purge log at once."""
    server = Server(tmp_path, database["url"], 2, REDIS_URL="")
    try:
        cache_everywhere([server], 2)
        title = f"Published to two workers {uuid.uuid4().hex[:6]}"
        save_draft(database, title)
        Editor(server).publish(database["article_id"])
        published = time.monotonic()
        first_fresh, stale = watch(server, title, published, 2)
        assert not stale, f"a worker served the old page after the publish: {stale}"
        for path in (SEED_PATH, "/"):  # both workers, the page and the home front
            assert all(title in body for _, _, _, body in spread(server.base, path)), path
        print("\nIn-process, two workers: first fresh answer per worker "
              + ", ".join(f"pid {pid}: {seconds * 1000:.0f} ms" for pid, seconds in first_fresh.items()))  # fmt: skip
    finally:
        server.stop()


def test_servers_on_two_machines_see_a_purge_within_the_poll_interval(database, tmp_path):
    """No shared Redis and no shared signal file (each server has its own data directory, as two
    machines would): the other server reads the purge log at its first request 0.5 s or more
    after its last read, so every request sent 0.5 s after the publish or later is fresh."""
    one = Server(tmp_path, database["url"], 1, REDIS_URL="")
    two = Server(tmp_path, database["url"], 1, REDIS_URL="")
    try:
        cache_everywhere([one, two], 1)
        title = f"Published on another machine {uuid.uuid4().hex[:6]}"
        save_draft(database, title)
        Editor(one).publish(database["article_id"])
        published = time.monotonic()
        first_fresh, stale = watch(two, title, published, 1)
        late = [(pid, after) for pid, after in stale if after >= POLL]
        assert not late, f"the other server served the old page after the poll interval: {late}"
        print(f"\nIn-process, two servers: the other server showed it {min(first_fresh.values()) * 1000:.0f} ms "
              f"after the publish ({len(stale)} stale answers before)")  # fmt: skip
    finally:
        one.stop()
        two.stop()
