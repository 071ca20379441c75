#!/usr/bin/env python3
"""Serving speed against peers: masthead cached, uncached and behind Varnish, side by side
with nginx (the ceiling), WordPress, a plain Wagtail site and Ghost, in one run.

The peers come from the shared peer scripts (`--peers-dir`, default ../shared/bench/peers
relative to the repository root, or $MASTHEAD_PEERS_DIR). They must have been set up first,
as root: setup-debian.sh, setup-wordpress.sh, setup-wagtail.sh and, if the npm registry is
reachable, setup-ghost.sh. Their state lives in $PEERS_STATE (default /var/tmp/masthead-peers).
This script only calls their run-*.sh and compare.py; it never copies or changes them.

What one run does:

1. builds a throwaway masthead site in a temporary MASTHEAD_DATA_DIR (SQLite):
   `masthead demo --no-serve` (the demo, with the seed article), then, in a child process,
   the peers' content (seed_content.py: 19 numbered "briefing" copies of the seed article
   through masthead's importer, and the peers' 3 comments under the seed article), and
   --articles generated articles with bylines, tags and --comments-per-article comments on
   average (pages bulk-inserted with their tree paths, the rest with bulk_create);
2. starts, each in its own session and stopped by its PID at the end:
   * masthead cached:   `masthead serve` on 127.0.0.1:18090 with default settings
                        (the full-page cache is in-process by default);
   * masthead uncached: `masthead serve` on :18092 with bench/peers_uncached_settings.py,
                        which is masthead.settings minus the page-cache middleware;
   * masthead behind Varnish, when varnishd and deploy/varnish/masthead.vcl exist: varnishd
     on :18091 with that VCL (its backend pointed at :18093), in front of a third
     `masthead serve` on :18093 configured to purge that Varnish;
   and the peers (run-wordpress.sh, run-wagtail.sh, run-ghost.sh start), snapshots the
   masthead, Wagtail and WordPress pages for nginx (run-static.sh), and starts that nginx;
3. runs the peers' compare.py over every (page, system) pair: the seed article and the home
   page, `wrk -t1 -c16 -d10s` by default, --rounds interleaved rounds in rotated order;
4. times publish-to-visible with caching on, without and with Varnish: a publisher process
   (same DATABASE_URL/REDIS_URL/settings as the server) republishes the seed article with a
   new headline through Wagtail (save_revision().publish()), while the public URL is polled
   over fresh connections until the new headline is seen by --stable consecutive requests;
5. times the uncached seed article in one process, whole and with its templates free, against
   the Wagtail peer's (bench/render_split.py; --split-rounds 0 leaves it out): how far any
   change to rendering alone could take the uncached target;
6. writes peers-bench.json and peers-bench.md (medians, ratios to the ceiling and to each
   peer as medians of per-round ratios, the issue's targets with pass/fail) to --out, prints
   the Markdown, and stops everything it started.

    .venv/bin/python bench/peers_bench.py                  # full run, ~20 minutes
    .venv/bin/python bench/peers_bench.py --rounds 1 --duration 3 --articles 200   # a smoke run

Exit status: 0 when the run completed (whatever the targets say; see --strict), 1 when it ran
but some part failed (a server did not start, a publish never became visible) or, with
--strict, a target failed, 2 when it could not run at all (missing peers, busy ports).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

# bench/harness.py (shared with bench/scale_bench.py): bench/ is on sys.path when this runs as a
# script; imported from elsewhere, it is put there as for bench/dataset.py.
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
import render_split  # noqa: E402
from harness import (  # noqa: E402
    HOST,
    REPO,
    UNCACHED_SETTINGS,
    HarnessError,
    Proc,
    http_get,
    port_in_use,
    wait_http,
)

SEED_SLUG = "us-calls-on-israel-to-end-large-scale-ground-invasion-in-gaza"
VCL_PATH = REPO / "deploy" / "varnish" / "masthead.vcl"
# The targets, as ratios of the same run.
TARGETS = {
    "cached_vs_wagtail_cached": 1.5,
    "varnish_vs_ceiling": 0.6,
    "uncached_vs_wordpress": 3.0,
    "uncached_vs_wagtail": 1.5,
    "seed_html_bytes": 40 * 1024,
    "publish_to_visible_s": 1.0,
}


log = harness.logger("peers-bench")


# --------------------------------------------------------------------------------------------
# Command line


def parse_args(argv=None) -> argparse.Namespace:
    p = harness.arg_parser(__doc__)
    p.add_argument(
        "--peers-dir",
        default=os.environ.get("MASTHEAD_PEERS_DIR", str(REPO.parent / "shared/bench/peers")),
        help="the shared peer scripts (default: $MASTHEAD_PEERS_DIR or ../shared/bench/peers)",
    )
    p.add_argument(
        "--peers",
        default="static wordpress wagtail ghost",
        help="which peers to include (ghost is skipped if it was not set up)",
    )
    p.add_argument(
        "--masthead-rows",
        default="cached uncached varnish",
        help="which masthead rows to include (varnish is skipped when varnishd or the VCL is missing)",
    )
    p.add_argument("--articles", type=int, default=2000, help="generated articles on top of the demo")
    p.add_argument(
        "--comments-per-article", type=float, default=4.0, help="average comments per generated article"
    )
    p.add_argument(
        "--no-peer-content",
        action="store_true",
        help="do not add the peers' 19 briefing copies and 3 seed comments",
    )
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument(
        "--split-rounds",
        type=int,
        default=3,
        help="rounds of bench/render_split.py (the uncached article in one process, whole and with its "
        "templates free, against Wagtail's); 0 leaves it out",
    )
    p.add_argument("--split-requests", type=int, default=50, help="requests per timed batch of render_split")
    p.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    p.add_argument("--conns", type=int, default=16)
    p.add_argument("--warmup", type=int, default=3, help="seconds of wrk warm-up per target before round 0")
    p.add_argument("--pages", default="article home", help="pages to measure: article, home")
    p.add_argument(
        "--gzip-pages",
        default="article",
        help="pages for the supplementary pass with `Accept-Encoding: gzip` (what browsers send); '' for none",
    )
    p.add_argument(
        "--workers", type=int, default=0, help="gunicorn workers per masthead server (0: serve's default)"
    )
    p.add_argument(
        "--port", type=int, default=18090, help="masthead cached (the port the peer scripts reserve)"
    )
    p.add_argument("--varnish-port", type=int, default=18091)
    p.add_argument("--uncached-port", type=int, default=18092)
    p.add_argument("--varnish-backend-port", type=int, default=18093)
    p.add_argument("--vcl", default=str(VCL_PATH), help="VCL for the Varnish row")
    p.add_argument(
        "--varnish-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for the masthead server behind Varnish and its publisher; "
        "default VARNISH_URL=http://127.0.0.1:{port}, where {port} is --varnish-port",
    )
    p.add_argument(
        "--redis-url",
        default="",
        help="REDIS_URL for every masthead server (loopback only); default: in-process cache",
    )
    p.add_argument("--publish-reps", type=int, default=5, help="publish-to-visible repetitions per mode")
    p.add_argument("--poll-interval", type=float, default=0.02, help="seconds between polls")
    p.add_argument("--stable", type=int, default=10, help="consecutive polls that must show the new headline")
    p.add_argument(
        "--publish-timeout", type=float, default=30.0, help="give up on one publish after this many seconds"
    )
    p.add_argument(
        "--out", default="", help="output directory (default $PEERS_STATE/results/masthead-<time>)"
    )
    p.add_argument("--keep", action="store_true", help="keep the masthead data directory")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    p.add_argument("--time-limit", type=float, default=45 * 60, help="hard limit for the whole run, seconds")
    p.add_argument(
        "--report",
        metavar="PEERS_BENCH_JSON",
        help="only re-write the Markdown report from an earlier run's peers-bench.json",
    )
    p.add_argument("--child-build", help=argparse.SUPPRESS)
    p.add_argument("--child-publisher", help=argparse.SUPPRESS)
    p.add_argument("--child-middleware", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.rounds < 1 or a.duration < 1 or a.conns < 1 or a.articles < 0 or a.publish_reps < 0:
        p.error("--rounds, --duration, --conns must be >= 1; --articles, --publish-reps >= 0")
    if a.split_rounds < 0 or a.split_requests < 1:
        p.error("--split-rounds must be >= 0 and --split-requests >= 1")
    return a


# --------------------------------------------------------------------------------------------
# Polling (processes we start, HTTP helpers: bench/harness.py)


class Poller(threading.Thread):
    """GETs one URL over fresh connections until stopped: (sent, answered, shows marker) per poll."""

    def __init__(self, path: str, port: int, marker: str, interval: float, limit: float):
        super().__init__(daemon=True)
        self.path, self.port, self.marker, self.interval, self.limit = (
            path,
            port,
            marker.encode(),
            interval,
            limit,
        )
        self.polls: list[tuple[float, float, bool]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        end = time.monotonic() + self.limit  # bounded even if nobody stops it
        while not self.stop.is_set() and time.monotonic() < end:
            sent = time.time()
            try:
                status, _, body, _ = http_get(self.path, self.port, timeout=5)
                self.polls.append((sent, time.time(), status == 200 and self.marker in body))
            except OSError:
                self.polls.append((sent, time.time(), False))
            time.sleep(self.interval)


# --------------------------------------------------------------------------------------------
# The run


class Run:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.peers_dir = Path(args.peers_dir).resolve()
        self.state = Path(os.environ.get("PEERS_STATE", "/var/tmp/masthead-peers"))
        self.stamp = time.strftime("%Y%m%d-%H%M%S")
        self.out = Path(args.out) if args.out else self.state / "results" / f"masthead-{self.stamp}"
        self.data_dir = Path(tempfile.mkdtemp(prefix="masthead-peers-bench-"))
        self.run_dir = self.data_dir / "run"
        self.procs: list[Proc] = []
        self.started_peers: list[str] = []
        self.notes: list[str] = []
        self.failures: list[str] = []
        self.masthead = harness.find_masthead()
        if self.masthead is None:
            raise HarnessError("masthead executable not found next to this Python or in .venv/bin")
        self.secret = secrets.token_urlsafe(50)
        self.env = harness.masthead_env(self.data_dir, self.secret)
        if args.redis_url:
            host = re.sub(r"^redis://(?:[^@/]*@)?([^:/]+).*$", r"\1", args.redis_url)
            if host not in {"127.0.0.1", "localhost", "::1", "[::1]"}:
                raise HarnessError("--redis-url must point at this machine")
            self.env["REDIS_URL"] = args.redis_url
        self.seed_path = ""
        self.rows = args.masthead_rows.split()
        self.peers = args.peers.split()
        self.pages = args.pages.split()

    # ---- helpers

    def peer_script(self, name: str, *args: str, timeout: float = 300) -> None:
        env = harness.clean_env()
        env["PEERS_STATE"] = str(self.state)
        cmd = [str(self.peers_dir / name), *args]
        r = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
        if r.returncode != 0:
            raise HarnessError(
                f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
            )

    def child(self, *args: str, env: dict, timeout: float) -> dict:
        return harness.child_json(__file__, *args, cwd=self.data_dir, env=env, timeout=timeout)

    # ---- 0. what is there

    def preflight(self) -> None:
        missing = [t for t in ("wrk", "nginx") if shutil.which(t) is None]
        if missing:
            raise HarnessError(
                f"missing {', '.join(missing)}: run {self.peers_dir}/setup-debian.sh (as root)"
            )
        for f in ("compare.py", "run-static.sh", "common.sh", "seed_content.py"):
            if not (self.peers_dir / f).exists():
                raise HarnessError(f"{self.peers_dir / f} not found: give --peers-dir or MASTHEAD_PEERS_DIR")
        data = self.state / "data"
        ready = {
            "wordpress": (data / "mariadb").is_dir()
            and Path("/etc/wordpress/config-masthead-bench.php").exists(),
            "wagtail": (data / "wagsite" / "manage.py").exists(),
            "ghost": any((data / "ghost" / "versions").glob("*/node_modules"))
            if (data / "ghost" / "versions").is_dir()
            else False,
            "static": True,
        }
        for peer in list(self.peers):
            if not ready.get(peer, False):
                why = {"ghost": "setup-ghost.sh has not installed Ghost"}.get(
                    peer, f"setup-{peer}.sh has not been run"
                )
                self.notes.append(f"peer {peer} skipped: {why} (state {self.state})")
                log(self.notes[-1])
                self.peers.remove(peer)
        if "varnish" in self.rows:
            if shutil.which("varnishd") is None:
                self.rows.remove("varnish")
                self.notes.append(
                    "masthead behind Varnish skipped: varnishd is not installed (apt-get install varnish)"
                )
            elif not Path(self.args.vcl).exists():
                self.rows.remove("varnish")
                self.notes.append(f"masthead behind Varnish skipped: no VCL at {self.args.vcl} yet")
            if "varnish" not in self.rows:
                log(self.notes[-1])
        ports = {self.args.port: "masthead cached"}
        if "uncached" in self.rows:
            ports[self.args.uncached_port] = "masthead uncached"
        if "varnish" in self.rows:
            ports[self.args.varnish_port] = "varnish"
            ports[self.args.varnish_backend_port] = "masthead behind varnish"
        busy = [f"{p} ({n})" for p, n in ports.items() if port_in_use(p)]
        if busy:
            raise HarnessError(
                f"ports already in use on {HOST}: {', '.join(busy)}; stop that server or pick other ports"
            )

    # ---- 1. the data set

    def build(self) -> dict:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.out.mkdir(parents=True, exist_ok=True)
        t0 = time.monotonic()
        log(f"building the masthead site in {self.data_dir}: demo …")
        harness.masthead_demo(
            self.masthead,
            self.args.port,
            cwd=self.data_dir,
            env={**self.env, "DEBUG": "1", "HOME": str(self.data_dir)},
            timeout=600,
        )
        t1 = time.monotonic()
        peer_json = ""
        if not self.args.no_peer_content:
            # The seed file the peers were seeded with (common.sh: SEED_FILE, default ../../seed/).
            seed_file = os.environ.get("SEED_FILE") or str(
                self.peers_dir.parent.parent / "seed" / "seed-article.txt"
            )
            r = subprocess.run(
                [sys.executable, str(self.peers_dir / "seed_content.py"), seed_file],
                capture_output=True,
                text=True,
                timeout=60,
            )
            if r.returncode != 0:
                raise HarnessError(f"seed_content.py {seed_file} failed: {r.stderr[-1000:]}")
            peer_json = str(self.data_dir / "peer-seed.json")
            Path(peer_json).write_text(r.stdout)
        spec = json.dumps(
            {
                "articles": self.args.articles,
                "comments": self.args.comments_per_article,
                "peer_json": peer_json,
            }
        )
        log(f"… demo in {t1 - t0:.0f} s; generating {self.args.articles} articles with comments …")
        info = self.child("--child-build", spec, env=self.env, timeout=3600)
        info["demo_seconds"] = round(t1 - t0, 1)
        info["build_seconds"] = round(time.monotonic() - t0, 1)
        self.seed_path = info["seed_path"]
        self.build_info = info
        log(f"… data set ready in {info['build_seconds']:.0f} s: {info['counts']}")
        return info

    # ---- 2. servers

    def serve(self, name: str, port: int, extra_env: dict | None = None) -> Proc:
        env = {**self.env, **(extra_env or {})}
        cmd = harness.serve_cmd(self.masthead, port, self.args.workers)
        proc = Proc(
            name, cmd, env, self.data_dir, self.run_dir / f"{name}.log", log, self.run_dir / f"{name}.pid"
        )
        self.procs.append(proc)
        proc.start()
        return proc

    def varnish_env(self) -> dict:
        # masthead purges the Varnish servers named in VARNISH_URL (masthead/settings/base.py).
        env = {"VARNISH_URL": f"http://{HOST}:{self.args.varnish_port}"}
        for item in self.args.varnish_env:
            key, _, value = item.partition("=")
            env[key] = value.replace("{port}", str(self.args.varnish_port))
        return env

    def start_varnish(self, backend_port: int) -> Proc:
        vcl = Path(self.args.vcl).read_text()
        # Point the VCL's backend(s) at our backend server, wherever the shipped file points.
        vcl2, n = re.subn(r'(\.port\s*=\s*)"?\d+"?', rf'\g<1>"{backend_port}"', vcl)
        vcl2 = re.sub(r'(\.host\s*=\s*)"[^"]*"', r'\g<1>"127.0.0.1"', vcl2)
        if n == 0:
            self.notes.append("the VCL names no backend port; used as shipped")
        vcl_file = self.run_dir / "masthead.vcl"
        vcl_file.write_text(vcl2)
        workdir = self.run_dir / "varnish"
        workdir.mkdir(exist_ok=True)
        cmd = [
            "varnishd",
            "-F",
            "-j",
            "none",
            "-n",
            str(workdir),
            "-a",
            f"{HOST}:{self.args.varnish_port}",
            "-T",
            f"{HOST}:0",
            "-f",
            str(vcl_file),
            "-s",
            "malloc,256m",
        ]
        params = Path(self.args.vcl).with_name("varnishd.params")  # the shipped -p settings
        if params.exists():
            from masthead.caching.varnish import varnishd_params

            cmd += varnishd_params(params)
        proc = Proc(
            "varnish",
            cmd,
            dict(os.environ),
            self.run_dir,
            self.run_dir / "varnish.log",
            log,
            self.run_dir / "varnish.pid",
        )
        self.procs.append(proc)
        proc.start()
        return proc

    def start_all(self) -> dict:
        servers = {}
        a = self.args
        if "wordpress" in self.peers:
            self.peer_script("run-wordpress.sh", "start")
            self.started_peers.append("wordpress")
        if "wagtail" in self.peers:
            self.peer_script("run-wagtail.sh", "start")
            self.started_peers.append("wagtail")
        if "ghost" in self.peers:
            try:
                self.peer_script("run-ghost.sh", "start", timeout=240)
                self.started_peers.append("ghost")
            except HarnessError as exc:
                self.peers.remove("ghost")
                self.notes.append(f"Ghost did not start: {str(exc)[:300]}")
                log(self.notes[-1])
        # One after the other: each `masthead serve` runs collectstatic into the same STATIC_ROOT.
        servers["cached"] = self.serve("masthead-cached", a.port)
        wait_http(a.port, "/", servers["cached"], timeout=180)
        if "uncached" in self.rows:
            servers["uncached"] = self.serve(
                "masthead-uncached", a.uncached_port, {"DJANGO_SETTINGS_MODULE": UNCACHED_SETTINGS}
            )
            wait_http(a.uncached_port, "/", servers["uncached"], timeout=180)
        if "varnish" in self.rows:
            servers["varnish-backend"] = self.serve(
                "masthead-varnish-backend", a.varnish_backend_port, self.varnish_env()
            )
            wait_http(a.varnish_backend_port, "/", servers["varnish-backend"], timeout=180)
        if "varnish" in self.rows:
            servers["varnish"] = self.start_varnish(a.varnish_backend_port)
            try:
                wait_http(a.varnish_port, "/", servers["varnish"], timeout=60)
            except HarnessError as exc:
                self.failures.append(f"Varnish did not start: {exc}")
                log(self.failures[-1])
                servers.pop("varnish").stop()
                self.rows.remove("varnish")
        # The page the peers call "the article": ours is filed under World.
        for port in [a.port] + ([a.uncached_port] if "uncached" in self.rows else []):
            status, _, _, _ = http_get(self.seed_path, port)
            if status != 200:
                raise HarnessError(f"the seed article {self.seed_path} answered {status} on :{port}")
        # Snapshots for the nginx ceiling: the same bytes as the dynamic pages.
        ps = self.peer_script
        if "static" in self.peers:
            if "wagtail" in self.peers:
                ps(
                    "run-static.sh",
                    "snapshot",
                    "wagtail",
                    "http://127.0.0.1:18083/",
                    f"http://127.0.0.1:18083/{SEED_SLUG}/",
                )
            if "wordpress" in self.peers:
                ps(
                    "run-static.sh",
                    "snapshot",
                    "wordpress",
                    "http://127.0.0.1:18081/",
                    f"http://127.0.0.1:18081/{SEED_SLUG}/",
                )
            ps(
                "run-static.sh",
                "snapshot",
                "main",
                f"http://{HOST}:{a.port}/",
                f"http://{HOST}:{a.port}{self.seed_path}",
            )
            self.peer_script("run-static.sh", "start")
            self.started_peers.append("static")
        return servers

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            try:
                proc.stop()
            except Exception as exc:  # noqa: BLE001
                log(f"WARNING: stopping {proc.name}: {exc}")
        for peer in reversed(self.started_peers):
            try:
                self.peer_script(f"run-{peer}.sh", "stop", timeout=120)
                log(f"stopped peer {peer}")
            except Exception as exc:  # noqa: BLE001
                log(f"WARNING: stopping peer {peer}: {exc}")
        self.started_peers = []

    # ---- 3. the comparison

    def targets_file(self, servers: dict) -> Path:
        a, rd, st = self.args, self.run_dir, self.state / "run"
        sp, wpp = (
            str(st / "nginx-static.pid"),
            ",".join(str(st / f) for f in ("nginx-wp.pid", "php-fpm.pid", "mariadb.pid")),
        )
        lines = []
        for page in self.pages:
            theirs = f"{SEED_SLUG}/" if page == "article" else ""
            ours = self.seed_path if page == "article" else "/"
            f = "article.html" if page == "article" else "home.html"
            if "static" in self.peers:
                if "wagtail" in self.peers:
                    lines.append(("nginx-static", page, f"http://127.0.0.1:18080/wagtail/{f}", sp))
                if "wordpress" in self.peers:
                    lines.append(("nginx-static-wp", page, f"http://127.0.0.1:18080/wordpress/{f}", sp))
                lines.append(("nginx-static-main", page, f"http://127.0.0.1:18080/main/{f}", sp))
            if "wordpress" in self.peers:
                lines.append(("wordpress", page, f"http://127.0.0.1:18081/{theirs}", wpp))
                lines.append(("wordpress-cached", page, f"http://127.0.0.1:18082/{theirs}", wpp))
            if "wagtail" in self.peers:
                lines.append(("wagtail", page, f"http://127.0.0.1:18083/{theirs}", str(st / "wagtail.pid")))
                lines.append(
                    (
                        "wagtail-cached",
                        page,
                        f"http://127.0.0.1:18085/{theirs}",
                        str(st / "wagtail-cached.pid"),
                    )
                )
            if "ghost" in self.peers:
                lines.append(("ghost", page, f"http://127.0.0.1:18084/{theirs}", str(st / "ghost.pid")))
            lines.append(
                ("masthead-cached", page, f"http://{HOST}:{a.port}{ours}", str(rd / "masthead-cached.pid"))
            )
            if "uncached" in self.rows:
                lines.append(
                    (
                        "masthead-uncached",
                        page,
                        f"http://{HOST}:{a.uncached_port}{ours}",
                        str(rd / "masthead-uncached.pid"),
                    )
                )
            if "varnish" in self.rows:
                lines.append(
                    (
                        "masthead-varnish",
                        page,
                        f"http://{HOST}:{a.varnish_port}{ours}",
                        f"{rd / 'varnish.pid'},{rd / 'masthead-varnish-backend.pid'}",
                    )
                )
        path = self.out / "targets.tsv"
        path.write_text("".join("\t".join(t) + "\n" for t in lines))
        return path

    def headers_check(self) -> dict:
        """What each masthead row answers: status, size and its caching headers, twice."""
        a = self.args
        ports = {"masthead-cached": a.port}
        if "uncached" in self.rows:
            ports["masthead-uncached"] = a.uncached_port
        if "varnish" in self.rows:
            ports["masthead-varnish"] = a.varnish_port
        keep = (
            "cache-control",
            "age",
            "etag",
            "last-modified",
            "x-cache",
            "x-cache-hits",
            "x-varnish",
            "via",
            "surrogate-key",
            "cache-tag",
            "set-cookie",
            "vary",
            "content-length",
            "x-page-cache",
            "x-masthead-cache",
        )
        out = {}
        for name, port in ports.items():
            for page, path in (("article", self.seed_path), ("home", "/")):
                seen = []
                for _ in range(2):
                    status, headers, body, _ = http_get(path, port)
                    seen.append(
                        {
                            "status": status,
                            "bytes": len(body),
                            **{k: v for k, v in headers.items() if k in keep or "cache" in k},
                        }
                    )
                out[f"{name} {page}"] = seen
        return out

    def compare(self, targets: Path) -> dict:
        a = self.args
        prefix = self.out / f"compare-{self.stamp}"
        n = sum(1 for _ in targets.open())
        budget = n * (a.rounds * (a.duration + 3) + a.warmup + 10) + 120
        log(
            f"compare.py: {n} targets x {a.rounds} rounds x {a.duration} s (about {n * (a.rounds * a.duration + a.warmup) / 60:.0f} min)"
        )
        with open(self.out / "compare.log", "w") as logf:
            r = subprocess.run(
                [
                    "python3",
                    str(self.peers_dir / "compare.py"),
                    str(targets),
                    str(prefix),
                    "--rounds",
                    str(a.rounds),
                    "--duration",
                    str(a.duration),
                    "--conns",
                    str(a.conns),
                    "--warmup",
                    str(a.warmup),
                ],
                stdout=logf,
                stderr=subprocess.STDOUT,
                timeout=budget,
                stdin=subprocess.DEVNULL,
            )
        if r.returncode != 0:
            raise HarnessError(f"compare.py failed ({r.returncode}); see {self.out / 'compare.log'}")
        summary = subprocess.run(
            ["python3", str(self.peers_dir / "summarize.py"), f"{prefix}.json"],
            capture_output=True,
            text=True,
        )
        (self.out / f"summary-{self.stamp}.md").write_text(summary.stdout)
        return json.loads(Path(f"{prefix}.json").read_text())

    def gzip_pass(self, targets: Path) -> dict | None:
        """The same interleaved wrk runs with `Accept-Encoding: gzip`, for the rows where it changes
        what is sent (compare.py's wrk asks for identity; Varnish then unzips its gzipped copy for
        every request, which no browser makes it do). Other rows are included as they answer it."""
        a = self.args
        pages = a.gzip_pages.split()
        keep = {
            "nginx-static-main",
            "wordpress-cached",
            "wagtail-cached",
            "masthead-cached",
            "masthead-varnish",
        }
        rows = []
        for line in targets.read_text().splitlines():
            name, page, url, _ = line.split("\t")
            if name in keep and page in pages:
                rows.append({"name": name, "page": page, "url": url, "runs": []})
        if not rows:
            return None
        for t in rows:
            status, headers, body, _ = http_get(
                re.sub(r"^http://[^/]+", "", t["url"]),
                int(re.search(r":(\d+)/", t["url"]).group(1)),
                headers={"Accept-Encoding": "gzip"},
            )
            t.update(
                status=status,
                wire_bytes=len(body),
                content_encoding=headers.get("content-encoding", "identity"),
            )
        log(f"gzip pass: {len(rows)} targets x {a.rounds} rounds x {a.duration} s")
        for r in range(a.rounds):
            for t in [rows[(i + r) % len(rows)] for i in range(len(rows))]:
                out = subprocess.run(
                    [
                        "wrk",
                        "-t1",
                        f"-c{a.conns}",
                        f"-d{a.duration}s",
                        "--latency",
                        "-H",
                        "Accept-Encoding: gzip",
                        t["url"],
                    ],
                    capture_output=True,
                    text=True,
                    timeout=a.duration + 60,
                ).stdout
                res = {"round": r, "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
                for pct in ("50", "99"):
                    m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
                    res[f"p{pct}_ms"] = (
                        float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)] if m else None
                    )
                m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
                res["non2xx"] = int(m.group(1)) if m else 0
                t["runs"].append(res)
                log(f"  gzip round {r} {t['name']:<20} {t['page']:<8} {res['rps']:9.1f} req/s")
        for t in rows:
            t["median_rps"] = statistics.median(x["rps"] for x in t["runs"])
            t["median_p50_ms"] = statistics.median(x["p50_ms"] for x in t["runs"] if x["p50_ms"] is not None)
            t["median_p99_ms"] = statistics.median(x["p99_ms"] for x in t["runs"] if x["p99_ms"] is not None)
            t["non2xx_total"] = sum(x["non2xx"] for x in t["runs"])
        return {"targets": rows}

    # ---- 4. publish to visible

    def publish_to_visible(self, mode: str, port: int, extra_env: dict) -> dict:
        a = self.args
        env = {**self.env, **extra_env}
        spec = json.dumps({"pk": self.build_info["seed_pk"], "title": self.build_info["seed_title"]})
        with open(self.run_dir / f"publisher-{mode}.log", "ab") as errors:
            pub = subprocess.Popen(
                [sys.executable, __file__, "--child-publisher", spec],
                cwd=self.data_dir,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
                start_new_session=True,
            )
        log(f"publish-to-visible ({mode}): publisher pid {pub.pid}, polling :{port}{self.seed_path}")
        reps = []
        try:
            ready = pub.stdout.readline()
            if not ready.startswith("{"):
                raise HarnessError(f"publisher did not start: {ready!r}")
            for rep in range(a.publish_reps):
                marker = f"Edition {mode} {rep} {secrets.token_hex(4)}"
                # Warm the cache(s): several fresh connections, so every worker has the page.
                for _ in range(12):
                    http_get(self.seed_path, port)
                time.sleep(0.5)
                poller = Poller(self.seed_path, port, marker, a.poll_interval, a.publish_timeout + 5)
                polls, stop = poller.polls, poller.stop
                poller.start()
                time.sleep(0.2)
                pub.stdin.write(json.dumps({"title_suffix": marker}) + "\n")
                pub.stdin.flush()
                answer = pub.stdout.readline()
                if not answer.startswith("{"):
                    stop.set()
                    raise HarnessError(f"publisher failed: {answer!r}")
                times = json.loads(answer)
                t0, t1 = times["t_start"], times["t_end"]
                # Wait until --stable consecutive polls show the new headline, or time out.
                deadline = time.monotonic() + a.publish_timeout
                visible_at = None
                while time.monotonic() < deadline:
                    snap = list(polls)
                    run = 0
                    for i, (_, _, ok) in enumerate(snap):
                        run = run + 1 if ok else 0
                        if run == a.stable:
                            visible_at = snap[i - a.stable + 1][1]
                            break
                    if visible_at is not None:
                        break
                    time.sleep(0.05)
                stop.set()
                poller.join(timeout=10)
                first_seen = next((t for _, t, ok in polls if ok), None)
                after = [ok for _, t, ok in polls if first_seen is not None and t >= first_seen]
                flaps = sum(1 for x, y in itertools.pairwise(after) if x and not y)
                stale_after_publish = sum(1 for s, _, ok in polls if s > t1 and not ok)
                # Harness check: a server without the page cache renders the new headline.
                rendered = None
                if "uncached" in self.rows:
                    _, _, body, _ = http_get(self.seed_path, a.uncached_port)
                    rendered = marker.encode() in body
                rec = {
                    "rep": rep,
                    "publish_call_s": round(t1 - t0, 3),
                    "visible_after_publish_s": None
                    if visible_at is None
                    else round(max(0.0, visible_at - t1), 3),
                    "visible_from_start_s": None if visible_at is None else round(visible_at - t0, 3),
                    "first_seen_after_publish_s": None if first_seen is None else round(first_seen - t1, 3),
                    "polls": len(polls),
                    "stale_polls_after_publish": stale_after_publish,
                    "flaps": flaps,
                    "uncached_server_shows_it": rendered,
                }
                reps.append(rec)
                log(
                    f"  {mode} rep {rep}: publish {rec['publish_call_s']:.2f} s, visible "
                    f"{rec['visible_after_publish_s']} s after it returned ({rec['polls']} polls, {flaps} flaps)"
                )
                if visible_at is None:
                    self.failures.append(
                        f"publish-to-visible ({mode}) rep {rep}: new headline not stable within {a.publish_timeout} s"
                    )
        finally:
            try:
                pub.stdin.close()
            except OSError:
                pass
            try:
                pub.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(pub.pid, signal.SIGKILL)
                pub.wait(timeout=10)
        vis = [r["visible_after_publish_s"] for r in reps if r["visible_after_publish_s"] is not None]
        frm = [r["visible_from_start_s"] for r in reps if r["visible_from_start_s"] is not None]
        return {
            "mode": mode,
            "reps": reps,
            "n": len(reps),
            "n_visible": len(vis),
            "median_visible_after_publish_s": statistics.median(vis) if vis else None,
            "max_visible_after_publish_s": max(vis) if len(vis) == len(reps) and vis else None,
            "median_visible_from_start_s": statistics.median(frm) if frm else None,
            "max_visible_from_start_s": max(frm) if len(frm) == len(reps) and frm else None,
            "median_publish_call_s": statistics.median(r["publish_call_s"] for r in reps) if reps else None,
        }

    # ---- 5. where the uncached article's time goes (bench/render_split.py)

    def render_split(self) -> dict | None:
        """The uncached seed article in one process, whole and with its templates free, against
        the Wagtail peer's; None (with a note) when there is no Wagtail peer or it fails."""
        if not self.args.split_rounds or "wagtail" not in self.peers:
            return None
        log(f"render split: {self.args.split_rounds} rounds in one process, masthead and Wagtail …")
        try:
            return render_split.measure(
                {**self.env, "DJANGO_SETTINGS_MODULE": UNCACHED_SETTINGS},
                self.data_dir,
                self.seed_path,
                self.state,
                f"/{SEED_SLUG}/",
                self.args.split_rounds,
                self.args.split_requests,
            )
        except Exception as exc:  # noqa: BLE001 (an extra step: its failure must not cost the run's report)
            self.notes.append(f"render split not measured: {exc!r}")
            log(self.notes[-1])
            return None


