"""`masthead import-text`: what lands in Wagtail, re-imports, options, and refusing bad files whole."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from django.core.management import CommandError, call_command
from wagtail.models import Page

from masthead.importers.text_format import read
from masthead.news.models import ArticlePage, Author, SectionPage
from tests.conftest import SEED_FILE
from tests.cli_support import count_articles, masthead

pytestmark = pytest.mark.own_data  # its process-driving tests run once, outside both passes (tests/conftest.py)

SEED_HEADLINE = "US Calls on Israel to End Large-Scale Ground Invasion in Gaza"
SEED_SLUG = "us-calls-on-israel-to-end-large-scale-ground-invasion-in-gaza"
SEED_URL = f"/world/{SEED_SLUG}/"


def seed_paragraphs() -> list[str]:
    """The seed's body paragraphs, cut from the file by hand rather than by the parser."""
    blocks = [b.strip() for b in SEED_FILE.read_text(encoding="utf-8").split("\n\n") if b.strip()]
    assert blocks[-2:] == ["Spread the love", "Comment here"]
    return blocks[2:-2]


def run_import(*args: str, **options) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_text", *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def body_texts(client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    soup = BeautifulSoup(response.content.decode("utf-8"), "html.parser")
    return [p.get_text() for p in soup.select(".article__body p")]


@pytest.fixture
def seed_copy(tmp_path) -> Path:
    path = tmp_path / "seed.txt"
    shutil.copyfile(SEED_FILE, path)
    return path


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


GOOD = "Politics\n\nCouncil passes a budget\n\nThe council met on Tuesday.\n\nIt voted 30–12.\n"


# --- Importing --------------------------------------------------------------------------------


def test_importing_the_seed_creates_one_article_under_world_and_main_stories(home, django_capture_on_commit_callbacks):
    assert not SectionPage.objects.exists()
    # Anything deferred to the commit (Wagtail signal handlers) runs cleanly too.
    with django_capture_on_commit_callbacks(execute=True):
        out, err = run_import(str(SEED_FILE))
    assert err == ""
    assert out.strip() == f"created: {SEED_URL} ({SEED_FILE})"

    article = ArticlePage.objects.get()
    assert article.live
    assert article.title == SEED_HEADLINE
    assert article.url == SEED_URL
    parent = article.get_parent().specific
    assert isinstance(parent, SectionPage) and parent.title == "World"
    assert parent.get_parent().pk == home.pk
    assert [s.title for s in article.additional_sections.all()] == ["Main Stories"]
    # Unknown sections were created as live top-level sections.
    assert sorted(SectionPage.objects.child_of(home).live().values_list("title", flat=True)) == ["Main Stories", "World"]
    paragraphs = [b.value.source for b in article.body if b.block_type == "paragraph"]
    assert len(paragraphs) == 14
    assert not any("Spread the love" in p or "Comment here" in p for p in paragraphs)


def test_imported_text_renders_byte_for_byte(client, home):
    run_import(str(SEED_FILE))
    expected = seed_paragraphs()
    assert len(expected) == 14
    rendered = body_texts(client, SEED_URL)
    assert rendered == expected
    assert [t.encode("utf-8") for t in rendered] == [t.encode("utf-8") for t in expected]
    joined = "".join(rendered)
    for char in "“”’—…":
        assert char in joined
    # Not escaped into entities either: the raw UTF-8 characters are in the page.
    html = client.get(SEED_URL).content.decode("utf-8")
    assert "“collective punishment”" in html
    assert "&#8220;" not in html and "&ldquo;" not in html
    page_text = BeautifulSoup(html, "html.parser").select_one(".article__body").get_text()
    assert "Spread the love" not in page_text and "Comment here" not in page_text


def test_html_special_characters_are_text_not_markup(client, home, tmp_path):
    paragraphs = [
        "Fish & chips cost <b>£4</b> — up 5% in “a year”…",
        "A <script>alert('x')</script> tag and an &amp; entity stay literal.",
        "Ellipsis… apostrophe’s, en–dash, ‘single quotes’, non\u00a0breaking space.",
    ]
    path = write(tmp_path, "special.txt", "World\n\nSpecial characters survive\n\n" + "\n\n".join(paragraphs) + "\n")
    run_import(str(path))
    article = ArticlePage.objects.get()
    assert body_texts(client, article.url) == paragraphs
    assert "<script>alert" not in client.get(article.url).content.decode("utf-8")


