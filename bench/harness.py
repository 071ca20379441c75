"""What the benchmark scripts share: logging, the processes they start, HTTP over loopback,
the environment of a masthead server under test and a few facts about the machine.

Imported as a plain module by bench/peers_bench.py, bench/scale_bench.py and
bench/search_bench.py, which put bench/ on sys.path first (running a script does that too),
the same way they import bench/dataset.py. Standard library only: a child process imports it
before Django is configured.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
HOST = "127.0.0.1"
UNCACHED_SETTINGS = "peers_uncached_settings"  # bench/peers_uncached_settings.py
# Variables of a developer's shell that must not leak into the servers under test.
STRIPPED_ENV = {
    "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS", "MASTHEAD_DATA_DIR", "SECURE_COOKIES", "ACCESS_LOG", "DB_CONN_MAX_AGE",
    "PYTHONPATH",
}  # fmt: skip

Log = Callable[[str], None]


class HarnessError(Exception):
    """The benchmark could not do its job."""


def logger(name: str) -> Log:
    """A log function: `[name HH:MM:SS] message` on stderr."""

    def log(message: str) -> None:
        print(f"[{name} {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    return log


def arg_parser(doc: str) -> argparse.ArgumentParser:
    """A parser described by the first paragraph of a script's docstring."""
    return argparse.ArgumentParser(
        description=doc.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )


# --------------------------------------------------------------------------------------------
# The environment of a masthead server under test


def clean_env() -> dict:
    """This process's environment without what must not leak into a server under test."""
    return {k: v for k, v in os.environ.items() if k not in STRIPPED_ENV}


def masthead_env(
    data_dir: Path, secret_key: str, allowed_hosts: str = "127.0.0.1,localhost", **extra: str
) -> dict:
    """The environment of a production-like masthead (DEBUG off) on data_dir, with bench/ on
    PYTHONPATH for the benchmark settings modules; `extra` overrides or adds variables.

    This checkout's own code comes next on PYTHONPATH, ahead of the checkout the virtualenv's
    editable install names: a second worktree (an older commit, say) sharing one virtualenv then
    measures its own code, not the other's."""
    env = clean_env()
    env.update(
        MASTHEAD_DATA_DIR=str(data_dir),
        SECRET_KEY=secret_key,
        DEBUG="0",
        SECURE_COOKIES="0",
        ALLOWED_HOSTS=allowed_hosts,
        PYTHONUNBUFFERED="1",
        PYTHONPATH=os.pathsep.join((str(BENCH), str(REPO))),
        DJANGO_SETTINGS_MODULE="masthead.settings",
    )
    env.update(extra)
    return env


def find_masthead() -> Path | None:
    """The masthead executable next to this Python, or the repository's .venv/bin/masthead."""
    for c in (Path(sys.executable).with_name("masthead"), REPO / ".venv/bin/masthead"):
        if c.is_file() and os.access(c, os.X_OK):
            return c
    return None


