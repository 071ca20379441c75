"""Hostile comments in a real browser: every payload of tests/comments/data/hostile_payloads.json is
posted to the session server the way the page's script posts (ticket, CSRF token, JSON answer),
approved by a moderator, and every page of comments is opened in Chromium.

The test fails if any script runs (alert/confirm/prompt called, a dialog opens, window.__pwned
set, a page error), if any request leaves 127.0.0.1, or if a comment body holds anything but P, BR
and A elements (A with an http(s) href and rel="nofollow ugc noopener" only, no on* attribute
anywhere in the comments). The comments go on a Sport story, never on the seed article, whose
comments other tests may count.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import unicodedata
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest

from .conftest import MASTHEAD, SEED_PATH, _server_env, is_local

pytestmark = pytest.mark.browser
# Adds hundreds of comments to a Sport story (and its count on the fronts): run after the
# read-only tests, like the newsroom tests.
WRITES_CONTENT = True

REPO = Path(__file__).resolve().parent.parent
PAYLOAD_FILE = REPO / "tests" / "comments" / "data" / "hostile_payloads.json"
PAYLOADS: list[str] = json.loads(PAYLOAD_FILE.read_text("utf-8"))
NAMES = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' onmouseover='alert(1)",
    "{{ 7*7 }} ${7*7}",
    "Ada",
]
EMAIL = "hostile@example.org"
MAX_LENGTH = 5000  # CommentPolicy.max_length's default
MIN_SECONDS = 3  # CommentPolicy.min_seconds's default
WORKERS = 8

# Runs before any script of the page, in every frame: records every way a payload could show it ran.
INIT_SCRIPT = """
(() => {
  const calls = [];
  Object.defineProperty(window, "__calls", { value: calls });
  for (const name of ["alert", "confirm", "prompt", "print"]) {
    const original = window[name];
    window[name] = function (...args) {
      calls.push(name + "(" + args.map(String).join(", ") + ")");
      // The dialog still opens, for page.on("dialog"); a print preview would only stall the test.
      return name === "print" ? undefined : original.apply(this, args);
    };
  }
  let pwned = undefined;
  Object.defineProperty(window, "__pwned", {
    configurable: false,
    get() { return pwned; },
    set(value) { pwned = value; calls.push("window.__pwned = " + String(value)); },
  });
  const violations = [];
  Object.defineProperty(window, "__violations", { value: violations });
  document.addEventListener("securitypolicyviolation", (e) => violations.push(e.violatedDirective + " " + e.blockedURI));
})();
"""

# Checks the comments in the live DOM, after the browser's own parser and every script have run.
CHECK_SCRIPT = """
() => {
  const bad = [];
  const section = document.querySelector("section#comments");
  if (!section) return { bad: ["no comments section"], comments: {} };
  for (const el of section.querySelectorAll("*")) {
    for (const attr of el.attributes) {
      if (attr.name.toLowerCase().startsWith("on")) bad.push(`${el.tagName} has ${attr.name}="${attr.value}"`);
    }
  }
  for (const body of section.querySelectorAll(".comment__body")) {
    const where = body.closest("li.comment")?.id || "?";
    for (const el of body.querySelectorAll("*")) {
      if (!["P", "BR", "A"].includes(el.tagName)) { bad.push(`${where}: <${el.tagName}> ${el.outerHTML.slice(0, 120)}`); continue; }
      const names = [...el.attributes].map((a) => a.name);
      if (el.tagName !== "A") {
        if (names.length) bad.push(`${where}: <${el.tagName}> has ${names}`);
        continue;
      }
      if (names.some((n) => n !== "href" && n !== "rel")) bad.push(`${where}: <A> has ${names}`);
      if (el.getAttribute("rel") !== "nofollow ugc noopener") bad.push(`${where}: rel="${el.getAttribute("rel")}"`);
      if (el.hasAttribute("href") && !["http:", "https:"].includes(el.protocol)) bad.push(`${where}: href ${el.getAttribute("href")}`);
    }
  }
  // Give any handler that slipped through a chance to fire (no clicks: links would navigate).
  for (const el of section.querySelectorAll(".comment__body, .comment__body *, .comment__meta *")) {
    for (const type of ["mouseover", "mouseenter", "pointerover", "pointerenter", "focus", "focusin", "animationstart", "transitionend", "toggle", "load", "error"]) {
      el.dispatchEvent(new Event(type, { bubbles: true }));
    }
  }
  const comments = {};
  for (const item of section.querySelectorAll("li.comment")) {
    comments[item.id] = {
      text: item.querySelector(".comment__body")?.textContent ?? null,
      author: item.querySelector(".comment__author")?.textContent ?? null,
    };
  }
  return { bad, comments };
}
"""


def refusal(payload: str) -> str | None:
    """Why the form refuses `payload` (as in tests/comments/test_injection.py), or None."""
    if "\x00" in payload:
        return "null character"
    if not any(not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf") for ch in payload):
        return "nothing visible"
    if len(payload) > MAX_LENGTH:
        return "too long"
    return None


def comparable(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf"))


def fetch(url: str, data: dict | None = None, headers: dict | None = None) -> tuple[int, list[str], bytes]:
    """(status, Set-Cookie headers, body) of a GET, or of a form POST when `data` is given."""
    encoded = urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=encoded, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers.get_all("Set-Cookie") or [], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get_all("Set-Cookie") or [], error.read()


def shell(server, code: str) -> str:
    """Run Python in `masthead shell` against the session server's data directory."""
    result = subprocess.run(
        [str(MASTHEAD), "shell", "-c", code],
        cwd=server.data_dir,
        env=_server_env(server.data_dir, production=False),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def sport_article(server) -> tuple[str, int]:
    status, _, html = fetch(server.url("/sport/"))
    assert status == 200
    links = dict.fromkeys(re.findall(r'href="(/sport/[^"?#]+/)"', html.decode()))
    paths = [p for p in links if p != SEED_PATH]
    assert paths, "no Sport story on /sport/"
    status, _, html = fetch(server.url(paths[0]))
    assert status == 200
    article_id = int(re.search(r'action="/comments/post/(\d+)/"', html.decode()).group(1))
    return paths[0], article_id


def post_all(server, article_id: int) -> dict[int, tuple[str, str]]:
    """Post every payload as the page's script does; returns {comment id: (payload, name)}."""
    status, cookies, _ = fetch(server.url(f"/comments/ticket/{article_id}/"))
    cookie = re.search(r"csrftoken=([^;]+)", "\n".join(cookies))
    assert status == 200 and cookie, cookies
    cookie_header = {"Cookie": f"csrftoken={cookie.group(1)}", "Accept": "application/json"}

    def ticket(_):
        status, _, body = fetch(server.url(f"/comments/ticket/{article_id}/"), headers=cookie_header)
        assert status == 200
        return json.loads(body)

    with ThreadPoolExecutor(WORKERS) as pool:
        tickets = list(pool.map(ticket, PAYLOADS))
    time.sleep(MIN_SECONDS + 0.5)  # a person's pause: quicker posts are refused as bots

    def send(index: int):
        payload, issued = PAYLOADS[index], tickets[index]
        name = NAMES[index % len(NAMES)]
        fields = {"name": name, "email": EMAIL, "body": payload, "ticket": issued["ticket"]}
        headers = {**cookie_header, "X-CSRFToken": issued["csrf_token"]}
        status, _, body = fetch(server.url(f"/comments/post/{article_id}/"), fields, headers)
        return payload, name, status, json.loads(body)

    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(send, range(len(PAYLOADS))))
    accepted, wrong = {}, []
    for payload, name, status, answer in results:
        why = refusal(payload)
        if why is None and status == 201:
            accepted[answer["comment_id"]] = (payload, name)
        elif why is not None and status == 400 and answer["status"] == "invalid":
            continue
        else:
            wrong.append((payload[:80], why, status, answer))
    assert not wrong, wrong[:5]
    return accepted


