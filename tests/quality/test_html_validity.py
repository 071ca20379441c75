"""Every public page type passes the Nu HTML Checker (vnu) with zero errors.

The checker is npm's vnu-jar (pinned in package.json; `npm ci` puts it in node_modules/), run on
Java 17 as one loopback HTTP service for the whole test session: each page's HTML, rendered by the
Django test client, is POSTed to it. Warnings are allowed; errors are not.

Without java or vnu.jar these tests are skipped with the reason, except under CI=true, where a
missing checker is a failure.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from django.utils import timezone

from masthead.comments import tickets
from masthead.comments.identity import DELETE_SALT, POSTED_SALT, UNSUBSCRIBE_SALT, sign
from masthead.comments.models import Comment
from masthead.news.models import ArticlePage

REPO = Path(__file__).resolve().parents[2]
VNU_JAR = REPO / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"

pytestmark = pytest.mark.usefixtures("fresh_cache")


class VnuService:
    """The Nu HTML Checker as a loopback HTTP service (one JVM, ~50-150 ms a page).

    It listens on a free port picked here, and is ready only once a known-bad probe gets its
    expected error back: the port opens a few seconds before the schemas are loaded, and
    until then every document "fails" with bogus errors.
    """

    PROBE = b"<!DOCTYPE html><html lang=en><title>x</title><p><img src=x>"  # one error: img without alt
    START_TIMEOUT = 90

    def __init__(self, java: str, jar: Path):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.command = [
            java, "-Xss1024k", "-Dnu.validator.servlet.bind-address=127.0.0.1",
            "-cp", str(jar), "nu.validator.servlet.Main", str(self.port),
        ]
        self.url = f"http://127.0.0.1:{self.port}/?out=json"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> VnuService:
        self.proc = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + self.START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the vnu service exited with {self.proc.returncode} (port {self.port})")
            try:
                if any("alt" in m.get("message", "") for m in self.messages(self.PROBE)):
                    return self
            except OSError:
                pass
            time.sleep(0.5)
        self.__exit__()
        raise RuntimeError(f"the vnu service did not answer within {self.START_TIMEOUT} s")

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # our own JVM, by its handle
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)

    def messages(self, html: bytes) -> list[dict]:
        request = urllib.request.Request(
            self.url, data=html, headers={"Content-Type": "text/html; charset=utf-8"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)["messages"]

    def errors(self, html: bytes | str) -> list[dict]:
        data = html.encode() if isinstance(html, str) else html
        return [m for m in self.messages(data) if m.get("type") in ("error", "non-document-error")]


@pytest.fixture(scope="session")
def vnu():
    java = shutil.which("java")
    if java is None:
        problem = "no `java` on PATH (Java 17+: apt-get install openjdk-17-jre-headless)"
    elif not VNU_JAR.is_file():
        problem = f"{VNU_JAR.relative_to(REPO)} is missing (run `npm ci` in the repository root)"
    else:
        problem = None
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Nu HTML Checker unavailable, and CI=true requires it: {problem}")
        pytest.skip(f"Nu HTML Checker unavailable: {problem}")
    with VnuService(java, VNU_JAR) as service:
        yield service


def report(name: str, url: str, errors: list[dict]) -> str:
    lines = [f"{name} ({url}): {len(errors)} error(s)"]
    for m in errors:
        lines.append(f"  line {m.get('lastLine')}: {m.get('message')}  [{m.get('extract', '').strip()[:120]}]")
    return "\n".join(lines)


def check_pages(vnu, client, pages: dict[str, tuple[str, int]]) -> None:
    """GET each page, check its status, validate its HTML; fail once, listing every error."""
    failures = []
    for name, (url, status) in pages.items():
        response = client.get(url)
        assert response.status_code == status, (name, url, response.status_code)
        assert response["Content-Type"].startswith("text/html"), (name, url)
        errors = vnu.errors(response.content)
        if errors:
            failures.append(report(name, url, errors))
    assert not failures, "Nu HTML Checker errors:\n" + "\n".join(failures)


RICH_BODY = [
    {"type": "paragraph", "value": '<p>The opening paragraph, with <b>bold</b>, <i>italic</i> and '
                                   '<a href="https://example.org/report">a link</a>.</p>'},
    {"type": "subhead", "value": "What was said"},
    {"type": "quote", "value": {"quote": "We call for calm.\nAnd for talks.", "attribution": "A spokesperson"}},
    {"type": "paragraph", "value": "<ul><li>One point</li><li>Another point</li></ul>"},
    {"type": "image", "value": {"image": None, "alt_text": "", "caption": "A caption", "credit": "Photo: Agency"}},
    {"type": "image", "value": {"image": None, "alt_text": "Explicit alt text", "caption": "", "credit": ""}},
    {"type": "embed", "value": {"url": "https://www.example.com/watch?v=1", "title": "The video", "caption": "Filmed today"}},
    {"type": "paragraph", "value": "<p>A closing paragraph.</p>"},
]


@pytest.fixture
def site(desk, make_article, make_image):
    """Sections (one nested), authors with photos, and an article with every kind of body block,
    a lead image, two bylines, tags, a further section, an update and a thread of comments.
    Pictures are an editor's size, so pages ask for every rendition width they offer."""
    picture = functools.partial(make_image, width=1600, height=900)
    world, mideast, ada, ben = desk.world, desk.mideast, desk.ada, desk.ben
    ada.photo = picture("Ada portrait")
    ada.save()
    article = make_article(
        mideast,
        "Talks resume as “ceasefire” hopes rise",
        authors=[ada, ben],
        tags=["Gaza", "Diplomacy"],
        further=[desk.main],
        standfirst="Negotiators met again on Tuesday.",
        lead_image=picture("Lead picture"),
    )
    pictures = iter([picture("Inline one"), picture("Inline two")])
    body = [
        {**block, "value": {**block["value"], "image": next(pictures).pk}} if block["type"] == "image" else block
        for block in RICH_BODY
    ]
    article.body = json.dumps(body)
    article.save_revision().publish()
    earlier = timezone.now() - timedelta(days=2)
    ArticlePage.objects.filter(pk=article.pk).update(first_published_at=earlier)
    article = ArticlePage.objects.get(pk=article.pk)
    for i in range(3):  # enough for a second page on section, author and tag pages
        make_article(
            world, f"Older story {i}", authors=[ada], tags=["Gaza"], lead_image=picture(f"Older {i}"), days_ago=3 + i
        )

    first = Comment.objects.create(
        article=article, author_name="Reader One", author_email="one@example.org",
        body="A first comment.\n\nWith a second paragraph and a link: https://example.org/source",
        state="approved", is_pick=True,
    )
    Comment.objects.create(
        article=article, parent=first, root=first, depth=1, author_name="Reader Two",
        author_email="two@example.org", body="A reply <b>with</b> “markup” & more.", state="approved",
    )
    Comment.objects.create(
        article=article, author_name="Reader Three", author_email="three@example.org",
        body="Removed by me.", state="approved", deleted_by_author=True,
    )
    return {"world": world, "mideast": mideast, "article": article, "author": ada, "comment": first}


