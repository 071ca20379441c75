"""Hostile comments, end to end on the server: posted through the real form view, approved by a
moderator, and rendered on the article page. Nothing a commenter types may become markup.

Every payload in data/hostile_payloads.json is posted as a reader's script does (JSON answer, aged
ticket). The form refuses three kinds, and only these, with a 400 that keeps the text:
- text containing a null character (Django's CharField refuses them: PostgreSQL cannot store them);
- text longer than CommentPolicy.max_length (5,000 by default; a few payloads are just over);
- text that would show nothing: only white space, control characters and invisible formatting
  characters (zero-width spaces, bidi controls...).
Everything else must be stored byte for byte. After approval, on every page of comments and with
every HTML parser available, a comment body holds only p, br and a[href][rel] built from http(s)
URLs, no element in the comments carries an event handler, and the text reads as typed.
"""

from __future__ import annotations

import importlib.util
import json
import math
import re
import unicodedata
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup

from masthead.comments.models import Comment
from masthead.comments.moderation import moderate
from masthead.comments.queries import THREADS_PER_PAGE
from masthead.comments.text import LINK_REL

from .conftest import aged_ticket

PAYLOAD_FILE = Path(__file__).parent / "data" / "hostile_payloads.json"
PAYLOADS: list[str] = json.loads(PAYLOAD_FILE.read_text("utf-8"))
# Names are shown too (escaped by the template, and in a data attribute of the reply link).
NAMES = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' onmouseover='alert(1)",
    "</span><svg onload=alert(1)>",
    "{{ 7*7 }} ${7*7}",
    "javascript:alert(1)",
    'https://x/"onmouseover=alert(1)',
    "Ada",
]
EMAIL = "hostile@example.org"
PARSERS = ["html.parser"] + [name for name in ("lxml", "html5lib") if importlib.util.find_spec(name)]
BODY_TAGS = {"p", "br", "a"}
# Everything the comment list's own markup uses; a payload must never add to it.
LIST_TAGS = {"ol", "li", "article", "p", "span", "bdi", "a", "time", "div", "br"}
# Elements that must not appear anywhere more often than on the page without comments.
WATCHED = [
    "script", "style", "iframe", "frame", "object", "embed", "base", "meta", "link", "svg", "math", "img",
    "image", "form", "input", "textarea", "button", "select", "video", "audio", "template", "noscript",
]


