"""Browser tests against the real production path: `masthead demo --no-serve`, then `masthead serve`.

One server per session on a free loopback port, with its own throwaway data directory; one
Debian Chromium per session; a fresh browser context per test. Nothing leaves 127.0.0.1: every
context aborts requests to any other host (tests that expect such a request route it themselves).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

REPO = Path(__file__).resolve().parent.parent
MASTHEAD = REPO / ".venv" / "bin" / "masthead"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
SEED_FILE = REPO / "masthead" / "demo" / "seed-article.txt"

CHROME_PATH = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CHROME_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]
HOST = "127.0.0.1"
READY_TIMEOUT = 60  # seconds for `masthead serve` to answer
DEMO_TIMEOUT = 240  # seconds for `masthead demo --no-serve` (migrate + demo content)
STOP_TIMEOUT = 15

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

SEED_HEADLINE = "US Calls on Israel to End Large-Scale Ground Invasion in Gaza"
SEED_PATH = "/world/us-calls-on-israel-to-end-large-scale-ground-invasion-in-gaza/"
# Lines a scraped page leaves after the story; the site must not show them.
SEED_FURNITURE = ("Spread the love", "Comment here")


def seed_body_paragraphs() -> list[str]:
    """The seed file's story paragraphs, read independently of the importer.

    Line 1 is the section line, then a blank line, the headline, a blank line, and the body
    paragraphs separated by blank lines; the last two blocks are page furniture.
    """
    text = SEED_FILE.read_text(encoding="utf-8")
    blocks = [block.strip() for block in text.split("\n\n") if block.strip()]
    assert blocks[1] == SEED_HEADLINE, "the seed file's headline changed"
    body = blocks[2:]
    assert tuple(body[-len(SEED_FURNITURE):]) == SEED_FURNITURE, "the seed file's furniture changed"
    return body[: -len(SEED_FURNITURE)]


def pytest_collection_modifyitems(config, items):
    """Tests that publish through the admin change the fronts; run them last so that every
    other test (and the screenshots) sees the demo exactly as loaded."""
    items.sort(key=lambda item: bool(getattr(getattr(item, "module", None), "WRITES_CONTENT", False)))


@dataclass
class Server:
    base_url: str
    data_dir: Path
    demo_output: str
    log_path: Path

    def url(self, path: str) -> str:
        return self.base_url + path

    @property
    def admin_password(self) -> str:
        return (self.data_dir / "demo-admin-password.txt").read_text().strip()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _server_env(data_dir: Path, production: bool) -> dict[str, str]:
    env = dict(os.environ)
    # pytest-django exports the test settings; the real command must use its own default.
    for name in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG"):
        env.pop(name, None)
    env["MASTHEAD_DATA_DIR"] = str(data_dir)
    env["ALLOWED_HOSTS"] = "127.0.0.1,localhost"
    if production:
        env.update(
            SECRET_KEY=secrets.token_urlsafe(50),
            DEBUG="0",
            SECURE_COOKIES="0",
        )
    return env


def _wait_until_answering(url: str, proc: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    last_error = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"masthead serve exited with {proc.returncode} before answering:\n"
                + log_path.read_text(errors="replace")[-4000:]
            )
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
                last_error = f"HTTP {response.status}"
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            last_error = str(exc)
        time.sleep(0.5)
    raise RuntimeError(
        f"masthead serve did not answer {url} within {READY_TIMEOUT}s ({last_error}):\n"
        + log_path.read_text(errors="replace")[-4000:]
    )


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()  # gunicorn's arbiter stops its workers on SIGTERM
    try:
        proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=STOP_TIMEOUT)


@pytest.fixture(scope="session")
def server() -> Server:
    if not MASTHEAD.exists():
        pytest.fail(f"{MASTHEAD} is missing: install the project into .venv first")
    data_dir = Path(tempfile.mkdtemp(prefix="masthead-e2e-"))
    port = _free_port()
    base_url = f"http://{HOST}:{port}"
    log_path = data_dir / "serve.log"
    proc = None
    try:
        demo = subprocess.run(
            [str(MASTHEAD), "demo", "--no-serve", "--host", HOST, "--port", str(port)],
            cwd=data_dir,
            env=_server_env(data_dir, production=False),
            capture_output=True,
            text=True,
            timeout=DEMO_TIMEOUT,
        )
        if demo.returncode != 0:
            pytest.fail(f"masthead demo failed ({demo.returncode}):\n{demo.stdout}\n{demo.stderr}")

        # `serve` itself runs collectstatic (fresh data directory: nothing collected yet), then
        # the system checks, then gunicorn.
        production_env = _server_env(data_dir, production=True)
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [str(MASTHEAD), "serve", "--host", HOST, "--port", str(port), "--workers", "2"],
                cwd=data_dir,
                env=production_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        _wait_until_answering(base_url + "/", proc, log_path)
        yield Server(base_url=base_url, data_dir=data_dir, demo_output=demo.stdout, log_path=log_path)
    finally:
        server_log = ""
        if proc is not None:
            _stop(proc)
            server_log = log_path.read_text(errors="replace")
            if proc.returncode not in (0, -signal.SIGTERM):
                print(f"masthead serve exited with {proc.returncode}; log tail:\n{server_log[-2000:]}", file=sys.stderr)
        shutil.rmtree(data_dir, ignore_errors=True)
    # Pages can look fine while the server logs an error (a failed image, a broken include...).
    if "Traceback" in server_log or "Internal Server Error" in server_log:
        pytest.fail("masthead serve logged errors during the browser tests:\n" + server_log[-6000:])


@pytest.fixture(scope="session")
def browser() -> Browser:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROME_PATH, headless=True, args=CHROME_ARGS)
        yield browser
        browser.close()


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return parts.hostname == HOST


@pytest.fixture
def new_context(browser, server):
    """Make browser contexts for this test; each aborts any request that would leave 127.0.0.1."""
    contexts: list[BrowserContext] = []

    def make(**options) -> BrowserContext:
        options.setdefault("viewport", DESKTOP)
        context = browser.new_context(**options)
        context.set_default_timeout(15_000)
        context.set_default_navigation_timeout(20_000)
        context.route(re.compile(r"^(?!https?://127\.0\.0\.1[:/]).*"), lambda route: route.abort("blockedbyclient"))
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context) -> Page:
    return new_context().new_page()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