@pytest.mark.django_db
def test_public_pages_have_no_html_errors(vnu, client, site, settings):
    settings.MASTHEAD_PAGE_SIZE = 2
    article = site["article"]
    pages = {
        "home": ("/", 200),
        "section": (site["world"].url, 200),
        "section page 2": (site["world"].url + "?page=2", 200),
        "subsection": (site["mideast"].url, 200),
        "article": (article.url, 200),
        "author": (site["author"].get_absolute_url(), 200),
        "author page 2": (site["author"].get_absolute_url() + "?page=2", 200),
        "tag": ("/tags/gaza/", 200),
        "404": ("/no/such/page/", 404),
        "404 of an unknown author": ("/authors/nobody/", 404),
        "share on Mastodon, bad instance": (f"/share/mastodon/{article.pk}/?instance=not+a+host", 400),
    }
    check_pages(vnu, client, pages)


@pytest.mark.django_db
def test_search_pages_have_no_html_errors(vnu, client, site, settings):
    settings.MASTHEAD_PAGE_SIZE = 2  # four articles match "gaza": two pages of results
    results = client.get("/search/?q=gaza").content.decode()
    assert results.count('class="search-result"') == 2 and 'rel="next"' in results, "results must show"
    assert "Nothing matched" in client.get("/search/?q=zyzzogeton").content.decode()
    filtered = f"/search/?q=gaza&author=ada-reporter&section={site['world'].pk}&from=2000-01-01"
    check_pages(vnu, client, {
        "search form": ("/search/", 200),
        "search with results": ("/search/?q=gaza", 200),
        "search with results, page 2": ("/search/?q=gaza&page=2", 200),
        "search with results, filtered": (filtered, 200),
        "search with no results": ("/search/?q=zyzzogeton", 200),
        "search with invalid filters": ("/search/?q=gaza&from=someday&section=x", 200),
    })