# --------------------------------------------------------------------------------------------
# Analysis and report


def per_round_ratio(data: dict, a: str, b: str, page: str) -> float | None:
    ta = next((t for t in data["targets"] if t["name"] == a and t["page"] == page), None)
    tb = next((t for t in data["targets"] if t["name"] == b and t["page"] == page), None)
    if not ta or not tb:
        return None
    rb = {x["round"]: x["rps"] for x in tb["runs"]}
    ratios = [x["rps"] / rb[x["round"]] for x in ta["runs"] if rb.get(x["round"])]
    return statistics.median(ratios) if ratios else None


def analyse(run: Run, data: dict, publish: list[dict], gz: dict | None = None) -> dict:
    peers = [
        "nginx-static-main",
        "nginx-static",
        "nginx-static-wp",
        "wordpress",
        "wordpress-cached",
        "wagtail",
        "wagtail-cached",
        "ghost",
    ]
    ours = ["masthead-cached", "masthead-uncached", "masthead-varnish"]
    names = {t["name"] for t in data["targets"]}
    ratios = {}
    for page in run.pages:
        for m in ours:
            if m in names:
                ratios[f"{m} {page}"] = {p: per_round_ratio(data, m, p, page) for p in peers if p in names}
    art = {t["name"]: t for t in data["targets"] if t["page"] == "article"}

    def check(key, label, measured, required, unit="x", missing_reason=""):
        if measured is None:
            return {
                "key": key,
                "target": label,
                "required": required,
                "measured": None,
                "pass": None,
                "note": missing_reason or "not measured in this run",
            }
        ok = measured <= required if unit in {"bytes", "s"} else measured >= required
        return {
            "key": key,
            "target": label,
            "required": required,
            "measured": measured,
            "unit": unit,
            "pass": ok,
        }

    def r(a, b):
        return per_round_ratio(data, a, b, "article") if "article" in run.pages else None

    checks = [
        check(
            "cached_vs_wagtail_cached",
            "masthead serve alone, cached article ≥ 1.5x Wagtail per-site cache",
            r("masthead-cached", "wagtail-cached"),
            TARGETS["cached_vs_wagtail_cached"],
        ),
        check(
            "varnish_vs_ceiling",
            "behind Varnish, cached article ≥ 0.6x nginx serving a saved copy of the same page",
            r("masthead-varnish", "nginx-static-main"),
            TARGETS["varnish_vs_ceiling"],
            missing_reason="; ".join(n for n in run.notes if "Varnish" in n) or "no Varnish row",
        ),
        check(
            "varnish_vs_ceiling_gzip",
            "(supplementary) the same, both asked with Accept-Encoding: gzip",
            per_round_ratio(gz, "masthead-varnish", "nginx-static-main", "article") if gz else None,
            TARGETS["varnish_vs_ceiling"],
            missing_reason="no gzip pass with a Varnish row",
        ),
        check(
            "uncached_vs_wordpress",
            "uncached article ≥ 3x WordPress uncached",
            r("masthead-uncached", "wordpress"),
            TARGETS["uncached_vs_wordpress"],
        ),
        check(
            "uncached_vs_wagtail",
            "uncached article ≥ 1.5x the plain Wagtail site uncached",
            r("masthead-uncached", "wagtail"),
            TARGETS["uncached_vs_wagtail"],
        ),
        check(
            "seed_html_bytes",
            "seed article page ≤ 40 KB of HTML (40,960 bytes)",
            art.get("masthead-cached", {}).get("bytes"),
            TARGETS["seed_html_bytes"],
            unit="bytes",
        ),
    ]
    for p in publish:
        checks.append(
            check(
                f"publish_{p['mode']}",
                f"publish-to-visible ≤ 1 s, {p['mode']} (worst of {p['n']}, "
                "from publish returning to the new headline on every poll)",
                p["max_visible_after_publish_s"],
                TARGETS["publish_to_visible_s"],
                unit="s",
                missing_reason="a repetition never became visible",
            )
        )
    if not any(p["mode"] == "varnish" for p in publish):
        checks.append(
            check(
                "publish_varnish",
                "publish-to-visible ≤ 1 s behind Varnish",
                None,
                1.0,
                missing_reason="no Varnish row in this run",
            )
        )
    return {"ratios": ratios, "checks": checks}


