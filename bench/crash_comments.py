#!/usr/bin/env python3
"""Crash test for reader comments: acknowledged comments survive kill -9, exactly once.

What it does, on a throwaway installation (reliability.md R1/R3, and R2's app-side half):
1. makes a data directory (and, for --database postgres, a database masthead_crash_<random>
   on --pg-url, created and dropped here with psycopg), runs `masthead demo --no-serve`, and
   relaxes the comment policy through `masthead shell -c` (min_seconds, rate limits) so the
   load is not refused as a bot flood;
2. starts the production server, `masthead serve` (gunicorn gthread, DEBUG off), in its own
   session, so that its process group holds the master and every worker;
3. runs --clients threads that post --comments comments between them, the way the page's
   script does: GET /comments/ticket/<article>/ (ticket + CSRF token + cookie), then POST
   /comments/post/<article>/ asking for JSON. A 201 is a success. On a connection error, a
   timeout or a 5xx the client resends the SAME ticket (the idempotency key) with backoff,
   for at most --retry-seconds; any other answer is a definite error;
4. meanwhile SIGKILLs the whole server process group --kills times at random moments (every
   --kill-min..--kill-max seconds, earlier if the clients are ahead, so every kill lands
   while comments are being posted), restarting the server and waiting for it each time;
5. SIGKILLs the server a last time and checks the database directly (sqlite3 / psycopg):
   every acknowledged comment is stored exactly once under the id the server returned, no
   comment is stored twice, every stored row is exactly what a client sent, and comments
   whose post ended in an error are absent, or (when the server committed and died before
   answering, and the retries never got an answer) listed separately.

Exit status: 0 when every check passed; 1 on any violation, and when the run could not be
completed as asked (fewer kills than --kills, a server that does not come back, the time
limit, too few acknowledged comments to prove anything); 2 when setup failed or the run was
interrupted. It only ever kills the process groups it started, and removes its data directory
and database at the end (--keep keeps them).

    .venv/bin/python bench/crash_comments.py --database sqlite --clients 20 --comments 2000 --kills 5
    .venv/bin/python bench/crash_comments.py --database postgres --kills 5
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import http.client
import http.cookiejar
import json
import os
import random
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
# Variables of a test run or a developer's shell that must not leak into the server under test.
STRIPPED_ENV = {
    "DJANGO_SETTINGS_MODULE",
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "MASTHEAD_DATA_DIR",
    "SECURE_COOKIES",
    "ACCESS_LOG",
    "DB_CONN_MAX_AGE",
}
MARK = "@@CRASH@@"  # prefixes the JSON line our `masthead shell -c` snippet prints
READY_TIMEOUT = 60.0
REQUEST_TIMEOUT = 10.0


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class HarnessError(Exception):
    """The harness could not do its job (exit 2): nothing was proven either way."""


# --------------------------------------------------------------------------------------------
# Command line


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (threads)")
    parser.add_argument("--comments", type=int, default=2000, help="comments to post in total")
    parser.add_argument("--kills", type=int, default=5, help="SIGKILLs of the server during the load")
    parser.add_argument("--port", type=int, default=0, help="server port (0: a free one)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=0, help="threads per worker (0: the serve default)")
    parser.add_argument("--kill-min", type=float, default=3.0, help="shortest time between kills, seconds")
    parser.add_argument("--kill-max", type=float, default=8.0, help="longest time between kills, seconds")
    parser.add_argument("--min-seconds", type=int, default=0, help="CommentPolicy.min_seconds during the run")
    parser.add_argument(
        "--articles", type=int, default=8, help="spread the comments over this many demo articles"
    )
    parser.add_argument("--retry-seconds", type=float, default=60.0, help="retry budget per comment")
    parser.add_argument(
        "--time-limit", type=float, default=330.0, help="hard limit for the whole run, seconds"
    )
    parser.add_argument(
        "--min-success",
        type=float,
        default=0.95,
        help="fail if fewer than this share of comments were acknowledged (a run that "
        "acknowledges nothing proves nothing)",
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("MASTHEAD_CRASH_PG_URL", "postgres://postgres@127.0.0.1:5432"),
        help="PostgreSQL server; a throwaway database is created on it",
    )
    parser.add_argument(
        "--masthead", default="", help="the masthead executable (default: next to this Python, or .venv)"
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed (kill times, articles)")
    parser.add_argument(
        "--keep", action="store_true", help="keep the data directory and database for inspection"
    )
    parser.add_argument(
        "--negative-control",
        choices=["none", "fresh-ticket"],
        default="none",
        help="fresh-ticket: retries fetch a NEW ticket instead of resending the old one, as a "
        "client without idempotency keys would; the run should then find duplicates "
        "(whenever a kill falls between commit and answer)",
    )
    args = parser.parse_args(argv)
    if args.clients < 1 or args.comments < 1 or args.kills < 0:
        parser.error("--clients and --comments must be >= 1, --kills >= 0")
    if not 0 < args.kill_min <= args.kill_max:
        parser.error("need 0 < --kill-min <= --kill-max")
    return args


def find_masthead(explicit: str) -> Path:
    candidates = (
        [Path(explicit)]
        if explicit
        else [Path(sys.executable).with_name("masthead"), REPO / ".venv" / "bin" / "masthead"]
    )
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise HarnessError(f"masthead executable not found (tried {', '.join(map(str, candidates))})")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def pg_conninfo(url: str, dbname: str) -> str:
    parts = urllib.parse.urlsplit(url.replace("postgres://", "postgresql://", 1))
    return urllib.parse.urlunsplit(("postgresql", parts.netloc, "/" + dbname, parts.query, ""))


# --------------------------------------------------------------------------------------------
# The installation under test


class Installation:
    """A throwaway data directory (+ PostgreSQL database) and the environment of `masthead`."""

    def __init__(self, args: argparse.Namespace, masthead: Path, port: int):
        self.args = args
        self.masthead = masthead
        self.port = port
        self.data_dir = Path(tempfile.mkdtemp(prefix=f"masthead-crash-{args.database}-"))
        self.log_path = self.data_dir / "serve.log"
        self.pg_db = ""
        self.env = {k: v for k, v in os.environ.items() if k not in STRIPPED_ENV}
        self.env.update(
            MASTHEAD_DATA_DIR=str(self.data_dir),
            HOME=str(self.data_dir),
            SECRET_KEY=secrets.token_urlsafe(50),
            DEBUG="0",
            SECURE_COOKIES="0",
            ALLOWED_HOSTS=HOST,
            PYTHONUNBUFFERED="1",
        )

    @property
    def database_url(self) -> str:
        return (
            pg_conninfo(self.args.pg_url, self.pg_db).replace("postgresql://", "postgres://", 1)
            if self.pg_db
            else ""
        )

    def create_pg_database(self) -> None:
        import psycopg

        name = f"masthead_crash_{secrets.token_hex(6)}"
        with psycopg.connect(
            pg_conninfo(self.args.pg_url, "postgres"), autocommit=True, connect_timeout=5
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.pg_db = name
        self.env["DATABASE_URL"] = self.database_url
        log(f"created PostgreSQL database {name}")

    def drop_pg_database(self) -> None:
        if not self.pg_db:
            return
        import psycopg

        try:
            with psycopg.connect(
                pg_conninfo(self.args.pg_url, "postgres"), autocommit=True, connect_timeout=5
            ) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_db}" WITH (FORCE)')
            log(f"dropped PostgreSQL database {self.pg_db}")
        except Exception as exc:  # noqa: BLE001 (report, but do not hide the run's own result)
            log(f"WARNING: could not drop database {self.pg_db}: {exc}")

    def run(self, *args: str, timeout: float) -> subprocess.CompletedProcess:
        try:
            result = subprocess.run(
                [str(self.masthead), *args],
                check=False,
                cwd=self.data_dir,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise HarnessError(f"`masthead {args[0]}` took longer than {timeout:.0f}s") from exc
        if result.returncode != 0:
            raise HarnessError(
                f"`masthead {' '.join(args[:2])}` failed ({result.returncode}):\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result

    def shell(self, code: str, timeout: float = 120) -> dict:
        result = self.run("shell", "--no-imports", "-c", code, timeout=timeout)
        for line in result.stdout.splitlines():
            if line.startswith(MARK):
                return json.loads(line[len(MARK) :])
        raise HarnessError(
            f"`masthead shell` printed no result:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        )

    def cleanup(self) -> None:
        if self.args.keep:
            log(
                f"kept data directory {self.data_dir}" + (f" and database {self.pg_db}" if self.pg_db else "")
            )
            return
        self.drop_pg_database()
        shutil.rmtree(self.data_dir, ignore_errors=True)


# Runs inside `masthead shell`: relax the policy for a load test, pick articles open for
# comments, and report the database settings the app's own connections really use.
SETUP_SNIPPET = r"""
import json
from django.db import connection
from wagtail.models import Site
from masthead.comments.models import Comment, CommentPolicy
from masthead.comments.posting import closed_reason
from masthead.news.models import ArticlePage

