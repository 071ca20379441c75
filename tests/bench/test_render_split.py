"""bench/render_split.py, the uncached article in one process, whole and with its templates
free: its masthead half on this run's test database, and its summary and report."""

from __future__ import annotations

import contextlib

import pytest


@pytest.fixture
def render_split(on_bench_path):
    import render_split

    return render_split


@pytest.fixture
def uncached(settings):
    """The benchmark's uncached settings: masthead's middleware without the page cache."""
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.startswith("masthead.caching.")]


@contextlib.contextmanager
def counting_renders(render_split):
    """Each template render (of either engine) appended to the list given, until the block
    ends; also gives the counting functions put in place."""
    classes = render_split.template_classes()
    real = [cls.render for cls in classes]
    renders: list = []

    def counting(render):
        def counted(self, *args, **kwargs):
            renders.append(self)
            return render(self, *args, **kwargs)

        return counted

    counters = [counting(render) for render in real]
    for cls, counter in zip(classes, counters):
        cls.render = counter
    try:
        yield renders, counters
    finally:
        for cls, render in zip(classes, real):
            cls.render = render


def test_the_masthead_half_renders_whole_then_with_templates_free(
    render_split, uncached, make_section, make_article
):
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")  # as the child asks
    article = make_article(make_section("World"), "A story to time")
    whole = client.get(article.url).content
    with counting_renders(render_split) as (renders, counters):
        client.get(article.url)
        per_page = len(renders)
        renders.clear()
        result = render_split.child("masthead", article.url, 2)
        # The whole page: the first GET, the warm-up (3) and 5 batches of 2, each rendering its
        # templates; with the templates free, not one more render.
        assert per_page > 0 and len(renders) == per_page * (1 + 3 + 5 * 2)
        assert [cls.render for cls in render_split.template_classes()] == counters  # put back as they were
    assert result["bytes"] == len(whole)
    assert result["full_ms"] > 0 and result["templates_free_ms"] > 0
    assert client.get(article.url).content == whole


def test_a_page_that_does_not_answer_200_stops_the_child(render_split, uncached, db):
    with pytest.raises(SystemExit, match="answered 404"):
        render_split.child("masthead", "/no-such-story/", 1)


def test_summary_and_report(render_split):
    runs = {
        "masthead": [
            {"bytes": 31000, "full_ms": 12.0, "templates_free_ms": 6.0},
            {"bytes": 31000, "full_ms": 10.0, "templates_free_ms": 5.0},
            {"bytes": 31000, "full_ms": 14.0, "templates_free_ms": 9.0},
        ],
        "wagtail": [{"bytes": 5500, "wagtail_ms": 9.0}, {"bytes": 5500, "wagtail_ms": 12.0}, {"bytes": 5500, "wagtail_ms": 8.0}],
    }
    split = render_split.summarise(runs, 3, 50)
    assert (split["masthead_full_ms"], split["masthead_templates_free_ms"], split["wagtail_ms"]) == (12.0, 6.0, 9.0)
    assert split["ratio_full"] == 0.75 and split["ratio_templates_free"] == 1.5
    assert split["target_ms"] == 6.0
    assert_report(render_split.markdown(split), ("12.00 | 0.75x", "6.00 | 1.50x", "9.00"), "6.00 ms or less")


def assert_report(lines: list[str], cells: tuple[str, str, str], needed: str) -> None:
    """The split's table holds these cells (value and ratio for masthead whole and templates
    free, value for Wagtail), for a 31,000-byte page and Wagtail's 5,500, and the target line."""
    report = "\n".join(lines)
    whole, free, wagtail = cells
    assert f"| masthead, the whole page (31,000 B) | {whole} |" in report
    assert f"| masthead, its templates free (routing, context, middleware) | {free} |" in report
    assert f"| plain Wagtail, the whole page (5,500 B) | {wagtail} | 1.00x |" in report
    assert f"needs masthead's whole page in {needed}" in report


