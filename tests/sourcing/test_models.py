"""Sourcing reports are stored per article revision, on every path that writes a revision."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from wagtail.models import Revision

import masthead.sourcing
from masthead.importers.service import import_files
from masthead.news.models import ArticlePage
from masthead.sourcing.article_text import article_text, quote_block_text, rich_text_to_plain
from masthead.sourcing.models import QuotedSource, SourcingReport, analyser_version, normalise
from tests.conftest import SEED_FILE

from .conftest import FLOOD, save_new_version


def report_of(revision_id) -> SourcingReport:
    return SourcingReport.objects.get(revision_id=revision_id)


def test_every_saved_revision_gets_its_own_report(flood_article, script):
    article = flood_article(publish=False)
    first = article.latest_revision
    report = report_of(first.pk)
    assert report.page_id == article.pk
    assert report.analyser_version == analyser_version() and report.analyser_version
    assert report.text.startswith("Floods close the old bridge\n\n“We will rebuild the bridge,”")
    assert report.quote_count == 5 and report.anonymous_quote_count == 1 and report.warning_count == 2
    assert {(q.name, q.kind, q.quotes) for q in report.quoted_sources.all()} == {
        ("Ada Lovelace", "named", 2),
        ("a council official", "anonymous", 1),
        ("The Environment Agency", "institutional", 1),
    }

    article, second = save_new_version(article, ["“We will rebuild the bridge,” Mayor Ada Lovelace said."])
    assert second.pk != first.pk
    assert SourcingReport.objects.filter(page=article).count() == 2
    assert report_of(second.pk).quote_count == 1
    assert report_of(first.pk).quote_count == 5  # the older revision keeps its own report


def test_publishing_a_saved_revision_does_not_analyse_again(flood_article, script):
    article = flood_article(publish=False)
    calls = script.calls
    article.latest_revision.publish()
    assert script.calls == calls
    article = ArticlePage.objects.get(pk=article.pk)
    assert article.live_revision_id == article.latest_revision_id
    assert report_of(article.live_revision_id).quote_count == 5


def test_an_overwritten_revision_is_analysed_again(flood_article, script, superuser):
    """Wagtail's autosave overwrites the editor's latest revision: its report follows."""
    article = flood_article(publish=False)
    page = article.get_latest_revision_as_object()
    revision = page.save_revision(user=superuser)
    page.body = [("paragraph", page.body[0].value)]
    overwritten = page.save_revision(user=superuser, overwrite_revision=revision)
    assert overwritten.pk == revision.pk
    report = report_of(revision.pk)
    assert report.quote_count == 1
    assert list(report.quoted_sources.values_list("name", "quotes")) == [("Ada Lovelace", 1)]


def test_a_revision_whose_text_did_not_change_reuses_the_result(flood_article, script):
    """Autosave, a new tag or image: the analyser's text is the same, so is its answer."""
    article = flood_article(publish=False)
    calls = script.calls
    article, same = save_new_version(article, FLOOD, search_description="a new summary")
    assert script.calls == calls
    reused = report_of(same.pk)
    assert reused.quote_count == 5 and reused.text.startswith("Floods close the old bridge")
    assert {(q.name, q.quotes) for q in reused.quoted_sources.all()} >= {("Ada Lovelace", 2)}

    article, changed = save_new_version(article, FLOOD[:1])
    assert script.calls == calls + 1
    assert report_of(changed.pk).quote_count == 1
    article, back = save_new_version(article, FLOOD)  # the latest report no longer has this text
    assert script.calls == calls + 2 and report_of(back.pk).quote_count == 5


@pytest.mark.parametrize("stored", [{"error": "RuntimeError: rules file missing"}, {"analyser_version": "older"}])
def test_a_failed_or_older_report_is_not_reused(flood_article, script, stored):
    article = flood_article(publish=False)
    SourcingReport.objects.filter(revision_id=article.latest_revision_id).update(**stored)
    calls = script.calls
    article, same = save_new_version(article, FLOOD)
    assert script.calls == calls + 1
    assert report_of(same.pk).error == "" and report_of(same.pk).analyser_version == analyser_version()


def test_only_article_revisions_are_analysed(make_section, script):
    section = make_section("Opinion")
    assert Revision.objects.filter(object_id=str(section.pk)).exists()
    assert not SourcingReport.objects.exists()
    assert script.calls == 0


def test_an_analyser_failure_never_stops_saving(make_section, make_article, monkeypatch):
    def broken(text, language="en"):
        raise RuntimeError("rules file missing")

    monkeypatch.setattr(masthead.sourcing, "analyse", broken)
    article = make_article(make_section("Local"), "Still saved")
    report = report_of(article.live_revision_id)
    assert "RuntimeError: rules file missing" in report.error
    assert report.result == {"quotes": [], "sources": [], "figures": [], "warnings": []}


def test_the_importer_stores_reports(db, tmp_path, script):
    script.quote("“It is a fair deal,”", "Ben Writer")
    story = tmp_path / "story.txt"
    story.write_text(
        "Politics\n\nTalks end in a deal\n\n“It is a fair deal,” Ben Writer said.\n", encoding="utf-8"
    )
    [result] = import_files([story])
    article = ArticlePage.objects.get(pk=result.article.pk)
    assert article.live
    report = report_of(article.live_revision_id)
    assert report.quote_count == 1
    assert report.text == "Talks end in a deal\n\n“It is a fair deal,” Ben Writer said."