site = Site.objects.get(is_default_site=True)
policy = CommentPolicy.for_site(site)
policy.min_seconds = MIN_SECONDS
policy.rate_limit_count = 1000000
policy.comments_enabled = True
policy.save()
policy = CommentPolicy.for_site(site)
live = ArticlePage.objects.live().public().order_by("pk")
articles = [a.pk for a in live if closed_reason(a, policy) is None]
db = {"vendor": connection.vendor}
with connection.cursor() as cursor:
    if connection.vendor == "sqlite":
        for pragma in ("journal_mode", "synchronous", "busy_timeout", "wal_autocheckpoint"):
            cursor.execute("PRAGMA " + pragma)
            db[pragma] = cursor.fetchone()[0]
        levels = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
        db["synchronous"] = levels.get(db["synchronous"], db["synchronous"])
        db["transaction_mode"] = connection.settings_dict.get("OPTIONS", {}).get("transaction_mode", "")
    else:
        cursor.execute("SELECT version()")
        db["version"] = cursor.fetchone()[0].split(" on ")[0]
        for name in ("fsync", "synchronous_commit", "full_page_writes", "default_transaction_isolation",
                     "max_connections"):
            cursor.execute("SHOW " + name)
            db[name] = cursor.fetchone()[0]
    db["CONN_MAX_AGE"] = connection.settings_dict.get("CONN_MAX_AGE")
