"""axe-core on every public page type, in the light and the dark colour scheme."""

from __future__ import annotations

import json

import pytest
from axe_playwright_python.sync_playwright import Axe

from .conftest import SEED_PATH

pytestmark = pytest.mark.browser

AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
    "resultTypes": ["violations"],
}
BLOCKING = {"serious", "critical"}

PAGES = {
    "home": ("/", 200),
    "section": ("/world/", 200),
    "subsection": ("/world/middle-east/", 200),
    "article": (SEED_PATH, 200),
    "author": ("/authors/samir-haddad/", 200),
    "tag": ("/tags/gaza/", 200),
    "search": ("/search/?q=gaza", 200),
    "search-no-results": ("/search/?q=zyzzogeton", 200),
    "not-found": ("/no-such-page/", 404),
}
# What a page must show for its check to mean anything (a results page with results, say).
MUST_SHOW = {"search": ".search-result", "search-no-results": ".search-empty"}


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


def open_mastodon_error(page, server):
    page.goto(server.url(SEED_PATH))
    page.get_by_label("Share on Mastodon: your instance").fill("not a host!")
    with page.expect_response(lambda r: "/share/mastodon/" in r.url) as answer:
        page.get_by_role("button", name="Share on Mastodon").click()
    return answer.value


def describe(violations) -> str:
    lines = []
    for violation in violations:
        lines.append(f"[{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"][:10]:
            lines.append(f"    {json.dumps(node['target'])}: {node.get('failureSummary', '').splitlines()[-1:]}")
    return "\n".join(lines)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", [*PAGES, "mastodon-error"])
def test_no_serious_or_critical_violations(new_context, server, axe, name, scheme):
    page = new_context(color_scheme=scheme).new_page()
    if name == "mastodon-error":
        response = open_mastodon_error(page, server)
        expected_status = 400
    else:
        path, expected_status = PAGES[name]
        response = page.goto(server.url(path))
    assert response.status == expected_status
    if name in MUST_SHOW:
        assert page.locator(MUST_SHOW[name]).count() > 0, f"{name} shows no {MUST_SHOW[name]}"
    assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") == (scheme == "dark")

    results = axe.run(page, options=AXE_OPTIONS)
    violations = results.response["violations"]
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    others = [v for v in violations if v["impact"] not in BLOCKING]
    if others:
        print(f"{name} ({scheme}): minor/moderate axe findings:\n{describe(others)}")
    assert not blocking, f"{name} ({scheme}) has serious/critical axe violations:\n{describe(blocking)}"
    # axe really ran here, including the colour-contrast rule (the one the schemes differ in).
    checked = {rule["id"] for kind in ("passes", "violations", "incomplete") for rule in results.response[kind]}
    assert "color-contrast" in checked, sorted(checked)