def test_the_demo_loader_stores_a_report_for_every_article(db, script):
    from masthead.demo.loader import load_demo

    load_demo()
    live = ArticlePage.objects.values_list("live_revision_id", flat=True)
    assert len(live) == 33
    assert SourcingReport.objects.filter(revision_id__in=live).count() == 33


def test_reports_are_filled_in_and_refreshed_by_command(flood_article, script, monkeypatch):
    article = flood_article()
    SourcingReport.objects.all().delete()
    out = StringIO()
    call_command("reanalyse_sources", stdout=out)
    assert "Analysed 1 revision(s)" in out.getvalue()  # latest and live are the same revision
    assert report_of(article.live_revision_id).quote_count == 5

    call_command("reanalyse_sources", stdout=out)
    assert "Analysed 0 revision(s)" in out.getvalue()
    SourcingReport.objects.update(analyser_version="old")
    call_command("reanalyse_sources", "--stale", stdout=(out := StringIO()))
    assert "Analysed 1 revision(s)" in out.getvalue()
    assert report_of(article.live_revision_id).analyser_version == analyser_version()


def test_migrate_fills_in_missing_reports(flood_article, script):
    from masthead.sourcing.signals import fill_missing_reports

    article = flood_article()
    SourcingReport.objects.all().delete()
    fill_missing_reports(sender=None, verbosity=0)
    assert report_of(article.live_revision_id).quote_count == 5


def test_article_text_maps_offsets_back_to_fields_and_blocks(make_section, make_article, db, script):
    article = make_article(
        make_section("Local"), "Bridge reopens", standfirst="Cars are back.", paragraphs=FLOOD[:2]
    )
    page = article.get_latest_revision_as_object()
    page.body.append(("subhead", "What next"))
    page.body.append(("quote", {"quote": "We did it.", "attribution": "The mayor"}))
    page.save_revision()
    page = ArticlePage.objects.get(pk=article.pk).get_latest_revision_as_object()
    document = article_text(page)
    ids = [block.id for block in page.body]
    assert [(s.kind, s.path, s.label) for s in document.segments] == [
        ("headline", "title", "headline"),
        ("standfirst", "standfirst", "standfirst"),
        ("paragraph", f"body.{ids[0]}", "paragraph 1"),
        ("paragraph", f"body.{ids[1]}", "paragraph 2"),
        ("subhead", f"body.{ids[2]}", "subhead 1"),
        ("quote", f"body.{ids[3]}", "quote block 1"),
    ]
    for segment in document.segments:
        assert document.segment_at(segment.start) == segment
        assert document.segment_at(segment.end - 1) == segment
    assert document.segment_at(document.segments[0].end + 1) == document.segments[1]  # a separator
    assert document.text.endswith("What next\n\n“We did it,” The mayor said.")
    assert report_of(page.latest_revision_id).segments[-1]["path"] == f"body.{ids[3]}"


def test_plain_text_of_rich_text_and_quote_blocks():
    assert rich_text_to_plain("<p>Fish &amp; chips — “hot”…</p><ul><li>one</li><li><b>two</b></li></ul>") == (
        "Fish & chips — “hot”…\none\ntwo"
    )
    assert quote_block_text("“Never again!”", "— Jane Doe") == "“Never again!” Jane Doe said."
    assert quote_block_text("Quiet, please", "") == "“Quiet, please”"
    assert quote_block_text("  ", "Someone") == ""


def test_normalise_keeps_the_contract_whatever_the_analyser_returns():
    text = "x" * 50
    result = normalise(
        {
            "quotes": [{"start": 10, "end": 20}, {"start": 40, "end": 99}, "junk", {"start": 1, "end": 5}],
            "warnings": None,
        },
        len(text),
    )
    assert [(q["start"], q["end"]) for q in result["quotes"]] == [(1, 5), (10, 20), (None, None)]
    assert result["warnings"] == [] and result["sources"] == [] and result["figures"] == []
    with pytest.raises(TypeError):
        normalise(["not", "a", "dict"], 10)


# --- With the real analyser ----------------------------------------------------------------------


def test_real_analyser_on_the_seed_article_reports_the_conflicting_attribution(db):
    """The lead's rules on the seed: the quote closed with "Biden said" that reports Kirby."""
    [result] = import_files([SEED_FILE])
    article = ArticlePage.objects.get(pk=result.article.pk)
    report = report_of(article.live_revision_id)
    assert not report.error
    conflicts = [w for w in report.result["warnings"] if w["code"] == "conflicting-attribution"]
    assert len(conflicts) == 1
    flagged = report.text[conflicts[0]["start"] : conflicts[0]["end"]]
    assert "Kirby said that Sullivan also discussed" in flagged
    quoted = dict(report.quoted_sources.filter(kind=QuotedSource.Kind.NAMED).values_list("name", "quotes"))
    assert quoted.get("Joe Biden", 0) >= 2
    assert report.anonymous_quote_count >= 2
