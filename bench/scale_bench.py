#!/usr/bin/env python3
"""Uncached page latency at scale: masthead on PostgreSQL with 200,000 articles.

One command builds (or, with --reuse, reuses) a PostgreSQL database holding the demo site plus
--articles generated articles, starts the production server on it with the full-page cache
taken out, times the pages a reader or a crawler asks for, compares them with the targets
(p99 <= 50 ms for a page, <= 500 ms for a 50,000-address sitemap file) and stops the server.

    .venv/bin/python bench/scale_bench.py                         # 200,000 articles: ~15 min build
    .venv/bin/python bench/scale_bench.py --reuse                 # time again on the same database
    .venv/bin/python bench/scale_bench.py --articles 3000 --db masthead_scale_smoke --requests 20 --drop
                                                                  # a smoke run, ~1.5 minutes

What one run does:

1. the data set (skipped with --reuse when the database and its data directory exist):
   * drops and creates the database --db (default masthead_scale) on --pg-url (the loopback
     PostgreSQL, trust auth), and a data directory --data-dir (default
     /var/tmp/masthead-scale-<db>: media, static files, the secret key, build.json);
   * `masthead demo --no-serve` into it (the demo's sections, authors and articles);
   * in a child process, bench/dataset.py's generator (shared with bench/peers_bench.py):
     --articles articles over two years with bylines, tags, further sections and on average
     --comments-per-article comments (a third of the threads with a reply). The measured
     section (--section, default world) gets enough of them for 1,000 pages of
     MASTHEAD_PAGE_SIZE articles; --prolific authors (default 5) write --prolific-share (default
     30 %) of all bylines; related_ids are filled cheaply with articles of the same section;
   * derived data the pages need: VACUUM ANALYZE (the planner's statistics after a bulk load).
     No search index (no page measured here searches); sitemaps use last_published_at, which
     the generator sets;
   * picks the pages to time: a generated article of the measured section with comments and
     related articles, the measured section, the most prolific author; writes build.json.
2. `masthead serve` on 127.0.0.1:--port with DJANGO_SETTINGS_MODULE=peers_uncached_settings
   (bench/peers_uncached_settings.py: masthead's settings minus the full-page cache
   middleware) and bench/ on PYTHONPATH, started in its own session and stopped by its PID.
3. finds the URLs: page 1,000 of the section by following its rel="next" ("Older") links from
   page 1 (999 hops) when the links are a keyset cursor, or ?page=1000 when they are still
   ?page= numbers (the report says which); the articles sitemap file with the most addresses
   (from /sitemap.xml).
4. times each URL with sequential GETs over loopback, one fresh connection each (--warmup
   untimed, then --requests timed; --sitemap-requests for the sitemap file; a URL stops after
   --url-time-limit seconds with what it has, at least 10 requests), and reports p50, p99 (nearest
   rank), max and bytes, with pass/fail against the targets.
5. with --explain (the default), a child process renders each URL once more through Django's
   test client under CaptureQueriesContext on the same database: number of queries, time in the
   database, and EXPLAIN (ANALYZE, BUFFERS) of the slowest queries (explain-<page>.txt).
6. writes scale-bench.json and scale-bench.md to --out (default
   /var/tmp/masthead-scale-results/<time>), prints the Markdown.

The database is kept for --reuse unless --drop is given (then the data directory goes too).

Exit status: 0 when the run completed (whatever the targets say; see --strict), 1 when something
failed along the way (a URL did not answer 200) or, with --strict, a target was missed, 2 when
it could not run (PostgreSQL unreachable, port busy, build failed).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

# bench/harness.py (shared with bench/peers_bench.py): bench/ is on sys.path when this runs as a
# script; imported from elsewhere (the tests), it is put there as for bench/dataset.py.
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from harness import HOST, REPO, UNCACHED_SETTINGS, HarnessError, Proc, http_get  # noqa: E402

PAGE_TARGET_MS = 50.0
SITEMAP_TARGET_MS = 500.0
PAGES = ("article", "home", "section_p1", "section_p1000", "author", "feed", "sitemap")
GET_TIMEOUT = 60.0  # seconds for one timed GET

log = harness.logger("scale-bench")


def parse_args(argv=None) -> argparse.Namespace:
    p = harness.arg_parser(__doc__)
    p.add_argument("--articles", type=int, default=200_000, help="generated articles on top of the demo")
    p.add_argument("--comments-per-article", type=float, default=4.0)
    p.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432", help="the PostgreSQL server")
    p.add_argument("--db", default="masthead_scale", help="database name (created, kept unless --drop)")
    p.add_argument("--data-dir", default="", help="MASTHEAD_DATA_DIR (default /var/tmp/masthead-scale-<db>)")
    p.add_argument("--reuse", action="store_true", help="reuse the database built by an earlier run")
    p.add_argument("--drop", action="store_true", help="drop the database and data directory at the end")
    p.add_argument("--section", default="world", help="slug of the section whose pages 1 and 1,000 are timed")
    p.add_argument("--prolific", type=int, default=5, help="prolific authors")
    p.add_argument("--prolific-share", type=float, default=0.3, help="share of bylines they write")
    p.add_argument("--port", type=int, default=18095)
    p.add_argument("--workers", type=int, default=0, help="gunicorn workers (0: serve's default)")
    p.add_argument("--redis-url", default="", help="REDIS_URL for the server (default: in-process cache)")
    p.add_argument("--warmup", type=int, default=20, help="untimed requests per URL")
    p.add_argument("--requests", type=int, default=200, help="timed requests per page")
    p.add_argument("--sitemap-requests", type=int, default=30, help="timed requests of the sitemap file")
    p.add_argument("--pages", default=" ".join(PAGES), help="which pages to time")
    p.add_argument(
        "--url-time-limit",
        type=float,
        default=180,
        help="stop timing one URL after this many seconds (at least 10 requests; 0: no limit)",
    )
    p.add_argument("--hop-limit", type=float, default=600, help="seconds allowed to walk to page 1,000")
    p.add_argument("--no-explain", dest="explain", action="store_false", help="skip the query analysis")
    p.add_argument("--out", default="", help="output directory (default /var/tmp/masthead-scale-results/<time>)")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    p.add_argument(
        "--explain-only",
        action="store_true",
        help="only the query analysis (step 5) on the database of an earlier run, into --out",
    )
    p.add_argument("--report", metavar="SCALE_BENCH_JSON", help="only re-write the Markdown of an earlier run")
    p.add_argument("--child-build", help=argparse.SUPPRESS)
    p.add_argument("--child-explain", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.articles < 0 or a.requests < 1 or a.sitemap_requests < 1 or a.warmup < 0:
        p.error("--articles, --warmup >= 0; --requests, --sitemap-requests >= 1")
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", a.db):
        p.error("--db must be a plain lower-case identifier")
    return a


# --------------------------------------------------------------------------------------------
# PostgreSQL


def pg_conninfo(pg_url: str, db: str) -> str:
    parts = urlsplit(pg_url.replace("postgres://", "postgresql://", 1))
    return f"postgresql://{parts.netloc}/{db}"


def database_url(pg_url: str, db: str) -> str:
    return f"postgres://{urlsplit(pg_url).netloc}/{db}"


def pg_admin(pg_url: str, sql: str) -> list:
    import psycopg

    with psycopg.connect(pg_conninfo(pg_url, "postgres"), autocommit=True, connect_timeout=5) as conn:
        cur = conn.execute(sql)
        return cur.fetchall() if cur.description else []


def database_exists(pg_url: str, db: str) -> bool:
    return bool(pg_admin(pg_url, f"SELECT 1 FROM pg_database WHERE datname = '{db}'"))


# --------------------------------------------------------------------------------------------
# Measuring


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, math.ceil(p / 100 * len(sorted_values)) - 1))
    return sorted_values[k]


def measure(path: str, port: int, warmup: int, requests: int, time_limit: float = 0) -> dict:
    """`requests` timed GETs after `warmup` untimed ones; with a time_limit, stops timing after
    that many seconds (at least 10 requests), so one very slow page cannot hold the run up."""
    errors: list[str] = []
    for _ in range(warmup):
        status, _, _, _ = http_get(path, port, GET_TIMEOUT)
        if status != 200:
            errors.append(f"warm-up status {status}")
            break
    load_before = os.getloadavg()[0]
    times, sizes = [], []
    started = time.monotonic()
    for i in range(requests):
        if time_limit and i >= 10 and time.monotonic() - started > time_limit:
            break
        status, _, body, seconds = http_get(path, port, GET_TIMEOUT)
        if status != 200:
            errors.append(f"status {status}")
            if len(errors) > 5:
                break
            continue
        times.append(seconds * 1000)
        sizes.append(len(body))
    s = sorted(times)
    return {
        "path": path,
        "requests": len(times),
        "p50_ms": round(percentile(s, 50), 1),
        "p99_ms": round(percentile(s, 99), 1),
        "mean_ms": round(statistics.fmean(s), 1) if s else None,
        "max_ms": round(s[-1], 1) if s else None,
        "min_ms": round(s[0], 1) if s else None,
        "bytes": int(statistics.median(sizes)) if sizes else 0,
        "load": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "errors": errors,
    }


NEXT_RE = re.compile(r"<a\b[^>]*\brel=\"next\"[^>]*>", re.I)
HREF_RE = re.compile(r"\bhref=\"([^\"]+)\"")


def next_link(html: str) -> str | None:
    """The href of the first <a rel="next"> (the "Older articles" link), if any."""
    m = NEXT_RE.search(html)
    if not m:
        return None
    h = HREF_RE.search(m.group(0))
    return h.group(1).replace("&amp;", "&") if h else None


def find_page_1000(section_path: str, port: int, hop_limit: float) -> dict:
    """Page 1,000 of a section: follow rel=next from page 1 when the links are keyset cursors,
    ?page=1000 when they are page numbers."""
    status, _, body, _ = http_get(section_path, port, GET_TIMEOUT)
    if status != 200:
        raise HarnessError(f"{section_path} answered {status}")
    first = next_link(body.decode("utf-8", "replace"))
    if first is None:
        raise HarnessError(f"{section_path} has no rel=next link: fewer than two pages?")
    query = urlsplit(urljoin(section_path, first)).query
    if re.fullmatch(r"page=\d+", query):
        status, _, _, _ = http_get(f"{section_path}?page=1000", port, GET_TIMEOUT)
        if status != 200:
            raise HarnessError(f"{section_path}?page=1000 answered {status}: fewer than 1,000 pages?")
        return {
            "path": f"{section_path}?page=1000",
            "how": "?page=1000 (page-number links: `?page=N` with OFFSET)",
            "link_example": first,
            "hops": 0,
        }
    log(f"section links are a cursor ({first[:60]}…): following 999 of them")
    t0 = time.monotonic()
    url, hops, hop_ms = section_path, 0, []
    link = first
    while hops < 999:
        url = urljoin(url, link)
        rel = urlsplit(url)
        path = rel.path + (f"?{rel.query}" if rel.query else "")
        status, _, body, seconds = http_get(path, port, GET_TIMEOUT)
        hop_ms.append(seconds * 1000)
        if status != 200:
            raise HarnessError(f"hop {hops + 1} to {path} answered {status}")
        hops += 1
        if hops == 999:
            break
        link = next_link(body.decode("utf-8", "replace"))
        if link is None:
            raise HarnessError(f"page {hops + 1} has no rel=next link: the section has fewer than 1,000 pages")
        if time.monotonic() - t0 > hop_limit:
            raise HarnessError(f"walking to page 1,000 took more than {hop_limit:.0f} s (at page {hops + 1})")
    s = sorted(hop_ms)
    return {
        "path": path,
        "how": "followed 999 rel=next (keyset cursor) links from page 1",
        "link_example": first,
        "hops": hops,
        "walk_seconds": round(time.monotonic() - t0, 1),
        "hop_p50_ms": round(percentile(s, 50), 1),
        "hop_p99_ms": round(percentile(s, 99), 1),
    }


def find_sitemap(port: int) -> dict:
    """The articles sitemap file with the most addresses, from the index."""
    status, _, body, seconds = http_get("/sitemap.xml", port, timeout=300)
    if status != 200:
        raise HarnessError(f"/sitemap.xml answered {status}")
    files = re.findall(r"<loc>([^<]*/sitemaps/articles-\d+\.xml)</loc>", body.decode())
    best = None
    for loc in files:
        path = urlsplit(loc).path
        status, _, xml, secs = http_get(path, port, timeout=300)
        n = xml.count(b"<url>")
        log(f"  {path}: {n} addresses, first GET {secs * 1000:.0f} ms")
        if status == 200 and (best is None or n > best["urls"]):
            best = {"path": path, "urls": n}
    if best is None:
        raise HarnessError("the sitemap index lists no articles file")
    best["index_first_get_ms"] = round(seconds * 1000, 1)
    best["files"] = len(files)
    return best


# --------------------------------------------------------------------------------------------
# The run


def git_info() -> dict:
    """The commit and the files changed in the work tree (what was actually served)."""
    git = harness.git
    dirty = [line[3:] for line in git("status", "--porcelain").splitlines() if line[3:].startswith("masthead/")]
    return {"commit": git("rev-parse", "--short", "HEAD"), "dirty_app_files": dirty}


def machine_info() -> dict:
    return {
        "nproc": os.cpu_count(),
        "cpu": harness.cpu_model(),
        "memory": harness.memory_total(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


class Run:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.data_dir = Path(args.data_dir or f"/var/tmp/masthead-scale-{args.db}")
        self.out = Path(args.out or f"/var/tmp/masthead-scale-results/{time.strftime('%Y%m%d-%H%M%S')}")
        self.db_url = database_url(args.pg_url, args.db)
        self.masthead = harness.find_masthead() or REPO / ".venv/bin/masthead"
        self.server: Proc | None = None
        self.failures: list[str] = []
        self.notes: list[str] = []

    def env(self, **extra: str) -> dict:
        key_file = self.data_dir / "secret-key"
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(50))
        redis = {"REDIS_URL": self.args.redis_url} if self.args.redis_url else {}
        return harness.masthead_env(
            self.data_dir,
            key_file.read_text().strip(),
            allowed_hosts="127.0.0.1,localhost,testserver",
            HOME=str(self.data_dir),
            DATABASE_URL=self.db_url,
            **redis,
            **extra,
        )

    def child(self, flag: str, spec: dict, env: dict, timeout: float) -> dict:
        return harness.child_json(__file__, flag, json.dumps(spec), cwd=self.data_dir, env=env, timeout=timeout)

    # ---- 1. the data set

    def build(self) -> dict:
        a = self.args
        info_file = self.data_dir / "build.json"
        if a.reuse:
            if database_exists(a.pg_url, a.db) and info_file.exists():
                info = json.loads(info_file.read_text())
                log(f"reusing database {a.db} ({info['counts']['articles']} articles) and {self.data_dir}")
                info["reused"] = True
                return info
            log(f"--reuse: no complete build of {a.db} in {self.data_dir}; building it")
        t0 = time.monotonic()
        pg_admin(a.pg_url, f'DROP DATABASE IF EXISTS "{a.db}" WITH (FORCE)')
        pg_admin(a.pg_url, f'CREATE DATABASE "{a.db}"')
        if self.data_dir.exists():
            shutil.rmtree(self.data_dir)
        self.data_dir.mkdir(parents=True)
        log(f"database {a.db}, data directory {self.data_dir}: masthead demo --no-serve …")
        harness.masthead_demo(self.masthead, a.port, cwd=self.data_dir, env=self.env(DEBUG="1"), timeout=900)
        t1 = time.monotonic()
        log(f"… demo in {t1 - t0:.0f} s; generating {a.articles:,} articles …")
        spec = {
            "articles": a.articles,
            "comments": a.comments_per_article,
            "section": a.section,
            "prolific": [a.prolific, a.prolific_share],
        }
        info = self.child("--child-build", spec, self.env(), timeout=4 * 3600)
        info["demo_seconds"] = round(t1 - t0, 1)
        info["build_seconds"] = round(time.monotonic() - t0, 1)
        info["built_at"] = time.strftime("%Y-%m-%d %H:%M %Z")
        info_file.write_text(json.dumps(info, indent=1))
        log(f"… data set ready in {info['build_seconds']:.0f} s: {info['counts']}")
        info["reused"] = False
        return info

    # ---- 2. the server

    def start_server(self) -> None:
        a = self.args
        if harness.port_in_use(a.port):
            raise HarnessError(f"port {a.port} is already in use on {HOST}: pick another with --port")
        cmd = harness.serve_cmd(self.masthead, a.port, a.workers)
        self.out.mkdir(parents=True, exist_ok=True)
        env = self.env(DJANGO_SETTINGS_MODULE=UNCACHED_SETTINGS)
        self.server = Proc("masthead serve", cmd, env, self.data_dir, self.out / "server.log", log)
        self.server.start()
        harness.wait_http(a.port, "/", self.server, timeout=180, request_timeout=30, interval=0.3)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def drop(self) -> None:
        pg_admin(self.args.pg_url, f'DROP DATABASE IF EXISTS "{self.args.db}" WITH (FORCE)')
        shutil.rmtree(self.data_dir, ignore_errors=True)
        log(f"dropped database {self.args.db} and {self.data_dir}")


def build_markdown(report: dict) -> str:
    m, b, a = report["machine"], report["build"], report["args"]
    lines = [
        f"## Scale run: {b['counts']['articles']:,} articles on PostgreSQL ({report['date']})",
        "",
        f"Command: `{report['command']}`",
        "",
        f"Code: commit {report.get('git', {}).get('commit') or '?'}"
        + (
            f" plus uncommitted changes to {len(report['git']['dirty_app_files'])} files under masthead/"
            if report.get("git", {}).get("dirty_app_files")
            else ""
        )
        + ".",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory']}, load average at start "
        f"{m['loadavg'][0]} / {m['loadavg'][1]} / {m['loadavg'][2]}; {report['postgres']}.",
        "",
        f"Data: {b['counts']['articles']:,} articles ({b['counts']['generated']:,} generated), "
        f"{b['counts']['comments']:,} comments, {b['counts']['bylines']:,} bylines, "
        f"{b['counts']['authors']:,} authors, {b['counts']['tags']:,} tags; database "
        f"{b.get('db_size', '?')}; built in {b.get('build_seconds', '?')} s"
        + (" (reused)" if b.get("reused") else "")
        + ".",
        "",
        f"Server: `masthead serve` ({report['server']}) with {UNCACHED_SETTINGS} (removed: "
        f"{', '.join(report.get('removed_middleware') or ['?'])}); sequential GETs over loopback, "
        f"one connection each, {a['warmup']} untimed then {a['requests']} timed per page "
        f"({a['sitemap_requests']} for the sitemap file).",
        "",
        "| page | URL | requests | p50 ms | p99 ms | max ms | bytes | target p99 | result | load avg |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for name, r in report["results"].items():
        verdict = "pass" if r["pass"] else "**miss**"
        if r["errors"]:
            verdict += f" ({len(r['errors'])} errors)"
        lines.append(
            f"| {name} | `{r['path']}` | {r['requests']} | {r['p50_ms']} | {r['p99_ms']} | {r['max_ms']} "
            f"| {r['bytes']:,} | {r['target_ms']:.0f} | {verdict} | {r['load'][0]}–{r['load'][1]} |"
        )
    lines.append("")
    p1000 = report.get("section_p1000")
    if p1000:
        lines.append(f"Section page 1,000: {p1000['how']}; first link `{p1000['link_example']}`.")
        if p1000.get("hops"):
            lines.append(
                f"Walk: {p1000['hops']} hops in {p1000['walk_seconds']} s "
                f"(per hop p50 {p1000['hop_p50_ms']} ms, p99 {p1000['hop_p99_ms']} ms)."
            )
        lines.append("")
    sm = report.get("sitemap")
    if sm:
        lines.append(
            f"Sitemap: `{sm['path']}` holds {sm['urls']:,} addresses ({sm['files']} articles files in the "
            f"index; the index itself took {sm['index_first_get_ms']} ms on its first, uncached GET)."
        )
        lines.append("")
    if report.get("explain"):
        lines += [
            "Queries per page (one render through Django's test client, CaptureQueriesContext):",
            "",
            "| page | queries | DB wall ms | DB execution ms (EXPLAIN ANALYZE) | render ms | slowest query, execution ms |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name, e in report["explain"].items():
            slow = e["slowest"][0].get("exec_ms", e["slowest"][0]["ms"]) if e.get("slowest") else 0
            lines.append(
                f"| {name} | {e['queries']} | {e['db_ms']} | {e.get('db_exec_ms', '')} | {e['render_ms']} | {slow} |"
            )
        lines.append("")
        lines.append("The slowest queries with EXPLAIN ANALYZE are in explain-<page>.txt next to this report.")
        lines.append("")
    for note in report["notes"] + [f"FAILED: {f}" for f in report["failures"]]:
        lines.append(f"- {note}")
    return "\n".join(lines).rstrip() + "\n"


def main_parent(args: argparse.Namespace) -> int:
    run = Run(args)
    started = time.monotonic()
    rc = 0
    try:
        try:
            pg_admin(args.pg_url, "SELECT 1")
        except Exception as exc:  # noqa: BLE001
            raise HarnessError(f"PostgreSQL at {args.pg_url} is not reachable: {exc}") from exc
        machine = machine_info()
        build = run.build()
        run.start_server()
        a = args
        names = args.pages.split()
        paths = {
            "article": build["article_path"],
            "home": "/",
            "section_p1": build["section_path"],
            "author": build["author_path"],
            "feed": "/feeds/rss/",
        }
        p1000 = sitemap = None
        if "section_p1000" in names:
            try:
                p1000 = find_page_1000(build["section_path"], a.port, a.hop_limit)
                paths["section_p1000"] = p1000["path"]
                log(f"section page 1,000: {p1000['path'][:100]} ({p1000['how']})")
            except HarnessError as exc:  # too few articles for 1,000 pages (a smoke run)
                run.notes.append(f"section page 1,000 not timed: {exc}")
                log(run.notes[-1])
        if "sitemap" in names:
            sitemap = find_sitemap(a.port)
            paths["sitemap"] = sitemap["path"]
            if sitemap["urls"] < 50_000:
                run.notes.append(
                    f"the largest articles sitemap file holds {sitemap['urls']:,} addresses, not 50,000 "
                    "(too few articles for a full file)"
                )
        results = {}
        for name in names:
            if name not in paths:
                continue
            n = a.sitemap_requests if name == "sitemap" else a.requests
            target = SITEMAP_TARGET_MS if name == "sitemap" else PAGE_TARGET_MS
            log(f"timing {name}: {paths[name][:90]} ({n} requests)")
            warm = min(a.warmup, 3) if name == "sitemap" else a.warmup
            r = measure(paths[name], a.port, warm, n, a.url_time_limit)
            if r["requests"] < n and not r["errors"]:
                run.notes.append(
                    f"{name}: timed {r['requests']} requests, not {n}: --url-time-limit {a.url_time_limit:.0f} s"
                )
            r["target_ms"] = target
            r["pass"] = bool(r["requests"]) and not r["errors"] and r["p99_ms"] <= target
            if r["errors"]:
                run.failures.append(f"{name} {paths[name]}: {r['errors'][:3]}")
            results[name] = r
            log(f"  p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, {r['bytes']:,} bytes")
        run.stop()
        explain = {}
        if args.explain:
            log("query analysis: one render per page under CaptureQueriesContext, EXPLAIN ANALYZE …")
            spec = {"paths": paths, "out": str(run.out), "port": a.port}
            explain = run.child(
                "--child-explain", spec, run.env(DJANGO_SETTINGS_MODULE=UNCACHED_SETTINGS), timeout=1800
            )
        removed = explain.pop("_removed_middleware", None)
        pg_version = explain.pop("_postgres", None) or "PostgreSQL"
        build["db_size"] = explain.pop("_db_size", build.get("db_size"))
        server_desc = f"{a.workers} workers" if a.workers else "default workers"
        report = {
            "date": time.strftime("%Y-%m-%d %H:%M %Z"),
            "command": " ".join([".venv/bin/python", "bench/scale_bench.py", *sys.argv[1:]]),
            "machine": machine,
            "git": git_info(),
            "load_at_end": [round(x, 2) for x in os.getloadavg()],
            "postgres": pg_version,
            "server": server_desc,
            "removed_middleware": removed,
            "build": build,
            "args": {k: v for k, v in vars(args).items() if not k.startswith("child")},
            "section_p1000": p1000,
            "sitemap": sitemap,
            "results": results,
            "explain": explain,
            "notes": run.notes,
            "failures": run.failures,
            "wall_seconds": round(time.monotonic() - started),
        }
        md = build_markdown(report)
        run.out.mkdir(parents=True, exist_ok=True)
        (run.out / "scale-bench.json").write_text(json.dumps(report, indent=1))
        (run.out / "scale-bench.md").write_text(md)
        print(md)
        log(f"results in {run.out} ({(time.monotonic() - started) / 60:.1f} min)")
        if run.failures or (args.strict and not all(r["pass"] for r in results.values())):
            rc = 1
    except HarnessError as exc:
        log(f"ERROR: {exc}")
        rc = 2 if run.server is None else 1
    except (KeyboardInterrupt, subprocess.TimeoutExpired) as exc:
        log(f"interrupted: {exc!r}")
        rc = 2
    finally:
        run.stop()
        if args.drop:
            try:
                run.drop()
            except Exception as exc:  # noqa: BLE001
                log(f"WARNING: could not drop {args.db}: {exc}")
    return rc


# --------------------------------------------------------------------------------------------
# Children: Django configured for the scale site


def target_pages(section_slug: str, prolific: list[str]) -> dict:
    """The article, section and author to time (deterministic for a given data set)."""
    from django.db.models import Count, Q
    from wagtail.models import Site

    from masthead.news.models import ArticlePage, Author, SectionPage

    site = Site.objects.get(is_default_site=True)
    root = site.root_page.url_path

    def public(url_path: str) -> str:
        return "/" + url_path[len(root) :]

    section = SectionPage.objects.get(slug=section_slug)
    article = (
        ArticlePage.objects.live()
        .child_of(section)
        .exclude(related_ids=[])
        .annotate(n=Count("comments", filter=Q(comments__state="approved")))
        .filter(n__gte=8)
        .order_by("-first_published_at")
        .first()
    ) or ArticlePage.objects.live().child_of(section).order_by("-first_published_at").first()
    author = (
        Author.objects.filter(slug__in=prolific).annotate(n=Count("bylines")).order_by("-n").first()
        if prolific
        else None
    ) or Author.objects.annotate(n=Count("bylines")).order_by("-n").first()
    return {
        "article_path": public(article.url_path),
        "article_pk": article.pk,
        "article_comments": article.comments.filter(state="approved").count(),
        "section_path": public(section.url_path),
        "author_path": f"/authors/{author.slug}/",
        "author_articles": author.bylines.count(),
    }


def child_build(spec_json: str) -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from taggit.models import Tag

    from dataset import generate  # bench/ is on sys.path (see the imports at the top)

    from masthead.comments.models import Comment
    from masthead.news.models import ArticleByline, ArticlePage, Author

    spec = json.loads(spec_json)
    n = spec["articles"]
    from masthead.news.models import SectionPage

    # The measured section: enough articles for 1,000 pages (plus a margin), or its equal share.
    sections = SectionPage.objects.exclude(title="Main Stories").count()
    need = 1000 * settings.MASTHEAD_PAGE_SIZE * 1.05
    share = max(1.0 / sections, min(0.6, need / n)) if n else 1.0 / sections
    # Weights are relative, the other sections weigh 1/sections each: w / (w + (S - 1) / S) = share.
    weights = {spec["section"]: share * (sections - 1) / (sections * (1 - share))} if n else None
    step = max(5000, n // 20)

    def progress(made: int, total: int) -> None:
        if made % step < 500 or made == total:
            log(f"  {made:,} / {total:,} articles")

    generated = generate(
        n,
        spec["comments"],
        section_weights=weights,
        prolific=tuple(spec["prolific"]),
        related=True,
        progress=progress,
    )
    t0 = time.monotonic()
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    derived = round(time.monotonic() - t0, 1)
    info = {
        "counts": {
            "articles": ArticlePage.objects.count(),
            "generated": generated["generated"],
            "comments": Comment.objects.count(),
            "bylines": ArticleByline.objects.count(),
            "authors": Author.objects.count(),
            "tags": Tag.objects.count(),
        },
        "per_section": generated["per_section"],
        "prolific_authors": generated["prolific_authors"],
        "generate_seconds": generated["generate_seconds"],
        "analyze_seconds": derived,
        "page_size": settings.MASTHEAD_PAGE_SIZE,
        **target_pages(spec["section"], generated["prolific_authors"]),
    }
    print(json.dumps(info))


def child_explain(spec_json: str) -> None:
    """Render each URL through Django's test client on the bench database: queries, DB time,
    and EXPLAIN (ANALYZE, BUFFERS) of the three slowest."""
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    spec = json.loads(spec_json)
    out = Path(spec["out"])
    client = Client(HTTP_HOST=f"{HOST}:{spec['port']}")
    result: dict = {}
    for name, path in spec["paths"].items():
        client.get(path)  # warm: renditions, caches, connection
        t0 = time.perf_counter()
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(path)
        render_ms = (time.perf_counter() - t0) * 1000
        queries = [{"ms": round(float(q["time"]) * 1000, 2), "sql": q["sql"]} for q in ctx.captured_queries]
        # Wall times above include waiting for a CPU on a busy machine; EXPLAIN ANALYZE's
        # execution time is the database's own work, so queries are ranked by it.
        for q in queries:
            q["exec_ms"] = None
            if connection.vendor == "postgresql" and q["sql"].lstrip().upper().startswith("SELECT"):
                try:
                    with connection.cursor() as cursor:
                        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + q["sql"])
                        q["plan"] = "\n".join(row[0] for row in cursor.fetchall())
                    m = re.search(r"Execution Time: ([0-9.]+) ms", q["plan"])
                    q["exec_ms"] = float(m.group(1)) if m else None
                except Exception as exc:  # noqa: BLE001 (a query Django printed with odd quoting)
                    q["plan"] = f"(EXPLAIN failed: {exc})"
        slowest = sorted(queries, key=lambda q: -(q["exec_ms"] if q["exec_ms"] is not None else q["ms"]))[:3]
        text = [
            f"{name}: GET {path} -> {response.status_code}, {len(queries)} queries, {render_ms:.0f} ms\n",
            "\nEvery query: EXPLAIN ANALYZE execution ms / wall ms as captured, first 160 characters\n",
        ]
        text += [f"{q['exec_ms']} / {q['ms']}  {q['sql'][:160]}\n" for q in queries]
        for q in slowest:
            text.append(f"\n--- execution {q['exec_ms']} ms (wall {q['ms']} ms)\n{q['sql']}\n{q.get('plan', '')}\n")
        (out / f"explain-{re.sub(r'[^A-Za-z0-9_.-]+', '_', name).strip('_')}.txt").write_text("".join(text))
        # Where the rest of the time goes: one more render under cProfile.
        import cProfile
        import io
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        client.get(path)
        prof.disable()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(r"masthead|django/template|wagtail|sitemaps|feed", 40)
        buf.write("\n\n")
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(25)
        (out / f"profile-{re.sub(r'[^A-Za-z0-9_.-]+', '_', name).strip('_')}.txt").write_text(buf.getvalue())
        result[name] = {
            "status": response.status_code,
            "queries": len(queries),
            "db_ms": round(sum(q["ms"] for q in queries), 1),
            "db_exec_ms": round(sum(q["exec_ms"] or 0 for q in queries), 1),
            "render_ms": round(render_ms, 1),
            "slowest": [{"ms": q["ms"], "exec_ms": q["exec_ms"], "sql": q["sql"][:300]} for q in slowest],
        }
    result["_removed_middleware"] = list(getattr(settings, "REMOVED_MIDDLEWARE", []))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT version(), pg_size_pretty(pg_database_size(current_database()))")
            version, size = cursor.fetchone()
            cursor.execute("SHOW shared_buffers")
            buffers = cursor.fetchone()[0]
            cursor.execute("SHOW work_mem")
            work_mem = cursor.fetchone()[0]
        result["_postgres"] = f"{version.split(' on ')[0]}, shared_buffers {buffers}, work_mem {work_mem}"
        result["_db_size"] = size
    print(json.dumps(result))


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child_build:
        child_build(args.child_build)
        return 0
    if args.child_explain:
        child_explain(args.child_explain)
        return 0
    if args.report:
        report = json.loads(Path(args.report).read_text())
        md = build_markdown(report)
        Path(args.report).with_suffix(".md").write_text(md)
        print(md)
        return 0
    if args.explain_only:
        run = Run(args)
        info_file = run.data_dir / "build.json"
        if not info_file.exists():
            log(f"no build in {run.data_dir}: run the benchmark first")
            return 2
        b = json.loads(info_file.read_text())
        paths = {
            "article": b["article_path"],
            "home": "/",
            "section_p1": b["section_path"],
            "author": b["author_path"],
            "feed": "/feeds/rss/",
        }
        for extra in args.pages.split():
            if extra.startswith("/"):  # any other path to analyse
                paths[extra] = extra
        run.out.mkdir(parents=True, exist_ok=True)
        spec = {"paths": paths, "out": str(run.out), "port": args.port}
        try:
            result = run.child(
                "--child-explain", spec, run.env(DJANGO_SETTINGS_MODULE=UNCACHED_SETTINGS), 1800
            )
        except HarnessError as exc:
            log(f"ERROR: {exc}")
            return 1
        (run.out / "explain.json").write_text(json.dumps(result, indent=1))
        print(json.dumps(result, indent=1))
        return 0
    return main_parent(args)


if __name__ == "__main__":
    sys.exit(main())