def shows_nothing(text: str) -> bool:
    return not any(not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf") for ch in text)


def refusal(payload: str, max_length: int) -> str | None:
    """Why the form must refuse `payload`, or None when it must take it."""
    if "\x00" in payload:
        return "null character"
    if shows_nothing(payload):
        return "nothing visible"
    if len(payload.replace("\r\n", "\n")) > max_length:  # a line break is one character, as browsers count
        return "too long"
    return None


def comparable(text: str) -> str:
    """The text without white space, control and formatting characters (which the page may drop
    or reflow), so that what is shown can be compared with what was typed."""
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf"))


def test_the_payload_file():
    assert len(PAYLOADS) >= 320 and len(set(PAYLOADS)) == len(PAYLOADS)
    assert all(isinstance(p, str) for p in PAYLOADS)
    lengths = [len(p) for p in PAYLOADS]
    assert sum(4900 <= n <= 5000 for n in lengths) >= 3 and max(lengths) > 5000


def test_hostile_comments_are_stored_exactly_and_shown_as_text(client, article, post, policy):
    policy.rate_limit_count = 100_000
    policy.save()
    baseline = BeautifulSoup(client.get(article.url).content, "html.parser")
    baseline_tags = Counter(tag.name for tag in baseline.find_all(WATCHED))

    accepted: dict[int, tuple[str, str]] = {}  # comment id -> (payload, name)
    status_pages: dict[int, str] = {}  # comment id -> its "comment received" page
    refused: list[str] = []
    for i, payload in enumerate(PAYLOADS):
        name = NAMES[i % len(NAMES)]
        response = post(article, body=payload, name=name, email=EMAIL)
        why = refusal(payload, policy.max_length)
        if why is None:
            assert response.status_code == 201, (payload[:80], response.content[:300])
            accepted[response.json()["comment_id"]] = (payload, name)
            status_pages[response.json()["comment_id"]] = response.json()["posted_url"]
            continue
        assert response.status_code == 400 and response.json()["status"] == "invalid", (why, payload[:80])
        assert list(response.json()["errors"]) == ["body"], (why, payload[:80])
        refused.append(payload)
        # Without JavaScript the refusal is a page that shows the text again, to correct and resend.
        fields = {"name": name, "email": EMAIL, "body": payload, "ticket": aged_ticket(article)}
        page = client.post(f"/comments/post/{article.pk}/", fields)
        assert page.status_code == 400, (why, payload[:80])
        kept = BeautifulSoup(page.content, "html.parser").select_one("form#comment-form textarea[name=body]")
        assert kept.get_text().removeprefix("\n") == payload, (why, payload[:80])
    assert len(accepted) + len(refused) == len(PAYLOADS) and len(accepted) >= 300

    # Stored exactly as sent: every byte, white space, control and bidi characters included.
    stored = dict(Comment.objects.filter(article=article).values_list("pk", "body"))
    assert stored.keys() == accepted.keys()
    assert all(stored[pk] == payload for pk, (payload, _) in accepted.items())

    assert moderate(list(Comment.objects.filter(article=article)), Comment.State.APPROVED) == len(accepted)

    pages = math.ceil(len(accepted) / THREADS_PER_PAGE)
    seen: set[int] = set()
    for number in range(1, pages + 1):
        response = client.get(f"{article.url}?comments={number}")
        assert response.status_code == 200
        for parser in PARSERS:
            doc = BeautifulSoup(response.content, parser)
            ids = check_page(doc, accepted, baseline_tags, parser)
            assert ids, f"no comments on page {number}"
            if parser == "html.parser":
                assert not ids & seen, "a comment shows on two pages"
                seen |= ids
        assert f"Page {number} of {pages}" in response.content.decode()
    assert seen == accepted.keys()

    # The "comment received" page and the reply page show the same HTML outside the article.
    for pk, (payload, _) in list(accepted.items())[::7]:
        for url, selector in ((status_pages[pk], ".comment__body"), (f"/comments/reply/{pk}/", ".comment__quoted")):
            doc = BeautifulSoup(client.get(url).content, "html.parser")
            check_body(doc.select_one(selector), payload, f"{url} ({payload[:60]!r})")
            assert not [t for t in doc.find_all(True) if any(a.lower().startswith("on") for a in t.attrs)]


def check_page(doc: BeautifulSoup, accepted: dict, baseline_tags: Counter, parser: str) -> set[int]:
    section = doc.select_one("section#comments")
    assert section is not None, parser
    for tag in section.find_all(True):
        handlers = [a for a in tag.attrs if a.lower().startswith("on")]
        assert not handlers, (parser, tag.name, handlers)
    for tag in section.select("ol.comment-list")[0].find_all(True):
        assert tag.name in LIST_TAGS, (parser, tag.name, str(tag)[:200])
    tags = Counter(tag.name for tag in doc.find_all(WATCHED))
    assert all(tags[name] <= baseline_tags[name] for name in tags), (parser, tags - baseline_tags)

    ids = set()
    for item in section.select("li.comment"):
        pk = int(item["id"].removeprefix("comment-"))
        payload, name = accepted[pk]
        ids.add(pk)
        where = f"{parser}, comment {pk}: {payload[:80]!r}"
        bodies = item.find_all(class_="comment__body")
        assert len(bodies) == 1, where
        check_body(bodies[0], payload, where)
        assert item.select_one(".comment__author").get_text() == name, where
        assert item.select_one("[data-reply-name]")["data-reply-name"] == name, where
    return ids


def check_body(body, payload: str, where: str) -> None:
    assert body is not None, where
    for tag in body.find_all(True):
        assert tag.name in BODY_TAGS, (where, tag.name)
        if tag.name != "a":
            assert not tag.attrs, (where, tag.name, tag.attrs)
            continue
        assert "rel" in tag.attrs and set(tag.attrs) <= {"href", "rel"}, (where, tag.attrs)
        rel = tag["rel"]
        assert (" ".join(rel) if isinstance(rel, list) else rel) == LINK_REL, (where, rel)
        href = tag.get("href")
        if href is None:
            # nh3 drops an href that is not a valid URL (https://example.org／x: the fullwidth
            # solidus maps to "/" in the host); the anchor is left inert, showing the text.
            continue
        assert re.match(r"https?://", href, re.I), (where, href)
        assert urlsplit(href).scheme.lower() in {"http", "https"}, (where, href)
        assert not re.search(r"[\s\"'<>`]", href), (where, href)
        assert tag.get_text() == href, (where, href)  # a link shows where it goes
    # What was typed, as text: nothing interpreted (no tags, entities, templates), nothing lost.
    assert comparable(body.get_text()) == comparable(payload), where


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "form"])
@pytest.mark.parametrize("parent", ["²", "9" * 5000, "9" * 25, "-1", "1e3", "<script>alert(1)</script>", "١"])
@pytest.mark.parametrize("body", ["A fine comment.", ""], ids=["valid", "empty"])
def test_hostile_parent_values_never_crash(client, article, as_json, parent, body):
    client.raise_request_exception = False
    headers = {"HTTP_ACCEPT": "application/json"} if as_json else {}
    data = {"name": "Ada", "email": "ada@example.org", "body": body, "parent": parent}
    data["ticket"] = aged_ticket(article)
    response = client.post(f"/comments/post/{article.pk}/", data, **headers)
    if body:
        assert response.status_code < 500, response.status_code
    else:
        assert response.status_code == 400, response.status_code
    assert not Comment.objects.exists()  # no such parent: nothing stored


def test_article_ids_beyond_64_bits_are_not_found(client, article):
    client.raise_request_exception = False
    huge = "9" * 30
    assert client.get(f"/comments/ticket/{huge}/").status_code == 404
    assert client.post(f"/comments/post/{huge}/", {"body": "x"}).status_code == 404
    assert client.get(f"/comments/ticket/{2**63 - 1}/").status_code == 404