@pytest.mark.django_db
def test_comment_pages_have_no_html_errors(vnu, client, site):
    article, comment = site["article"], site["comment"]
    pages = {
        "reply form": (f"/comments/reply/{comment.pk}/", 200),
        "posted (published)": (f"/comments/posted/{sign(str(comment.pk), POSTED_SALT)}/", 200),
        "delete confirm": (f"/comments/delete/{sign(str(comment.pk), DELETE_SALT)}/", 200),
        "unsubscribe": (f"/comments/unsubscribe/{sign('one@example.org', UNSUBSCRIBE_SALT)}/", 200),
    }
    held = Comment.objects.create(
        article=article, author_name="New Reader", author_email="new@example.org", body="Held for now.",
    )
    pages["posted (held)"] = (f"/comments/posted/{sign(str(held.pk), POSTED_SALT)}/", 200)
    check_pages(vnu, client, pages)

    # Pages that answer a POST: the no-JavaScript "check and post" step, with a field error too.
    url = f"/comments/post/{article.pk}/"
    failures = []
    for name, data, status in [
        ("confirm step", {"name": "Ada", "email": "ada@example.org", "body": "My “view” <here>."}, 200),
        ("confirm step with errors", {"name": "", "email": "not-an-email", "body": ""}, 400),
    ]:
        response = client.post(url, data)
        assert response.status_code == status, (name, response.status_code)
        errors = vnu.errors(response.content)
        if errors:
            failures.append(report(name, url, errors))
    # A refusal (comments closed) shows the reader's text again.
    ArticlePage.objects.filter(pk=article.pk).update(comments_open=False)
    aged = tickets.issue(article.pk, now=time.time() - 60)
    response = client.post(url, {"name": "Ada", "email": "ada@example.org", "body": "Kept text.", "ticket": aged})
    assert response.status_code >= 400 and b"Kept text." in response.content, response.status_code
    errors = vnu.errors(response.content)
    if errors:
        failures.append(report("refused", url, errors))
    assert not failures, "Nu HTML Checker errors:\n" + "\n".join(failures)


def test_the_checker_reports_errors(vnu):
    """The service really validates: a broken page gets errors (so zero errors above means valid)."""
    broken = b"<!DOCTYPE html><html lang=en><head><title>t</title></head><body><p><div>x</p></span></body></html>"
    assert vnu.errors(broken)
    assert vnu.errors(b"<!DOCTYPE html><html lang=en><title>t</title><p>fine</p>") == []


@pytest.mark.django_db
def test_small_uploads_do_not_repeat_srcset_widths(vnu, client, desk, make_article, make_image):
    """Wagtail never upscales, so a 640 px upload gives a 640 px rendition for both width-800
    and width-1200: the srcset must name 640w once (HTML forbids repeated widths)."""
    small = make_image("Small", 640, 360)
    older = make_article(desk.world, "An older story", tags=["Rivers"], lead_image=make_image("Older"), days_ago=1)
    article = make_article(desk.world, "A small picture", tags=["Rivers"], lead_image=small)
    inline = {"image": small.pk, "alt_text": "A river", "caption": "", "credit": ""}
    article.body = json.dumps([{"type": "image", "value": inline}])
    article.save_revision().publish()
    html = client.get(article.url).content
    srcsets = [img["srcset"] for img in BeautifulSoup(html, "html.parser").select("img[srcset]")]
    assert srcsets.count(srcsets[0]) == 2, srcsets  # the lead picture and the inline one
    assert [candidate.split()[1] for candidate in srcsets[0].split(", ")] == ["480w", "640w"]
    # The older story's card: its 320 px upload gives one width for fill-320x180 and fill-640x360,
    # so no srcset, and no sizes without one.
    card = BeautifulSoup(html, "html.parser").select_one(f"a.card__image[href='{older.url}'] img")
    assert card and not card.has_attr("srcset") and not card.has_attr("sizes"), card
    errors = vnu.errors(html)
    assert not errors, report("article", article.url, errors)