def test_hostile_comments_never_run_in_the_browser(new_context, server):
    started = time.monotonic()
    path, article_id = sport_article(server)
    assert path != SEED_PATH
    shell(
        server,
        "from wagtail.models import Site\n"
        "from masthead.comments.models import CommentPolicy\n"
        "CommentPolicy.for_site(Site.objects.get(is_default_site=True))\n"
        "CommentPolicy.objects.update(rate_limit_count=100000)\n",
    )
    accepted = post_all(server, article_id)
    assert len(accepted) >= 300
    approved = shell(
        server,
        "from masthead.comments.models import Comment\n"
        "from masthead.comments.moderation import moderate\n"
        f"comments = list(Comment.objects.filter(pk__in={sorted(accepted)!r}))\n"
        "print(moderate(comments, Comment.State.APPROVED))\n",
    )
    assert int(approved.strip().splitlines()[-1]) == len(accepted)
    posted_at = time.monotonic()

    context = new_context()
    context.add_init_script(INIT_SCRIPT)
    external, dialogs, errors, console = [], [], [], []
    context.on("request", lambda request: None if is_local(request.url) else external.append(request.url))
    page = context.new_page()

    def on_dialog(dialog):
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))

    seen: dict[int, dict] = {}
    number = 1
    while True:
        response = page.goto(server.url(f"{path}?comments={number}"), wait_until="load")
        assert response.status == 200
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        result = page.evaluate(CHECK_SCRIPT)
        page.wait_for_timeout(100)  # let anything the dispatched events started run
        ran = page.evaluate("[...window.__calls, ...window.__violations.map((v) => 'CSP: ' + v)]")
        assert not result["bad"], f"page {number}: {result['bad'][:10]}"
        assert not ran and not dialogs, f"page {number}: script ran: {ran} {dialogs}"
        for item_id, shown in result["comments"].items():
            pk = int(item_id.removeprefix("comment-"))
            assert pk not in seen, f"comment {pk} on two pages"
            seen[pk] = shown
        if not page.locator("a[rel=next]").count():
            break
        number += 1

    assert not dialogs and not errors, (dialogs, errors, console[-10:])
    assert not external, f"requests left 127.0.0.1: {external[:10]}"
    missing = accepted.keys() - seen.keys()
    assert not missing, f"{len(missing)} approved comments not shown"
    for pk, (payload, name) in accepted.items():
        assert comparable(seen[pk]["text"]) == comparable(payload), (pk, payload[:80], seen[pk]["text"][:80])
        assert seen[pk]["author"] == name, (pk, name, seen[pk]["author"])
    print(
        f"{len(PAYLOADS)} payloads, {len(accepted)} published on {path} over {number} pages; "
        f"posting {posted_at - started:.1f}s, browser {time.monotonic() - posted_at:.1f}s; "
        f"{len(console)} console messages"
    )
