"""What readers download: our scripts and styles minified by collectstatic, within issue 6's
budgets for the article page (5 KB of JavaScript, 15 KB of CSS, before compression)."""
from __future__ import annotations

import json
import subprocess

import pytest

from masthead.serving.staticfiles import minify
from tests.cli_support import MASTHEAD, masthead_env

pytestmark = pytest.mark.own_data  # its process-driving tests run once, outside both passes (tests/conftest.py)

ARTICLE_SCRIPTS = ["masthead/js/share.js", "comments/comments.js"]
ARTICLE_STYLES = ["masthead/css/site.css"]


def test_minify_touches_only_our_js_and_css():
    js = b"// why\nfunction  add (a, b) {\n  return a + b;  // sum\n}\n"
    assert minify("masthead/js/x.js", js) == b"function add(a,b){return a+b;}"
    css = b"/* note */\n.a {\n  color : red ;\n}\n"
    assert minify("comments/x.css", css) == b".a{color:red}"
    assert minify("wagtailadmin/js/x.js", js) == js
    assert minify("masthead/js/x.min.js", js) == js
    assert minify("masthead/img/x.svg", b"<svg/>") == b"<svg/>"


def test_collected_article_assets_are_minified_and_within_budget(tmp_path):
    env = masthead_env(tmp_path, DEBUG="0", SECRET_KEY="test-only-" + "k" * 50)
    done = subprocess.run([MASTHEAD, "collectstatic", "--noinput", "-v0"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    static = tmp_path / "static"
    paths = json.loads((static / "staticfiles.json").read_text())["paths"]
    sizes = {name: (static / paths[name]).stat().st_size for name in ARTICLE_SCRIPTS + ARTICLE_STYLES}
    assert sum(sizes[n] for n in ARTICLE_SCRIPTS) <= 5000, sizes
    assert sum(sizes[n] for n in ARTICLE_STYLES) <= 15000, sizes
    served = (static / paths["comments/comments.js"]).read_text()
    assert "fetchTicket" in served and "// " not in served  # minified, still the same code