print(MARK + json.dumps({
    "articles": articles,
    "table": Comment._meta.db_table,
    "baseline_id": max(Comment.objects.values_list("pk", flat=True), default=0),
    "demo_comments": Comment.objects.count(),
    "policy": {f: getattr(policy, f) for f in (
        "min_seconds", "rate_limit_count", "rate_limit_minutes", "hold_first_comment", "max_length")},
    "db": db,
}))
"""


class Server:
    """`masthead serve` in its own session; killed as a whole process group."""

    def __init__(self, inst: Installation, args: argparse.Namespace, probe_article: int):
        self.inst = inst
        self.args = args
        self.probe_url = f"http://{HOST}:{inst.port}/comments/ticket/{probe_article}/"
        self.proc: subprocess.Popen | None = None
        self.pgid: int | None = None
        self.starts = 0
        self.all_pgids: list[int] = []

    def start(self) -> None:
        cmd = [
            str(self.inst.masthead),
            "serve",
            "--host",
            HOST,
            "--port",
            str(self.inst.port),
            "--workers",
            str(self.args.workers),
        ]
        if self.args.threads:
            cmd += ["--threads", str(self.args.threads)]
        self.starts += 1
        with open(self.inst.log_path, "ab") as out:
            out.write(
                f"\n===== crash harness: start #{self.starts} at {time.strftime('%H:%M:%S')} =====\n".encode()
            )
            out.flush()
            self.proc = subprocess.Popen(
                cmd,
                cwd=self.inst.data_dir,
                env=self.inst.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.pgid = self.proc.pid  # a new session: the leader's pid is the group id
        self.all_pgids.append(self.pgid)

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> float:
        """Seconds until the server answers a ticket request (which needs the database)."""
        began = time.monotonic()
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        last = ""
        while time.monotonic() - began < timeout:
            if self.proc.poll() is not None:
                raise HarnessError(
                    f"masthead serve exited with {self.proc.returncode} before answering:\n{self.log_tail()}"
                )
            try:
                with opener.open(self.probe_url, timeout=5) as response:
                    if response.status == 200 and "ticket" in json.loads(response.read()):
                        return time.monotonic() - began
            except (OSError, http.client.HTTPException, ValueError) as exc:
                last = str(exc)
            time.sleep(0.1)
        raise HarnessError(
            f"masthead serve did not answer within {timeout:.0f}s ({last}):\n{self.log_tail()}"
        )

    def kill(self) -> None:
        """SIGKILL the master and every worker at once, and reap the master."""
        if self.proc is None:
            return
        try:
            os.killpg(self.pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            raise HarnessError(f"server master {self.proc.pid} survived SIGKILL")
        # The workers are reparented and reaped by init; wait until the group is empty so
        # that no old worker can still answer on the port.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.killpg(self.pgid, 0)
            except ProcessLookupError:
                break
            except PermissionError:
                break
            time.sleep(0.05)
        self.proc = None

    def kill_leftovers(self) -> None:
        """Last resort in `finally`: SIGKILL any of our groups that is still around."""
        if self.proc is not None:
            self.kill()
        for pgid in self.all_pgids:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.inst.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


# --------------------------------------------------------------------------------------------
# Clients


@dataclass
class Outcome:
    client: int
    n: int
    article: int
    body: str
    name: str
    email: str
    keys: list[str] = field(default_factory=list)  # idempotency keys used (one, unless fresh-ticket)
    result: str = "unfinished"  # success | refused | gave_up | no_ticket | unfinished
    comment_id: int | None = None
    state: str = ""
    detail: str = ""
    post_attempts: int = 0
    ticket_attempts: int = 0
    unanswered: int = 0  # attempts that ended without an HTTP answer (connection error, timeout)
    answers_5xx: int = 0
    last_attempt_wall: float = 0.0  # time.time() when the last POST attempt started
    duration: float = 0.0


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.finished = 0
        self.in_flight_posts = 0
        self.errors: collections.Counter[str] = collections.Counter()

    def note(self, kind: str) -> None:
        with self.lock:
            self.errors[kind] += 1


TRANSIENT = (
    urllib.error.URLError,
    ConnectionError,
    TimeoutError,
    socket.timeout,
    http.client.HTTPException,
    OSError,
)


class Client(threading.Thread):
    def __init__(
        self,
        index: int,
        work: list[Outcome],
        base: str,
        args: argparse.Namespace,
        stats: Stats,
        stop: threading.Event,
    ):
        super().__init__(name=f"client-{index}", daemon=True)
        self.index = index
        self.work = work
        self.base = base
        self.args = args
        self.stats = stats
        self.stop_event = stop
        self.jar = http.cookiejar.CookieJar()
        # No proxies: every request goes straight to 127.0.0.1.
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(self.jar)
        )
        self.rng = random.Random(f"{args.seed}-{index}")

    def backoff(self, attempt: int) -> None:
        delay = min(2.0, 0.05 * 2 ** min(attempt, 6)) * self.rng.uniform(0.5, 1.5)
        self.stop_event.wait(delay)

    def fetch_ticket(self, outcome: Outcome, deadline: float) -> tuple[str, str] | None:
        url = f"{self.base}/comments/ticket/{outcome.article}/"
        attempt = 0
        while not self.stop_event.is_set():
            attempt += 1
            outcome.ticket_attempts += 1
            try:
                with self.opener.open(
                    urllib.request.Request(url, headers={"Accept": "application/json"}),
                    timeout=REQUEST_TIMEOUT,
                ) as response:
                    data = json.loads(response.read())
                    return data["ticket"], data["csrf_token"]
            except urllib.error.HTTPError as exc:
                exc.close()
                self.stats.note(f"ticket HTTP {exc.code}")
                if exc.code < 500:
                    outcome.detail = f"ticket fetch answered HTTP {exc.code}"
                    return None
            except TRANSIENT + (ValueError, KeyError) as exc:
                self.stats.note(f"ticket {type(exc).__name__}")
            if time.monotonic() > deadline:
                outcome.detail = f"no ticket after {attempt} attempts"
                return None
            self.backoff(attempt)
        return None

    def post_once(self, outcome: Outcome, ticket: str, csrf: str) -> tuple[int | None, dict | str]:
        """(status, parsed JSON or text); status None when there was no HTTP answer."""
        data = urllib.parse.urlencode(
            {"name": outcome.name, "email": outcome.email, "body": outcome.body, "ticket": ticket}
        ).encode()
        request = urllib.request.Request(
            f"{self.base}/comments/post/{outcome.article}/",
            data=data,
            method="POST",
            headers={
                "Accept": "application/json",
                "X-CSRFToken": csrf,
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        outcome.post_attempts += 1
        outcome.last_attempt_wall = time.time()
        with self.stats.lock:
            self.stats.in_flight_posts += 1
        try:
            try:
                with self.opener.open(request, timeout=REQUEST_TIMEOUT) as response:
                    status, raw = response.status, response.read()
            except urllib.error.HTTPError as exc:
                status = exc.code
                try:
                    raw = exc.read()
                except TRANSIENT:
                    raw = b""
                exc.close()
        except TRANSIENT as exc:
            self.stats.note(f"post {type(exc).__name__}")
            return None, repr(exc)
        finally:
            with self.stats.lock:
                self.stats.in_flight_posts -= 1
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw[:300].decode("utf-8", "replace")

    def one(self, outcome: Outcome) -> None:
        began = time.monotonic()
        deadline = began + self.args.retry_seconds
        got = self.fetch_ticket(outcome, deadline)
        if got is None:
            outcome.result = "no_ticket" if not self.stop_event.is_set() else "unfinished"
            return
        ticket, csrf = got
        outcome.keys.append(ticket.split(":")[1])
        attempt = 0
        while not self.stop_event.is_set():
            attempt += 1
            status, payload = self.post_once(outcome, ticket, csrf)
            if status == 201 and isinstance(payload, dict) and "comment_id" in payload:
                outcome.result, outcome.comment_id, outcome.state = (
                    "success",
                    int(payload["comment_id"]),
                    payload.get("status", ""),
                )
                return
            if status is not None and status < 500:
                # The server answered and said no: a definite error, nothing should be stored.
                outcome.result = "refused"
                outcome.detail = (
                    f"HTTP {status}: {payload if isinstance(payload, str) else json.dumps(payload)[:300]}"
                )
                self.stats.note(f"post HTTP {status}")
                return
            if status is None:
                outcome.unanswered += 1
            else:
                outcome.answers_5xx += 1
                self.stats.note(f"post HTTP {status}")
            if time.monotonic() > deadline:
                outcome.result = "gave_up"
                outcome.detail = (
                    f"no answer after {attempt} attempts ({payload if status is None else status})"
                )
                return
            self.backoff(attempt)
            if self.args.negative_control == "fresh-ticket":
                # What a client without idempotency keys does: start over with a new form.
                got = self.fetch_ticket(outcome, deadline)
                if got is None:
                    outcome.result = "gave_up"
                    return
                ticket, csrf = got
                outcome.keys.append(ticket.split(":")[1])
        outcome.result = "unfinished"

    def run(self) -> None:
        for outcome in self.work:
            if self.stop_event.is_set():
                break
            began = time.monotonic()
            try:
                self.one(outcome)
            except Exception as exc:  # noqa: BLE001 (a harness bug must show up, not hang the run)
                outcome.result, outcome.detail = "unfinished", f"client crashed: {exc!r}"
                self.stats.note("client exception")
            outcome.duration = time.monotonic() - began
            with self.stats.lock:
                self.stats.finished += 1


# --------------------------------------------------------------------------------------------
# Verification


def parse_created(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value))
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)  # USE_TZ: SQLite stores UTC
    return moment.timestamp()


def read_rows(inst: Installation, table: str, baseline: int) -> tuple[list[dict], dict]:
    columns = "id, article_id, body, author_name, author_email, idempotency_key, state, created_at"
    extra: dict = {}
    if inst.args.database == "sqlite":
        path = inst.data_dir / "masthead.sqlite3"
        conn = sqlite3.connect(path, timeout=30)
        try:
            extra["integrity_check"] = conn.execute("PRAGMA integrity_check").fetchone()[0]
            extra["journal_mode (file)"] = conn.execute("PRAGMA journal_mode").fetchone()[0]
            cursor = conn.execute(f"SELECT {columns} FROM {table} WHERE id > ? ORDER BY id", (baseline,))
            names = [d[0] for d in cursor.description]
            rows = [dict(zip(names, r)) for r in cursor.fetchall()]
        finally:
            conn.close()
    else:
        import psycopg
        from psycopg.rows import dict_row

        with psycopg.connect(
            pg_conninfo(inst.args.pg_url, inst.pg_db), connect_timeout=5, row_factory=dict_row
        ) as conn:
            rows = conn.execute(
                f"SELECT {columns} FROM {table} WHERE id > %s ORDER BY id", (baseline,)
            ).fetchall()
            extra["rows in table"] = conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"]
    for row in rows:
        row["idempotency_key"] = uuid.UUID(str(row["idempotency_key"])).hex if row["idempotency_key"] else ""
    return rows, extra


def verify(outcomes: list[Outcome], rows: list[dict]) -> tuple[dict, list[str], list[str]]:
    """Counts, violations (each fails the run) and notes (reported, not failures)."""
    violations: list[str] = []
    notes: list[str] = []
    by_key = {key: o for o in outcomes for key in o.keys}
    by_body: dict[str, list[dict]] = collections.defaultdict(list)
    for row in rows:
        by_body[row["body"]].append(row)

    # Every stored row must be exactly what one of our clients sent under that ticket.
    half_stored = 0
    foreign = 0
    for row in rows:
        outcome = by_key.get(row["idempotency_key"])
        if outcome is None:
            foreign += 1
            violations.append(
                f"row id={row['id']} has an idempotency key no client used: {row['body'][:80]!r}"
            )
            continue
        mismatched = [
            name
            for name, stored, sent in (
                ("body", row["body"], outcome.body),
                ("author_name", row["author_name"], outcome.name),
                ("author_email", row["author_email"], outcome.email.lower()),
                ("article_id", row["article_id"], outcome.article),
            )
            if stored != sent
        ]
        if mismatched:
            half_stored += 1
            violations.append(
                f"row id={row['id']} differs from what c{outcome.client}-{outcome.n} sent in "
                f"{', '.join(mismatched)}"
            )

    duplicates = 0
    for body, stored in by_body.items():
        if len(stored) > 1:
            duplicates += len(stored) - 1
            violations.append(f"stored {len(stored)} times (ids {[r['id'] for r in stored]}): {body!r}")

    counts = collections.Counter(o.result for o in outcomes)
    missing = wrong_id = 0
    replayed = 0
    for o in outcomes:
        stored = by_body.get(o.body, [])
        if o.result == "success":
            if not stored:
                missing += 1
                violations.append(
                    f"LOST: c{o.client}-{o.n} was acknowledged as id {o.comment_id} but is not stored"
                )
            elif o.comment_id not in [r["id"] for r in stored]:
                wrong_id += 1
                violations.append(
                    f"c{o.client}-{o.n} acknowledged as id {o.comment_id}, "
                    f"stored as {[r['id'] for r in stored]}"
                )
            else:
                created = parse_created(stored[0]["created_at"])
                if o.post_attempts > 1 and created is not None and created < o.last_attempt_wall - 0.001:
                    replayed += 1  # stored by an earlier attempt whose answer was lost: the key did its job
    unacked_stored = []
    refused_stored = []
    for o in outcomes:
        if o.result != "success" and by_body.get(o.body):
            (refused_stored if o.result == "refused" else unacked_stored).append(o)
    for o in refused_stored:
        violations.append(
            f"c{o.client}-{o.n} was refused ({o.detail}) yet stored as {[r['id'] for r in by_body[o.body]]}"
        )
    for o in unacked_stored:
        notes.append(
            f"committed but never acknowledged ({o.result}: {o.detail}): "
            f"c{o.client}-{o.n} id {[r['id'] for r in by_body[o.body]]}"
        )
    for o in outcomes:
        if o.result in ("refused", "gave_up", "no_ticket") and not by_body.get(o.body):
            notes.append(f"definite error, not stored: c{o.client}-{o.n}: {o.result}: {o.detail}")

    summary = {
        "acknowledged (201)": counts["success"],
        "  of which held / published": (
            f"{sum(o.state == 'held' for o in outcomes)} / {sum(o.state == 'published' for o in outcomes)}"
        ),
        "  needed a retry": sum(o.result == "success" and o.post_attempts > 1 for o in outcomes),
        "  answered from an earlier, unanswered commit": replayed,
        "POST retries (same ticket)": sum(max(0, o.post_attempts - 1) for o in outcomes),
        "ticket fetch retries": sum(max(0, o.ticket_attempts - 1) for o in outcomes)
        - sum(max(0, len(o.keys) - 1) for o in outcomes),
        "POSTs without an answer": sum(o.unanswered for o in outcomes),
        "POSTs answered 5xx": sum(o.answers_5xx for o in outcomes),
        "definite errors: refused (4xx)": counts["refused"],
        "definite errors: gave up / no ticket": counts["gave_up"] + counts["no_ticket"],
        "unfinished": counts["unfinished"],
        "rows stored by this run": len(rows),
        "DUPLICATES": duplicates,
        "MISSING (acknowledged, not stored)": missing,
        "WRONG ID": wrong_id,
        "HALF-STORED / mismatched rows": half_stored,
        "rows nobody sent": foreign,
        "errors stored: never acknowledged": len(unacked_stored),
        "errors stored: after a refusal": len(refused_stored),
    }
    return summary, violations, notes


# --------------------------------------------------------------------------------------------
# The run


def print_table(title: str, rows: list[tuple[str, object]]) -> None:
    width = max(len(k) for k, _ in rows)
    print(f"\n{title}\n" + "-" * (width + 16))
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    print("-" * (width + 16), flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    hard_deadline = started + args.time_limit
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    args.seed = seed
    rng = random.Random(seed)
    run_tag = secrets.token_hex(4)

    # A SIGTERM (e.g. from a test timeout) must still clean up: turn it into an exception.
    def on_term(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_term)

    inst = server = None
    try:
        masthead = find_masthead(args.masthead)
        port = args.port or free_port()
        inst = Installation(args, masthead, port)
        log(
            f"crash test on {args.database}: {args.clients} clients, {args.comments} comments, "
            f"{args.kills} kills, "
            f"port {port}, seed {seed}, run tag {run_tag}, data dir {inst.data_dir}"
        )
        if args.database == "postgres":
            inst.create_pg_database()

        t0 = time.monotonic()
        inst.run(
            "demo",
            "--no-serve",
            "--host",
            HOST,
            "--port",
            str(port),
            timeout=min(240, max(30, hard_deadline - time.monotonic() - 60)),
        )
        setup = inst.shell(
            SETUP_SNIPPET.replace("MIN_SECONDS", str(int(args.min_seconds))).replace("MARK", repr(MARK))
        )
        log(f"demo + policy ready in {time.monotonic() - t0:.1f}s; policy {setup['policy']}")
        print_table(
            f"Database settings in use ({args.database}, read through the app's own connection)",
            list(setup["db"].items()),
        )
        if not setup["articles"]:
            raise HarnessError("no demo article is open for comments")
        articles = rng.sample(setup["articles"], min(args.articles, len(setup["articles"])))

        # The work: comment n of client c goes to one of several articles.
        per_client: list[list[Outcome]] = [[] for _ in range(args.clients)]
        outcomes: list[Outcome] = []
        for i in range(args.comments):
            c, n = i % args.clients, i // args.clients
            o = Outcome(
                client=c,
                n=n,
                article=articles[(c + n) % len(articles)],
                body=f"crash test {run_tag} c{c}-{n} {uuid.uuid4()}",
                name=f"Crash client {c}",
                email=f"crash-{run_tag}-c{c}@example.org",
            )
            per_client[c].append(o)
            outcomes.append(o)

        server = Server(inst, args, articles[0])
        server.start()
        first_ready = server.wait_ready()
        log(f"server up in {first_ready:.1f}s (pgid {server.pgid})")

        stats = Stats()
        stop = threading.Event()
        base = f"http://{HOST}:{port}"
        clients = [Client(i, per_client[i], base, args, stats, stop) for i in range(args.clients)]
        load_began = time.monotonic()
        for client in clients:
            client.start()

        kills: list[dict] = []
        load_deadline = hard_deadline - 30  # leave time to stop, verify and clean up
        harness_problem = ""
        while len(kills) < args.kills:
            ready_at = time.monotonic()
            interval = rng.uniform(args.kill_min, args.kill_max)
            # Kill by time, or earlier when the clients are ahead of the schedule, so that
            # every kill lands while comments are still being posted.
            threshold = args.comments * (len(kills) + 1) / (args.kills + 1)
            while True:
                now = time.monotonic()
                if not any(c.is_alive() for c in clients) or now > load_deadline:
                    break
                if now - ready_at >= interval or (stats.finished >= threshold and now - ready_at >= 1.0):
                    break
                time.sleep(0.02)
            if not any(c.is_alive() for c in clients):
                break
            if time.monotonic() > load_deadline:
                harness_problem = "time limit reached during the load"
                break
            in_flight = stats.in_flight_posts
            killed_at = time.monotonic()
            server.kill()
            server.start()
            try:
                server.wait_ready()
            except HarnessError as exc:
                harness_problem = f"server did not come back after kill {len(kills) + 1}: {exc}"
                stop.set()
                break
            kills.append(
                {
                    "at": killed_at - load_began,
                    "posts_in_flight": in_flight,
                    "done": stats.finished,
                    "down": time.monotonic() - killed_at,
                }
            )
            log(
                f"kill {len(kills)}/{args.kills} at {killed_at - load_began:5.1f}s: "
                f"{in_flight} POSTs in flight, "
                f"{stats.finished}/{args.comments} comments done; back after {kills[-1]['down']:.1f}s"
            )

        for client in clients:
            client.join(timeout=max(0.0, load_deadline - time.monotonic()))
        if any(c.is_alive() for c in clients):
            harness_problem = harness_problem or "time limit reached before the clients finished"
            stop.set()
            for client in clients:
                client.join(timeout=REQUEST_TIMEOUT + 5)
        load_seconds = time.monotonic() - load_began
        # Stop the last server the hard way too: what was acknowledged must not depend on a clean exit.
        server.kill()
        log(f"load finished in {load_seconds:.1f}s; server killed a final time; verifying in the database")

        rows, extra = read_rows(inst, setup["table"], setup["baseline_id"])
        summary, violations, notes = verify(outcomes, rows)
        if len(kills) < args.kills:
            violations.append(
                f"only {len(kills)} of {args.kills} kills happened while comments were being posted"
            )
        if extra.get("integrity_check", "ok") != "ok":
            violations.append(f"PRAGMA integrity_check: {extra['integrity_check']}")
        acknowledged = summary["acknowledged (201)"]
        if acknowledged < args.min_success * args.comments:
            violations.append(
                f"only {acknowledged}/{args.comments} comments were acknowledged "
                f"(bar: {args.min_success:.0%})"
            )
        if harness_problem:
            violations.append(harness_problem)

        log_text = inst.log_path.read_text(errors="replace")
        tracebacks = log_text.count("Traceback (most recent call last)")
        table = [
            ("database", args.database + (f" ({inst.pg_db})" if inst.pg_db else "")),
            ("clients / comments / workers", f"{args.clients} / {args.comments} / {args.workers}"),
            ("kills (SIGKILL of the process group)", f"{len(kills)} of {args.kills} (+1 final)"),
            ("POSTs in flight at each kill", ", ".join(str(k["posts_in_flight"]) for k in kills) or "-"),
            ("downtime per kill, s", ", ".join(f"{k['down']:.1f}" for k in kills) or "-"),
            *summary.items(),
            *extra.items(),
            ("client-side errors seen", dict(stats.errors.most_common(8)) or "-"),
            ("tracebacks in server log", tracebacks),
            ("load duration, s", f"{load_seconds:.1f}"),
            ("total duration, s", f"{time.monotonic() - started:.1f}"),
            ("seed", seed),
            ("RESULT", "PASS" if not violations else f"FAIL ({len(violations)} violations)"),
        ]
        print_table(f"Crash test summary ({args.database})", table)
        if args.negative_control != "none":
            print(
                f"NOTE: negative control '{args.negative_control}': duplicates are expected here; "
                "a run that finds none only means no kill fell between a commit and its answer."
            )
        for note in notes[:20]:
            print("note:", note)
        if len(notes) > 20:
            print(f"note: ... and {len(notes) - 20} more")
        if tracebacks:
            first = log_text.index("Traceback (most recent call last)")
            print("first traceback in the server log:\n" + log_text[first : first + 2500])
        for violation in violations[:50]:
            print("VIOLATION:", violation)
        if len(violations) > 50:
            print(f"VIOLATION: ... and {len(violations) - 50} more")
        if violations and not args.keep:
            print("server log tail:\n" + log_text[-3000:])
        return 1 if violations else 0
    except HarnessError as exc:
        print(f"HARNESS ERROR: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print(f"interrupted ({exc}); cleaning up", file=sys.stderr)
        return 2
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if server is not None:
            server.kill_leftovers()
        if inst is not None:
            inst.cleanup()


if __name__ == "__main__":
    sys.exit(main())