def test_crlf_and_bom_file_imports_the_same_article(client, home, tmp_path):
    data = SEED_FILE.read_bytes()
    path = write(tmp_path, "windows.txt", b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n"))
    out, _ = run_import(str(path))
    assert out.startswith("created: ")
    article = ArticlePage.objects.get()
    assert article.title == SEED_HEADLINE
    assert article.url == SEED_URL  # the BOM did not end up in a section name
    assert not SectionPage.objects.filter(title__contains="\ufeff").exists()
    assert body_texts(client, SEED_URL) == seed_paragraphs()
    # And the LF original is recognised as the very same story.
    out, _ = run_import(str(SEED_FILE))
    assert out.startswith("unchanged: ")
    assert ArticlePage.objects.count() == 1


def test_known_sections_are_reused_not_duplicated(home, make_section, tmp_path):
    world = make_section("World")
    mideast = make_section("Middle East", parent=world)
    run_import(str(write(tmp_path, "amman.txt", "WorldMiddle East\n\nA story from Amman\n\nBody.\n")))
    article = ArticlePage.objects.get()
    assert article.get_parent().pk == mideast.pk
    assert article.url.startswith("/world/middle-east/")
    assert [s.pk for s in article.additional_sections.all()] == [world.pk]
    assert SectionPage.objects.filter(title="World").count() == 1
    assert SectionPage.objects.filter(title="Middle East").count() == 1


# --- Options ----------------------------------------------------------------------------------


def test_section_option_sets_the_primary_section(home, make_section):
    politics = make_section("Politics")
    out, _ = run_import(str(SEED_FILE), section="Politics")
    article = ArticlePage.objects.get()
    assert article.get_parent().pk == politics.pk
    assert article.url == f"/politics/{SEED_SLUG}/"
    assert out.strip() == f"created: /politics/{SEED_SLUG}/ ({SEED_FILE})"
    assert sorted(s.title for s in article.additional_sections.all()) == ["Main Stories", "World"]


def test_section_option_creates_an_unknown_section(home):
    run_import(str(SEED_FILE), "--section", "Foreign Desk")
    section = SectionPage.objects.get(title="Foreign Desk")
    assert section.live and section.get_parent().pk == home.pk
    article = ArticlePage.objects.get()
    assert article.get_parent().pk == section.pk
    assert article.url == f"/foreign-desk/{SEED_SLUG}/"


def test_section_option_matching_a_file_section_is_not_also_a_further_section(home, make_section):
    main = make_section("Main Stories")
    run_import(str(SEED_FILE), section="main stories")
    article = ArticlePage.objects.get()
    assert article.get_parent().pk == main.pk
    assert [s.title for s in article.additional_sections.all()] == ["World"]
    assert SectionPage.objects.filter(title__iexact="main stories").count() == 1


def test_author_option_sets_the_byline(client, home):
    run_import(str(SEED_FILE), author="Samir Haddad")
    article = ArticlePage.objects.get()
    assert [a.name for a in article.authors] == ["Samir Haddad"]
    author = Author.objects.get()
    assert author.slug == "samir-haddad"
    soup = BeautifulSoup(client.get(article.url).content, "html.parser")
    assert [a.get_text() for a in soup.select(".bylines a[rel=author]")] == ["Samir Haddad"]


def test_author_option_reuses_an_existing_author(home, make_author):
    existing = make_author("Samir Haddad")
    run_import(str(SEED_FILE), author="Samir Haddad")
    assert Author.objects.get().pk == existing.pk
    assert ArticlePage.objects.get().authors == [existing]


# --- Re-importing -----------------------------------------------------------------------------


def test_reimporting_the_same_file_changes_nothing(home, seed_copy):
    run_import(str(seed_copy))
    article = ArticlePage.objects.get()
    revisions = article.revisions.count()
    out, _ = run_import(str(seed_copy))
    assert out.startswith("unchanged: ")
    assert ArticlePage.objects.count() == 1
    again = ArticlePage.objects.get()
    assert again.pk == article.pk
    assert again.revisions.count() == revisions
    assert again.last_published_at == article.last_published_at


def test_reimporting_an_edited_file_updates_the_same_article(client, home, seed_copy):
    run_import(str(seed_copy))
    article = ArticlePage.objects.get()
    text = seed_copy.read_text(encoding="utf-8")
    old = "US officials stressed on surgical, focussed and targeted attacks"
    new = "US officials stressed — again — on surgical, “focused” and targeted attacks"
    assert old in text
    seed_copy.write_text(text.replace(old, new), encoding="utf-8")

    out, _ = run_import(str(seed_copy))
    assert out.strip() == f"updated: {SEED_URL} ({seed_copy})"
    assert ArticlePage.objects.count() == 1
    updated = ArticlePage.objects.get()
    assert updated.pk == article.pk
    assert updated.url == SEED_URL
    rendered = body_texts(client, SEED_URL)
    assert len(rendered) == 14
    assert rendered[1].startswith(new)
    assert not any(old in p for p in rendered)
    # And importing the edited file once more is now a no-op.
    out, _ = run_import(str(seed_copy))
    assert out.startswith("unchanged: ")


def test_reimporting_with_another_section_moves_the_same_article(home, seed_copy):
    run_import(str(seed_copy))
    pk = ArticlePage.objects.get().pk
    out, _ = run_import(str(seed_copy), section="Politics")
    assert out.startswith("updated: ")
    article = ArticlePage.objects.get()
    assert article.pk == pk
    assert article.url == f"/politics/{SEED_SLUG}/"


def test_reimporting_with_another_author_replaces_the_byline(home, seed_copy):
    run_import(str(seed_copy), author="Ada Reporter")
    out, _ = run_import(str(seed_copy), author="Ada Reporter")
    assert out.startswith("unchanged: ")
    out, _ = run_import(str(seed_copy), author="Ben Writer")
    assert out.startswith("updated: ")
    article = ArticlePage.objects.get()
    assert [a.name for a in article.authors] == ["Ben Writer"]


def test_importing_several_files_at_once(home, tmp_path):
    other = write(tmp_path, "other.txt", GOOD)
    out, _ = run_import(str(SEED_FILE), str(other))
    lines = out.strip().splitlines()
    assert lines == [f"created: {SEED_URL} ({SEED_FILE})", f"created: /politics/council-passes-a-budget/ ({other})"]
    assert ArticlePage.objects.count() == 2


# --- Bad files --------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
BAD_FILES = {
    "empty.txt": (b"", "the file is empty"),
    "blank.txt": (b" \n\n\t\n   \n", "the file is empty"),
    "picture.txt": (PNG, "binary file"),
    "nul.txt": (b"World\n\nHeadline\n\nBody\x00text\n", "binary file"),
    "section-only.txt": (b"Main StoriesWorld\n", "no headline"),
    "latin1.txt": ("World\n\nCaf\u00e9 society\n\nThe caf\u00e9 reopened.\n".encode("latin-1"), "unreadable encoding"),
    "utf16.txt": ("World\n\nHeadline\n\nThe body.\n".encode("utf-16-le"), "unreadable encoding"),
}


def bad_file(tmp_path: Path, name: str) -> Path:
    return write(tmp_path, name, BAD_FILES[name][0])


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_a_bad_file_is_refused_with_one_line_naming_it(home, tmp_path, name):
    path = bad_file(tmp_path, name)
    err = StringIO()
    with pytest.raises(CommandError, match="nothing imported"):
        call_command("import_text", str(path), stdout=StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: {path}: {BAD_FILES[name][1]}")
    assert not ArticlePage.objects.exists()
    assert not SectionPage.objects.exists()


def test_a_directory_is_refused(home, tmp_path):
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_text", str(tmp_path), stdout=StringIO(), stderr=err)
    assert err.getvalue().splitlines() == [f"error: {tmp_path}: is a directory, not a file"]


def test_a_missing_file_is_refused(home, tmp_path):
    missing = tmp_path / "nope.txt"
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_text", str(missing), stdout=StringIO(), stderr=err)
    assert err.getvalue().splitlines() == [f"error: {missing}: cannot be read (No such file or directory)"]


def test_one_bad_file_in_a_batch_imports_nothing(home, make_section, tmp_path):
    make_section("World")
    before = (ArticlePage.objects.count(), SectionPage.objects.count(), Author.objects.count(), Page.objects.count())
    good = write(tmp_path, "good.txt", GOOD)
    bad = bad_file(tmp_path, "latin1.txt")
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_text", str(SEED_FILE), str(good), str(bad), author="Someone New", stdout=StringIO(), stderr=err)
    assert err.getvalue().splitlines() == [f"error: {bad}: {read_error(bad)}"]
    after = (ArticlePage.objects.count(), SectionPage.objects.count(), Author.objects.count(), Page.objects.count())
    assert after == before


def test_every_bad_file_of_a_batch_gets_its_own_line(home, tmp_path):
    paths = [bad_file(tmp_path, name) for name in BAD_FILES]
    missing = tmp_path / "missing.txt"
    err = StringIO()
    with pytest.raises(CommandError, match=f"{len(paths) + 1} file"):
        call_command("import_text", str(SEED_FILE), *map(str, paths), str(missing), stdout=StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    assert len(lines) == len(paths) + 1
    for line, path in zip(lines, [*paths, missing]):
        assert line.startswith(f"error: {path}: ")
    assert not ArticlePage.objects.exists()


def test_an_update_in_a_failed_batch_is_not_applied(home, seed_copy, tmp_path):
    run_import(str(seed_copy))
    before = ArticlePage.objects.get()
    seed_copy.write_text(seed_copy.read_text(encoding="utf-8").replace("Sullivan", "S."), encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("import_text", str(seed_copy), str(bad_file(tmp_path, "empty.txt")), stdout=StringIO(), stderr=StringIO())
    after = ArticlePage.objects.get()
    assert after.pk == before.pk
    assert [b.value.source for b in after.body] == [b.value.source for b in before.body]
    assert after.revisions.count() == before.revisions.count()


def read_error(path: Path) -> str:
    from masthead.importers.text_format import TextFormatError

    try:
        read(path.read_bytes())
    except TextFormatError as exc:
        return str(exc)
    raise AssertionError(f"{path} parsed")


# --- Through the real `masthead` executable ---------------------------------------------------


def test_cli_refuses_bad_files_with_one_line_each_and_a_nonzero_exit(migrated_dir, tmp_path):
    bad = [bad_file(tmp_path, name) for name in BAD_FILES]
    folder = tmp_path / "a-folder"
    folder.mkdir()
    missing = tmp_path / "missing.txt"
    result = masthead(migrated_dir, "import-text", str(SEED_FILE), *map(str, bad), str(folder), str(missing))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(error_lines) == len(bad) + 2
    for line, path in zip(error_lines, [*bad, folder, missing]):
        assert line.startswith(f"error: {path}: ")
    for line, name in zip(error_lines, BAD_FILES):
        assert BAD_FILES[name][1] in line
    assert str(SEED_FILE) not in result.stderr
    # Besides the error lines only Django's one-line summary of the refusal.
    other = [line for line in result.stderr.splitlines() if not line.startswith("error: ")]
    assert other == [f"CommandError: nothing imported: {len(bad) + 2} file(s) could not be imported"]
    assert result.stdout == ""
    assert count_articles(migrated_dir) == 0


@pytest.mark.parametrize("name", ["section-only.txt", "utf16.txt"])
def test_cli_single_bad_file(migrated_dir, tmp_path, name):
    path = bad_file(tmp_path, name)
    result = masthead(migrated_dir, "import-text", str(path))
    assert result.returncode == 1
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert error_lines == [f"error: {path}: {read_error(path)}"]
    assert BAD_FILES[name][1] in error_lines[0]
    assert "Traceback" not in result.stderr


def test_cli_imports_and_reimports(migrated_dir):
    assert count_articles(migrated_dir) == 0
    result = masthead(migrated_dir, "import-text", str(SEED_FILE), "--author", "Samir Haddad")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"created: {SEED_URL} ({SEED_FILE})"
    result = masthead(migrated_dir, "import-text", str(SEED_FILE), "--author", "Samir Haddad")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"unchanged: {SEED_URL} ({SEED_FILE})"
    assert count_articles(migrated_dir) == 1


# --- Keys, editors' changes and clashes ---------------------------------------------------------


def test_a_headline_in_another_script_never_takes_over_an_article_typed_in_the_admin(home, make_section, make_article, tmp_path):
    """Its ASCII slug is empty, and so is the key of every article not imported: the import
    used to overwrite, move and publish the first of them."""
    typed = make_article(make_section("World"), "Typed in the admin")
    first = write(tmp_path, "a.txt", "World\n\nПутин встретился с Си\n\nПервый абзац.\n")
    second = write(tmp_path, "b.txt", "World\n\n中国经济增长放缓\n\n第一段。\n")
    run_import(str(first), str(second))
    assert ArticlePage.objects.get(pk=typed.pk).title == "Typed in the admin"
    keys = dict(ArticlePage.objects.exclude(pk=typed.pk).values_list("title", "import_key"))
    assert keys == {"Путин встретился с Си": "путин-встретился-с-си", "中国经济增长放缓": "中国经济增长放缓"}
    out, _ = run_import(str(first))
    assert out.startswith("unchanged: ") and ArticlePage.objects.count() == 3


def test_a_story_an_earlier_release_imported_under_the_empty_key_is_found_again(
    home, make_section, make_article, admin_user, tmp_path
):
    """Earlier releases keyed a Cyrillic headline as "". Importing it again updates that story
    and gives it its key; an article typed in the admin under the same headline (it has an
    owner) is never taken for it."""
    world = make_section("World")
    typed = make_article(world, "Путин встретился с Си")
    Page.objects.filter(pk=typed.pk).update(owner=admin_user)
    story = write(tmp_path, "a.txt", "World\n\nПутин встретился с Си\n\nПервый абзац.\n")
    run_import(str(story))
    imported = ArticlePage.objects.exclude(pk=typed.pk).get()
    ArticlePage.objects.update(import_key="")  # as an earlier release left both
    out, _ = run_import(str(story))  # the same file: nothing to change but the key
    assert out.startswith("unchanged: ") and ArticlePage.objects.get(pk=imported.pk).import_key
    ArticlePage.objects.update(import_key="")
    story.write_text("World\n\nПутин встретился с Си\n\nИсправленный абзац.\n", encoding="utf-8")
    out, _ = run_import(str(story))
    assert out.startswith("updated: ") and ArticlePage.objects.count() == 2
    imported = ArticlePage.objects.get(pk=imported.pk)
    assert imported.import_key == "путин-встретился-с-си"
    sources = [block.value.source for block in imported.body if block.block_type == "paragraph"]
    assert len(sources) == 1 and "Исправленный абзац." in sources[0]
    assert ArticlePage.objects.get(pk=typed.pk).import_key == ""


def test_an_article_of_a_deleted_editor_is_not_taken_for_an_import(
    home, make_section, make_article, django_user_model, tmp_path
):
    """Deleting an account empties the owner of every page it made; the page log still says
    a person made it."""
    from wagtail.log_actions import log

    editor = django_user_model.objects.create_user("gone", "gone@example.org", "x")
    typed = make_article(make_section("World"), "Путин встретился с Си")
    Page.objects.filter(pk=typed.pk).update(owner=editor)
    log(instance=typed, action="wagtail.create", user=editor)
    editor.delete()
    assert ArticlePage.objects.get(pk=typed.pk).owner_id is None
    out, _ = run_import(str(write(tmp_path, "a.txt", "World\n\nПутин встретился с Си\n\nПервый абзац.\n")))
    assert out.startswith("created: ") and ArticlePage.objects.count() == 2
    assert ArticlePage.objects.get(pk=typed.pk).import_key == ""


def test_a_headline_without_letters_is_keyed_by_a_digest(home, tmp_path):
    story = write(tmp_path, "a.txt", "World\n\n“…” — !\n\nA paragraph.\n")
    run_import(str(story))
    key = ArticlePage.objects.get().import_key
    assert key.startswith("headline-") and len(key) == len("headline-") + 32
    out, _ = run_import(str(story))
    assert out.startswith("unchanged: ")


def test_an_accented_headline_imported_by_an_earlier_release_is_still_found(home, tmp_path):
    story = write(tmp_path, "a.txt", "World\n\nCafé society\n\nA paragraph.\n")
    run_import(str(story))
    ArticlePage.objects.update(import_key="cafe-society")  # the ASCII key earlier releases gave
    story.write_text("World\n\nCafé society\n\nAn edited paragraph.\n", encoding="utf-8")
    out, _ = run_import(str(story))
    assert out.startswith("updated: ")
    assert ArticlePage.objects.get().import_key == "café-society"


def test_a_story_with_an_editors_draft_is_refused_and_the_draft_kept(home, seed_copy):
    run_import(str(seed_copy))
    article = ArticlePage.objects.get().get_latest_revision_as_object()
    article.standfirst = "An editor's unfinished standfirst"
    article.save_revision()
    seed_copy.write_text(seed_copy.read_text(encoding="utf-8").replace("surgical", "precise"), encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError, match="1 file"):
        call_command("import_text", str(seed_copy), stdout=StringIO(), stderr=err)
    assert f"“{SEED_HEADLINE}” has changes not yet published in the admin" in err.getvalue()
    live = ArticlePage.objects.get()
    assert live.standfirst == "" and live.has_unpublished_changes  # nothing published, draft still there
    assert live.get_latest_revision_as_object().standfirst == "An editor's unfinished standfirst"
    assert "surgical" in str(live.body)


def test_a_story_unpublished_in_the_admin_is_not_brought_back(home, seed_copy):
    run_import(str(seed_copy))
    ArticlePage.objects.get().unpublish()
    out, _ = run_import(str(seed_copy))  # the same file: nothing to do
    assert out.startswith("unchanged: ") and not ArticlePage.objects.get().live
    seed_copy.write_text(seed_copy.read_text(encoding="utf-8").replace("surgical", "precise"), encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_text", str(seed_copy), stdout=StringIO(), stderr=err)
    assert "is not published in the admin" in err.getvalue()
    assert not ArticlePage.objects.get().live


def test_an_unchanged_file_leaves_an_editors_draft_alone(home, seed_copy):
    run_import(str(seed_copy))
    article = ArticlePage.objects.get().get_latest_revision_as_object()
    article.standfirst = "An editor's unfinished standfirst"
    article.save_revision()
    out, _ = run_import(str(seed_copy))
    assert out.startswith("unchanged: ")
    live = ArticlePage.objects.get()
    assert live.standfirst == "" and live.get_latest_revision_as_object().standfirst == "An editor's unfinished standfirst"


def test_sections_in_other_scripts_get_slugs_of_their_own(home, tmp_path):
    run_import(str(write(tmp_path, "a.txt", "Мир\n\nFirst story\n\nA paragraph.\n")))
    run_import(str(write(tmp_path, "b.txt", "経済\n\nSecond story\n\nA paragraph.\n")))
    assert sorted(SectionPage.objects.values_list("slug", flat=True)) == ["section", "section-2"]


def test_a_move_onto_a_namesakes_address_is_refused_with_a_clear_line(home, make_section, make_article, seed_copy):
    """Wagtail refuses the move (a traceback before); the story stays where it was."""
    politics = make_section("Politics")
    namesake = make_article(politics, SEED_HEADLINE)  # typed in the admin, same slug
    run_import(str(seed_copy))
    err = StringIO()
    with pytest.raises(CommandError, match="1 file"):
        call_command("import_text", str(seed_copy), section="Politics", stdout=StringIO(), stderr=err)
    assert err.getvalue() == (
        f"error: {seed_copy}: The slug '{SEED_SLUG}' is already in use within the parent page at '/politics/'.\n"
    )
    assert ArticlePage.objects.exclude(pk=namesake.pk).get().url == SEED_URL


def test_a_copy_of_an_imported_story_is_another_story(home, seed_copy):
    run_import(str(seed_copy))
    article = ArticlePage.objects.get()
    copy = article.copy(update_attrs={"slug": "a-copy", "title": "A copy"})
    assert ArticlePage.objects.get(pk=copy.pk).import_key == ""
    out, _ = run_import(str(seed_copy))
    assert out.startswith("unchanged: ") and ArticlePage.objects.get(pk=article.pk).import_key