def fmt_num(v, digits=0):
    if v is None:
        return "–"
    if digits and 0 < abs(v) < 10 ** (1 - digits):
        return f"{v:.2g}"  # a small ratio keeps two significant digits instead of printing 0.000
    return f"{v:,.{digits}f}"


def markdown(
    run: Run, meta: dict, data: dict, analysis: dict, publish: list[dict], headers: dict, gz: dict | None
) -> str:
    a = run.args
    lines = [
        f"- command: `.venv/bin/python bench/peers_bench.py {' '.join(sys.argv[1:])}`".replace("  ", " "),
        f"- date: {meta['date']}; machine: {meta['machine']}",
        f"- masthead: {meta['git']}; data set: {meta['build']['counts']}",
        f"- load: {data['meta']['loadavg_start']} at the start of the wrk runs, {data['meta']['loadavg_end']} at the end",
        f"- wrk -t1 -c{a.conns} -d{a.duration}s, {a.rounds} interleaved rounds (rotated order), {a.warmup} s warm-up each; "
        "medians over rounds; ratios are medians of per-round ratios",
        "",
        "| page | system | req/s median (min–max) | vs nginx, same page | vs nginx, Wagtail copy | p50 ms | p99 ms | "
        "wrk timeouts | bytes | gzip-6 | peak RSS MiB |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    any_timeouts = False
    for t in data["targets"]:
        same = per_round_ratio(data, t["name"], "nginx-static-main", t["page"])
        wag = per_round_ratio(data, t["name"], "nginx-static", t["page"])
        timeouts = sum(
            int(m) for x in t["runs"] for m in re.findall(r"timeout (\d+)", x.get("socket_errors", ""))
        )
        any_timeouts = any_timeouts or timeouts > 0
        lines.append(
            f"| {t['page']} | {t['name']} | {fmt_num(t['median_rps'])} ({fmt_num(t['min_rps'])}–{fmt_num(t['max_rps'])}) | "
            f"{fmt_num(same, 3)} | {fmt_num(wag, 3)} | {t['median_p50_ms']:.2f} | {t['median_p99_ms']:.2f} | {timeouts or ''} | "
            f"{t['bytes']:,} | {t['gzip6_bytes']:,} | {t['peak_rss_kb'] / 1024:.0f} |"
            + (f" ⚠ {t['non2xx_total']} non-2xx" if t["non2xx_total"] else "")
        )
    if any_timeouts:
        lines += [
            "",
            "wrk timeouts: responses slower than wrk's 2 s timeout, summed over the rounds. wrk counts them in "
            "req/s but leaves them out of its latency percentiles, so p99 understates those rows.",
        ]
    peers = [
        p
        for p in ("wordpress", "wordpress-cached", "wagtail", "wagtail-cached", "ghost")
        if any(t["name"] == p for t in data["targets"])
    ]
    lines += [
        "",
        "masthead ÷ each peer (req/s, median of per-round ratios):",
        "",
        "| masthead row | page | " + " | ".join(peers) + " |",
        "| --- | --- | " + " | ".join("---:" for _ in peers) + " |",
    ]
    for key, row in analysis["ratios"].items():
        name, page = key.split(" ")
        lines.append(f"| {name} | {page} | " + " | ".join(fmt_num(row.get(p), 2) for p in peers) + " |")
    if gz:
        lines += [
            "",
            "Supplementary, same machine right after: the same wrk runs with `Accept-Encoding: gzip` (what browsers "
            "send). nginx here is the peers' configuration, which does not compress:",
            "",
            "| page | system | sent as | bytes on the wire | req/s median | vs nginx, same page | p50 ms | p99 ms |",
            "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for t in gz["targets"]:
            ratio = per_round_ratio(gz, t["name"], "nginx-static-main", t["page"])
            lines.append(
                f"| {t['page']} | {t['name']} | {t['content_encoding']} | {t['wire_bytes']:,} | {fmt_num(t['median_rps'])} | "
                f"{fmt_num(ratio, 3)} | {t['median_p50_ms']:.2f} | {t['median_p99_ms']:.2f} |"
                + (f" ⚠ {t['non2xx_total']} non-2xx" if t["non2xx_total"] else "")
            )
    if publish:
        lines += [
            "",
            "Publish-to-visible (seed article republished with a new headline; polled over fresh connections "
            f"every {a.poll_interval * 1000:.0f} ms; visible = {a.stable} polls in a row show it):",
            "",
            "| mode | reps | publish call, median s | visible after publish returned, median s | worst s | "
            "from publish start, median s | worst s |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for p in publish:
            lines.append(
                f"| {p['mode']} | {p['n_visible']}/{p['n']} | {fmt_num(p['median_publish_call_s'], 2)} | "
                f"{fmt_num(p['median_visible_after_publish_s'], 3)} | {fmt_num(p['max_visible_after_publish_s'], 3)} | "
                f"{fmt_num(p['median_visible_from_start_s'], 3)} | {fmt_num(p['max_visible_from_start_s'], 3)} |"
            )
    lines += [
        "",
        "Targets (issue 6), from this run:",
        "",
        "| target | required | measured | result |",
        "| --- | ---: | ---: | --- |",
    ]
    for c in analysis["checks"]:
        unit = c.get("unit", "x")
        req = (
            f"{c['required']:,} bytes"
            if unit == "bytes"
            else (f"≤ {c['required']} s" if unit == "s" else f"≥ {c['required']}x")
        )
        meas = (
            "–"
            if c["measured"] is None
            else (
                f"{c['measured']:,} bytes"
                if unit == "bytes"
                else (f"{c['measured']:.3f} s" if unit == "s" else f"{c['measured']:.2f}x")
            )
        )
        res = "not measured: " + c.get("note", "") if c["pass"] is None else ("PASS" if c["pass"] else "FAIL")
        lines.append(f"| {c['target']} | {req} | {meas} | {res} |")
    lines += ["", "Cache-related headers of the masthead rows (two GETs each):", ""]
    for key, seen in headers.items():
        shown = []
        for s in seen:
            h = {
                k: v
                for k, v in s.items()
                if k
                not in {
                    "bytes",
                    "content-length",
                    "surrogate-key",
                    "cache-tag",
                    "etag",
                    "last-modified",
                    "x-varnish",
                    "via",
                }
            }
            if "surrogate-key" in s:
                h["surrogate-key"] = f"{len(s['surrogate-key'].split())} keys"
            shown.append(", ".join(f"{k}: {v}" for k, v in h.items()))
        lines.append(f"- {key}: " + " / ".join(f"[{x}]" for x in shown))
    if meta.get("render_split"):
        lines += render_split.markdown(meta["render_split"])
    lines += [
        "",
        f"- uncached server: middleware removed from MIDDLEWARE: {meta['uncached_removed'] or 'none (no page cache to remove)'}",
    ]
    for n in run.notes + run.failures:
        lines.append(f"- {n}")
    return "\n".join(lines) + "\n"


def machine_info() -> str:
    cpu, ram = harness.cpu_model(), harness.memory_total()
    return f"{os.cpu_count()} CPUs ({cpu}), {ram} RAM, Linux {platform.release()}, Python {platform.python_version()}"


def git_info() -> str:
    git = harness.git
    head = git("rev-parse", "--short", "HEAD").strip()
    dirty = [line[3:] for line in git("status", "--short", "--", "masthead", "deploy").splitlines()]
    return f"commit {head}" + (
        f" plus uncommitted changes in {len(dirty)} paths ({', '.join(dirty[:8])}{' …' if len(dirty) > 8 else ''})"
        if dirty
        else ""
    )


def versions() -> dict:
    def out(cmd):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
            return (r.stdout + r.stderr).strip().splitlines()[0] if (r.stdout + r.stderr).strip() else ""
        except (OSError, subprocess.TimeoutExpired):
            return ""

    v = {
        "nginx": out(["nginx", "-v"]),
        "wrk": out(["wrk", "--version"]),
        "varnishd": out(["varnishd", "-V"]),
        "php-fpm": out(["php-fpm8.2", "-v"]),
        "mariadbd": out(["mariadbd", "--version"]),
        "node": out(["node", "--version"]),
    }
    state = Path(os.environ.get("PEERS_STATE", "/var/tmp/masthead-peers"))
    v["wagtail peer"] = out(
        [
            str(state / "venv/bin/python"),
            "-c",
            "import wagtail, django, gunicorn; "
            "print('Wagtail', wagtail.__version__, 'Django', django.get_version(), 'gunicorn', gunicorn.__version__)",
        ]
    )
    ghosts = (
        sorted(p.name for p in (state / "data/ghost/versions").glob("*"))
        if (state / "data/ghost/versions").is_dir()
        else []
    )
    v["ghost peer"] = ", ".join(ghosts)
    v["wordpress peer"] = out(["dpkg-query", "-W", "-f=${Package} ${Version}", "wordpress"])
    try:
        import django
        import gunicorn
        import wagtail

        v["masthead stack"] = (
            f"Django {django.get_version()}, Wagtail {wagtail.__version__}, gunicorn {gunicorn.__version__}"
        )
    except ImportError:
        pass
    return v


def main_parent(args) -> int:
    run = Run(args)
    started = time.monotonic()
    rc = 0

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    alarm = threading.Timer(args.time_limit, lambda: os.kill(os.getpid(), signal.SIGTERM))
    alarm.daemon = True
    alarm.start()
    try:
        run.preflight()
        build = run.build()
        removed = run.child(
            "--child-middleware", env={**run.env, "DJANGO_SETTINGS_MODULE": UNCACHED_SETTINGS}, timeout=120
        )
        base_mw = run.child("--child-middleware", env=run.env, timeout=120)
        if not removed["removed"]:
            run.notes.append(
                "the uncached server removed no middleware: masthead had no page-cache middleware in "
                f"MIDDLEWARE at this run ({', '.join(m.rsplit('.', 1)[-1] for m in base_mw['middleware'])}), "
                "so 'cached' and 'uncached' ran the same code"
            )
        servers = run.start_all()
        headers = run.headers_check()
        targets = run.targets_file(servers)
        data = run.compare(targets)
        gz = run.gzip_pass(targets) if args.gzip_pages.strip() else None
        publish = []
        if args.publish_reps:
            publish.append(run.publish_to_visible("without Varnish", args.port, {}))
            if "varnish" in run.rows:
                publish.append(run.publish_to_visible("varnish", args.varnish_port, run.varnish_env()))
        split = run.render_split()
        analysis = analyse(run, data, publish, gz)
        meta = {
            "date": time.strftime("%Y-%m-%d %H:%M %Z"),
            "machine": machine_info(),
            "git": git_info(),
            "build": build,
            "versions": versions(),
            "uncached_removed": removed["removed"],
            "masthead_middleware": base_mw["middleware"],
            "wall_seconds": round(time.monotonic() - started),
            "args": {k: v for k, v in vars(args).items() if not k.startswith("child")},
            "argv": sys.argv[1:],
            "peers_included": run.peers,
            "masthead_rows": run.rows,
            "notes": run.notes,
            "failures": run.failures,
            "render_split": split,
        }
        md = markdown(run, meta, data, analysis, publish, headers, gz)
        (run.out / "peers-bench.md").write_text(md)
        (run.out / "peers-bench.json").write_text(
            json.dumps(
                {
                    "meta": meta,
                    "compare": data,
                    "gzip_pass": gz,
                    "analysis": analysis,
                    "publish": publish,
                    "headers": headers,
                },
                indent=1,
            )
        )
        print(md)
        log(f"results in {run.out} ({(time.monotonic() - started) / 60:.1f} min)")
        if run.failures:
            rc = 1
        if args.strict and any(c["pass"] is False for c in analysis["checks"]):
            rc = 1
    except HarnessError as exc:
        log(f"ERROR: {exc}")
        rc = 2 if not run.procs else 1
    except (KeyboardInterrupt, subprocess.TimeoutExpired) as exc:
        log(f"interrupted: {exc!r}")
        rc = 2
    except Exception:  # noqa: BLE001 (a bug here must still stop every server)
        import traceback

        traceback.print_exc()
        rc = 1
    finally:
        alarm.cancel()
        run.stop_all()
        if args.keep:
            log(f"kept {run.data_dir}")
        else:
            # Server logs are worth keeping next to the results.
            for f in run.run_dir.glob("*.log") if run.run_dir.exists() else []:
                if run.out.exists():
                    shutil.copy(f, run.out / f.name)
            shutil.rmtree(run.data_dir, ignore_errors=True)
    return rc


# --------------------------------------------------------------------------------------------
# Children: run with Django configured for the throwaway site


def child_middleware() -> None:
    import django

    django.setup()
    from django.conf import settings

    print(
        json.dumps(
            {
                "middleware": list(settings.MIDDLEWARE),
                "removed": list(getattr(settings, "REMOVED_MIDDLEWARE", [])),
            }
        )
    )


def seed_article():
    from masthead.demo.loader import SEED_FILE
    from masthead.importers.text_format import read
    from masthead.news.models import ArticlePage, SectionPage

    headline = read(
        SEED_FILE.read_bytes(), list(SectionPage.objects.values_list("title", flat=True))
    ).headline
    return ArticlePage.objects.get(title=headline)


def child_build(spec_json: str) -> None:
    import datetime as dt
    import random

    import django

    django.setup()
    from django.utils import timezone

    from masthead.comments.models import Comment
    from masthead.importers.service import upsert_article
    from masthead.importers.text_format import ParsedArticle
    from masthead.news.models import ArticlePage, HomePage

    spec = json.loads(spec_json)
    rnd = random.Random(20261126)
    seed = seed_article()
    home = HomePage.objects.get()
    now = timezone.now()
    t0 = time.monotonic()

    # The peers' content: the same 19 briefing copies (through masthead's importer) and the
    # same 3 comments under the seed article.
    briefings = 0
    if spec["peer_json"]:
        peer = json.loads(Path(spec["peer_json"]).read_text())
        seed_time = seed.first_published_at or now
        for i, art in enumerate(peer["articles"][1:], start=1):
            parsed = ParsedArticle(
                sections=peer["sections"], headline=art["title"], paragraphs=art["paragraphs"]
            )
            page, _ = upsert_article(home, parsed)
            when = seed_time - dt.timedelta(hours=i)
            ArticlePage.objects.filter(pk=page.pk).update(first_published_at=when, last_published_at=when)
            briefings += 1
        for j, c in enumerate(peer["comments"]):
            Comment.objects.create(
                article=seed,
                author_name=c["author"],
                author_email=c["email"],
                body=c["text"],
                state=Comment.State.APPROVED,
                created_at=(seed.first_published_at or now) + dt.timedelta(minutes=20 + j),
            )
    t1 = time.monotonic()

    # Generated articles, older than the demo's and the briefings, with bylines, tags, comments
    # (bench/dataset.py, shared with bench/scale_bench.py).
    from dataset import generate  # bench/ is on sys.path (see the imports at the top)

    generated = generate(spec["articles"], spec["comments"], rnd=rnd)
    made, n_comments = generated["generated"], generated["generated_comments"]
    t2 = time.monotonic()
    counts = {
        "articles": ArticlePage.objects.count(),
        "live": ArticlePage.objects.live().count(),
        "comments": Comment.objects.count(),
        "generated": made,
        "generated_comments": n_comments,
        "briefings": briefings,
        "seed_comments": Comment.objects.filter(article=seed, state="approved").count(),
    }
    print(
        json.dumps(
            {
                "seed_path": seed.url_path[len(home.url_path) - 1 :],
                "seed_pk": seed.pk,
                "seed_title": seed.title,
                "counts": counts,
                "peer_content_seconds": round(t1 - t0, 1),
                "generate_seconds": round(t2 - t1, 1),
            }
        )
    )


def child_publisher(spec_json: str) -> None:
    """Read one JSON line per publish from stdin; republish the seed article with the new headline."""
    import django

    django.setup()
    from django.db import close_old_connections

    from masthead.news.models import ArticlePage

    spec = json.loads(spec_json)
    base_title = spec["title"]
    print(json.dumps({"ready": True, "pk": spec["pk"]}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        close_old_connections()
        page = ArticlePage.objects.get(pk=spec["pk"]).get_latest_revision_as_object()
        title = f"{base_title} ({req['title_suffix']})"
        t_start = time.time()
        page.title = title
        page.draft_title = title
        revision = page.save_revision()
        revision.publish()
        t_end = time.time()
        print(json.dumps({"t_start": t_start, "t_end": t_end}), flush=True)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child_build:
        child_build(args.child_build)
        return 0
    if args.child_publisher:
        child_publisher(args.child_publisher)
        return 0
    if args.child_middleware:
        child_middleware()
        return 0
    if args.report:
        from types import SimpleNamespace

        saved = json.loads(Path(args.report).read_text())
        meta = saved["meta"]
        run = SimpleNamespace(
            args=SimpleNamespace(**meta["args"]),
            notes=meta["notes"],
            failures=meta["failures"],
            pages=meta["args"]["pages"].split(),
        )
        sys.argv = ["peers_bench.py", *meta.get("argv", [])]
        md = markdown(
            run,
            meta,
            saved["compare"],
            saved["analysis"],
            saved["publish"],
            saved["headers"],
            saved.get("gzip_pass"),
        )
        Path(args.report).with_suffix(".md").write_text(md)
        print(md)
        return 0
    try:
        return main_parent(args)
    except HarnessError as exc:
        log(f"ERROR: {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