def run_masthead(masthead: Path, *args: str, cwd: Path, env: dict, timeout: float) -> str:
    """`masthead <args>` to completion; its stdout, or HarnessError with the end of its output."""
    r = subprocess.run(
        [str(masthead), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    if r.returncode != 0:
        raise HarnessError(
            f"masthead {' '.join(args)} failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
        )
    return r.stdout


def masthead_demo(masthead: Path, port: int, *, cwd: Path, env: dict, timeout: float) -> str:
    """`masthead demo --no-serve` into the data directory of env (the site the benchmarks grow)."""
    return run_masthead(
        masthead, "demo", "--no-serve", "--host", HOST, "--port", str(port), cwd=cwd, env=env, timeout=timeout
    )


def serve_cmd(masthead: Path, port: int, workers: int = 0) -> list[str]:
    """`masthead serve` on HOST:port (workers 0: serve's default)."""
    cmd = [str(masthead), "serve", "--host", HOST, "--port", str(port)]
    if workers:
        cmd += ["--workers", str(workers)]
    return cmd


def child_json(script: str, *args: str, cwd: Path, env: dict, timeout: float) -> dict:
    """Run `python script args` (a benchmark's --child-… mode) and return the JSON object on the
    last line of its stdout; its stderr (progress) goes to ours as it comes."""
    r = subprocess.run(
        [sys.executable, script, *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    if r.returncode != 0:
        raise HarnessError(f"child {args[0]} failed ({r.returncode}):\n{r.stdout[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------------
# Processes we start: each in its own session, stopped by its PID (and its group, which is
# the same number because it is a session leader we created).


class Proc:
    def __init__(
        self,
        name: str,
        cmd: list[str],
        env: dict,
        cwd: Path,
        log_path: Path,
        log: Log,
        pidfile: Path | None = None,
    ):
        self.name, self.cmd, self.env, self.cwd, self.log_path = name, cmd, env, cwd, log_path
        self.log, self.pidfile = log, pidfile
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as out:
            self.proc = subprocess.Popen(
                self.cmd,
                cwd=self.cwd,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        if self.pidfile is not None:
            self.pidfile.write_text(f"{self.proc.pid}\n")
        self.log(f"started {self.name} (pid {self.proc.pid}): {' '.join(self.cmd[:3])} …")

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc is None:
            return
        pid = self.proc.pid
        if self.proc.poll() is None:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.log(f"{self.name} (pid {pid}) ignored SIGTERM for {timeout:.0f} s: SIGKILL")
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=10)
        # Anything left in the group we created (a worker that outlived its master).
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.killpg(pid, 0)
            except (ProcessLookupError, PermissionError):
                break
            time.sleep(0.1)
        else:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.log(f"stopped {self.name} (pid {pid})")
        self.proc = None
        if self.pidfile is not None:
            self.pidfile.unlink(missing_ok=True)

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


# --------------------------------------------------------------------------------------------
# HTTP over loopback


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((HOST, port)) == 0


def http_get(
    path: str, port: int, timeout: float = 10.0, headers: dict | None = None
) -> tuple[int, dict, bytes, float]:
    """One GET on a fresh connection (so successive calls spread over the server's workers):
    status, headers (lower-case names), body, seconds from connect to last byte."""
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(
            "GET", path, headers={"Connection": "close", "Accept-Encoding": "identity", **(headers or {})}
        )
        r = conn.getresponse()
        body = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body, time.perf_counter() - t0
    finally:
        conn.close()


def wait_http(
    port: int,
    path: str,
    proc: Proc | None,
    timeout: float = 120.0,
    request_timeout: float = 5.0,
    interval: float = 0.2,
) -> None:
    """Until path answers 200 on port; HarnessError if proc exits first or timeout passes."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise HarnessError(f"{proc.name} exited before answering:\n{proc.tail()}")
        try:
            status, _, _, _ = http_get(path, port, timeout=request_timeout)
            if status == 200:
                return
            last = f"status {status}"
        except OSError as exc:
            last = str(exc)
        time.sleep(interval)
    raise HarnessError(f"nothing answered 200 on :{port}{path} within {timeout:.0f} s ({last})")


# --------------------------------------------------------------------------------------------
# The machine and the code a run measured


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo ('' when it does not say)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def memory_total() -> str:
    """MemTotal from /proc/meminfo, as '15.6 GiB' ('' when it cannot be read)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return ""


def git(*args: str) -> str:
    """A read-only git command in the repository: its stdout without the trailing newline ('' if
    git fails; leading blanks kept: they are part of `status` lines). --no-optional-locks: never
    refresh the index of a tree others may be working in."""
    try:
        r = subprocess.run(
            ["git", "--no-optional-locks", *args], cwd=REPO, capture_output=True, text=True, timeout=10
        )
        return r.stdout.rstrip()
    except (OSError, subprocess.TimeoutExpired):
        return ""