def test_ratios_pair_the_rounds(render_split):
    # Each round ran both systems back to back; a median of per-round ratios keeps that pairing,
    # where the ratio of the two medians (1.0 here) would not.
    def rounds(*ms):
        return [{"bytes": 1, "full_ms": m, "templates_free_ms": m / 2} for m in ms]

    runs = {"masthead": rounds(10.0, 20.0, 30.0), "wagtail": [{"bytes": 1, "wagtail_ms": w} for w in (30.0, 10.0, 20.0)]}
    split = render_split.summarise(runs, 3, 1)
    assert split["ratio_full"] == 0.667 and split["ratio_templates_free"] == 1.333


def test_the_peer_must_be_set_up(render_split, tmp_path):
    with pytest.raises(FileNotFoundError, match="setup-wagtail.sh"):
        render_split.peer_command(tmp_path)


@pytest.mark.parametrize("mode, renders_per_request", [("masthead", None), ("masthead-free", 0)])
def test_the_counted_child_counts_its_requests_only(
    render_split, uncached, make_section, make_article, mode, renders_per_request
):
    from django.test import Client

    article = make_article(make_section("World"), "A story to count")
    events = []
    with counting_renders(render_split) as (renders, _):
        Client(HTTP_HOST="127.0.0.1").get(article.url)
        per_page = len(renders)

        def toggle(on):  # what callgrind would count: the renders between on and off
            events.append((on, len(renders)))

        result = render_split.counted_child(mode, article.url, 3, toggle=toggle)
    (on, at_on), (off, at_off) = events
    assert (on, off) == (True, False)
    expected = per_page if renders_per_request is None else renders_per_request
    assert per_page > 0 and at_off - at_on == 3 * expected
    assert result["bytes"] > 0


def test_the_counted_child_switches_counting_off_when_a_request_fails(
    render_split, uncached, make_section, make_article
):
    article = make_article(make_section("World"), "A story that breaks")
    events = []
    calls = {"n": 0}

    def toggle(on):
        events.append(on)

    from django.test import Client

    real_get = Client.get

    def failing_get(self, path, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 4:  # the first GET and the warm-up pass; the counted ones fail
            raise RuntimeError("the page broke")
        return real_get(self, path, *args, **kwargs)

    Client.get = failing_get
    try:
        with pytest.raises(RuntimeError, match="the page broke"):
            render_split.counted_child("masthead", article.url, 3, toggle=toggle)
    finally:
        Client.get = real_get
    assert events == [True, False]


def test_callgrind_totals_are_read_from_its_file(render_split, tmp_path):
    out = tmp_path / "callgrind.out"
    out.write_text("version: 1\ncmd: python\nevents: Ir\nsummary: 0\ntotals: 306447770\n")
    assert render_split.callgrind_total(out) == 306447770
    out.write_text("version: 1\n")
    with pytest.raises(RuntimeError, match="no totals line"):
        render_split.callgrind_total(out)


def test_instruction_summary_and_report(render_split):
    counts = {
        "masthead": {"bytes": 31000, "instructions": 30_000_000},
        "masthead-free": {"bytes": 31000, "instructions": 15_000_000},
        "wagtail": {"bytes": 5500, "instructions": 27_000_000},
    }
    c = render_split.summarise_instructions(counts, 10)
    assert c["ratio_full"] == 0.9 and c["ratio_templates_free"] == 1.8
    assert c["target_instructions"] == 18_000_000
    assert_report(
        render_split.markdown_instructions(c),
        ("30.00 | 0.90x", "15.00 | 1.80x", "27.00"),
        "18.00 million instructions or fewer",
    )


def test_the_counted_child_refuses_a_mode_it_does_not_know(render_split):
    with pytest.raises(ValueError, match="not 'masthead-whole'"):
        render_split.counted_child("masthead-whole", "/", 1, toggle=lambda on: None)
