"""`masthead sources` on each input form it accepts and each bad input it must refuse clearly."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_support import masthead

pytestmark = pytest.mark.own_data  # its process-driving tests run once, outside both passes (tests/conftest.py)

SEED = Path(__file__).parent / "seed" / "seed-article.txt"
PAGE = """<!doctype html><html lang="en"><head><title>Bridge to reopen | The Valley Post</title></head>
<body><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav>
<header><p>Subscribe now for 1 euro</p></header>
<main><article><h1>Bridge to reopen in May</h1>
<p>The Riverside bridge will reopen in May after two years of repairs, the council said on Monday.</p>
<p>“We are proud of the crews who worked through the winter,” said Mayor Jane Okoro, who cut the ribbon.</p>
<p>Repairs cost €12 million, according to the council. Traders said the closure had cost them
customers, and that footfall had fallen by a third since the bridge shut.</p>
<p>“Nobody will miss the detour,” Okoro said.</p></article></main>
<footer><p>© The Valley Post. All rights reserved. Cookie settings.</p></footer></body></html>
"""


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "seed.txt").write_bytes(SEED.read_bytes())
    (tmp_path / "plain.txt").write_text("Crime fell by 18% last year.\n\n“We are safer,” Chief Ana Lima said.\n",
                                        encoding="utf-8")
    (tmp_path / "page.html").write_text(PAGE, encoding="utf-8")
    return tmp_path


def test_seed_text_form_readable_report(workdir):
    out = masthead(workdir, "sources", "seed.txt")
    assert out.returncode == 0, out.stderr
    assert "seed.txt: 11 quotes from 7 sources, 3 figures, 1 warnings" in out.stdout
    assert "line 25: conflicting-attribution" in out.stdout
    assert "Joe Biden (named, president): 3 quotes" in out.stdout


def test_json_for_one_file_is_the_contract(workdir):
    out = masthead(workdir, "sources", "seed.txt", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert set(doc) >= {"quotes", "sources", "figures", "warnings"}
    text = SEED.read_text(encoding="utf-8")
    assert all(text[q["start"]:q["end"]] == q["text"] for q in doc["quotes"])


def test_several_files_give_one_json_document_per_line(workdir):
    out = masthead(workdir, "sources", "seed.txt", "plain.txt", "--json")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 2
    plain = json.loads(lines[1])
    assert [w["code"] for w in plain["warnings"]] == ["unsourced-figure"]
    assert plain["quotes"][0]["speaker"] == "Ana Lima"


def test_saved_html_page_is_reduced_to_its_article(workdir):
    out = masthead(workdir, "sources", "page.html", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    text = doc["input"]["text"]
    assert doc["input"]["form"] == "html"
    assert "Subscribe" not in text and "Cookie" not in text and "Sport" not in text
    speakers = {q["speaker"] for q in doc["quotes"]}
    assert {"Jane Okoro", "the council", "Traders"} <= speakers
    figures = {f["text"]: f["source"] for f in doc["figures"]}
    assert figures["€12 million"] == "the council"
    assert all(text[q["start"]:q["end"]] == q["text"] for q in doc["quotes"])


@pytest.mark.parametrize("name, content, reason", [
    ("missing.txt", None, "no such file"),
    ("folder", "DIR", "is a directory"),
    ("empty.txt", b"", "the file is empty"),
    ("blank.txt", b"  \n\n ", "the file is empty"),
    ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
    ("wide.txt", "“Yes,” she said.".encode("utf-16"), "UTF-16"),
    ("latin1.txt", "caf\xe9 said".encode("latin-1"), "not UTF-8"),
    ("nothing.html", b"<html><body><nav>Home</nav></body></html>", "no article text"),
])
def test_bad_input_clear_error_nonzero_exit_and_the_rest_still_analysed(workdir, name, content, reason):
    if content == "DIR":
        (workdir / name).mkdir()
    elif content is not None:
        (workdir / name).write_bytes(content)
    out = masthead(workdir, "sources", name, "plain.txt", "--json")
    assert out.returncode == 1
    assert out.stderr.startswith(f"error: {name}: ") and reason in out.stderr, out.stderr
    assert len(out.stdout.splitlines()) == 1  # plain.txt was still analysed
    assert json.loads(out.stdout)["warnings"][0]["code"] == "unsourced-figure"


def test_usage_errors(workdir):
    out = masthead(workdir, "sources")
    assert out.returncode == 2 and "FILE" in out.stderr
    out = masthead(workdir, "sources", "plain.txt", "--language", "xx")
    assert out.returncode == 1 and "no sourcing rules for language 'xx'" in out.stderr
