"""Desktop and phone screenshots of each page type, saved as artifacts for a person to look at."""

from __future__ import annotations

import struct

import pytest
from playwright.sync_api import expect

from .conftest import DESKTOP, PHONE, SEED_PATH

pytestmark = pytest.mark.browser

PAGES = {
    "home": "/",
    "section": "/world/",
    "article": SEED_PATH,
    "author": "/authors/samir-haddad/",
}
DEVICES = {
    "desktop": {"viewport": DESKTOP},
    "phone": {"viewport": PHONE, "is_mobile": True, "has_touch": True, "device_scale_factor": 1},
}

# Resolves once every image in the viewport has loaded (lazy ones included), so that the
# screenshot shows the page as a reader sees it.
IMAGES_IN_VIEW_LOADED = """() => Promise.all([...document.images]
  .filter(img => { const r = img.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight; })
  .map(img => img.complete ? null : new Promise(done => { img.onload = img.onerror = done; })))
  .then(() => [...document.images].filter(img => {
      const r = img.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight && !img.naturalWidth;
  }).map(img => img.currentSrc || img.src))"""


def png_size(path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


@pytest.mark.parametrize("device", list(DEVICES))
@pytest.mark.parametrize("name", list(PAGES))
def test_screenshot(new_context, server, artifacts, name, device):
    page = new_context(**DEVICES[device]).new_page()
    response = page.goto(server.url(PAGES[name]))
    assert response.status == 200
    expect(page.locator("h1")).to_be_visible()
    broken = page.evaluate(IMAGES_IN_VIEW_LOADED)
    assert broken == [], f"images that did not load: {broken}"

    width = DEVICES[device]["viewport"]["width"]
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{name} scrolls sideways on {device}: {scroll_width}px > {width}px"

    path = artifacts / f"{name}-{device}.png"
    path.unlink(missing_ok=True)
    page.screenshot(path=str(path))
    assert png_size(path) == (width, DEVICES[device]["viewport"]["height"])
