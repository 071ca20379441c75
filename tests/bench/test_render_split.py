"""bench/render_split.py, the uncached article in one process, whole and with its templates
free: its masthead half on this run's test database, and its summary and report."""

from __future__ import annotations

import pytest


@pytest.fixture
def render_split(on_bench_path):
    import render_split

    return render_split


@pytest.fixture
def uncached(settings):
    """The benchmark's uncached settings: masthead's middleware without the page cache."""
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.startswith("masthead.caching.")]


def test_the_masthead_half_renders_whole_then_with_templates_free(render_split, uncached, make_section, make_article):
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")  # as the child asks
    article = make_article(make_section("World"), "A story to time")
    whole = client.get(article.url).content
    renders = []
    classes = render_split.template_classes()
    real = [cls.render for cls in classes]

    def counting(render):
        def counted(self, *args, **kwargs):
            renders.append(self)
            return render(self, *args, **kwargs)

        return counted

    counters = [counting(render) for render in real]
    for cls, counter in zip(classes, counters):
        cls.render = counter
    try:
        client.get(article.url)
        per_page = len(renders)
        renders.clear()
        result = render_split.child("masthead", article.url, 2)
        # The whole page: the first GET, the warm-up (3) and 5 batches of 2, each rendering its
        # templates; with the templates free, not one more render.
        assert per_page > 0 and len(renders) == per_page * (1 + 3 + 5 * 2)
        assert [cls.render for cls in classes] == counters  # put back as they were
    finally:
        for cls, render in zip(classes, real):
            cls.render = render
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
    report = "\n".join(render_split.markdown(split))
    assert "| masthead, the whole page (31,000 B) | 12.00 | 0.75x |" in report
    assert "| masthead, its templates free (routing, context, middleware) | 6.00 | 1.50x |" in report
    assert "| plain Wagtail, the whole page (5,500 B) | 9.00 | 1.00x |" in report
    assert "needs masthead's whole page in 6.00 ms or less" in report


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
