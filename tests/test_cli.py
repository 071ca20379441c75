"""The `masthead` entry point: our commands, the dashed alias, and Django's commands passing through."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from masthead import cli
from tests.conftest import SEED_FILE
from tests.cli_support import masthead

pytestmark = pytest.mark.own_data  # its process-driving tests run once, outside both passes (tests/conftest.py)

SEED_URL = "/world/us-calls-on-israel-to-end-large-scale-ground-invasion-in-gaza/"


# --- In process: argument handling ------------------------------------------------------------


@pytest.fixture
def captured_argv(monkeypatch):
    calls = []
    monkeypatch.setattr("django.core.management.execute_from_command_line", lambda argv: calls.append(argv))
    for name in ("DEBUG", "DJANGO_SETTINGS_MODULE"):
        monkeypatch.delenv(name, raising=False)
    return calls


def test_dashed_alias_maps_to_the_django_command(captured_argv):
    cli.main(["import-text", "a.txt", "--section", "World"])
    assert captured_argv == [["masthead", "import_text", "a.txt", "--section", "World"]]
    assert os.environ["DJANGO_SETTINGS_MODULE"] == "masthead.settings"
    assert "DEBUG" not in os.environ  # only `serve` defaults DEBUG off


def test_other_arguments_pass_through_unchanged(captured_argv):
    cli.main(["migrate", "--no-input"])
    cli.main(["check", "import-text"])  # only the command name is an alias
    cli.main([])
    assert captured_argv == [["masthead", "migrate", "--no-input"], ["masthead", "check", "import-text"], ["masthead"]]


def test_serve_defaults_debug_off_but_keeps_an_explicit_value(captured_argv, monkeypatch):
    cli.main(["serve"])
    assert os.environ["DEBUG"] == "0"
    monkeypatch.setenv("DEBUG", "1")
    cli.main(["serve", "--port", "9000"])
    assert os.environ["DEBUG"] == "1"  # so serve can see it and refuse
    assert captured_argv[-1] == ["masthead", "serve", "--port", "9000"]


def test_argv_defaults_to_sys_argv(captured_argv, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["masthead", "import-text", "x.txt"])
    cli.main()
    assert captured_argv == [["masthead", "import_text", "x.txt"]]


# --- The installed executable -----------------------------------------------------------------


@pytest.mark.parametrize("args", [["--help"], ["help"]])
def test_help_lists_our_commands(tmp_path, args):
    result = masthead(tmp_path, *args)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Usage: masthead subcommand" in out or "masthead help <subcommand>" in out
    sections = {}
    current = None
    for line in out.splitlines():
        if line.startswith("[") and line.endswith("]"):
            current = line.strip("[]")
        elif current and line.startswith("    "):
            sections.setdefault(current, []).append(line.strip())
    assert "demo" in sections.get("demo", [])
    assert "serve" in sections.get("serving", [])
    assert "import_text" in sections.get("importers", [])
    assert "migrate" in sections.get("django", [])


def test_help_for_the_import_command(tmp_path):
    result = masthead(tmp_path, "import-text", "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: masthead import_text" in result.stdout
    for option in ("FILE", "--section", "--author"):
        assert option in result.stdout


def test_django_check_passes_through(tmp_path):
    result = masthead(tmp_path, "check")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_unknown_command_fails(tmp_path):
    result = masthead(tmp_path, "no-such-command")
    assert result.returncode != 0
    assert "Unknown command: 'no-such-command'" in result.stderr


def test_import_text_alias_after_migrate(migrated_dir):
    result = masthead(migrated_dir, "import-text", str(SEED_FILE), "--section", "World", "--author", "Samir Haddad")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"created: {SEED_URL} ({SEED_FILE})"
    # The Django spelling is the same command.
    result = masthead(migrated_dir, "import_text", str(SEED_FILE), "--section", "World", "--author", "Samir Haddad")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"unchanged: {SEED_URL} ({SEED_FILE})"
    with sqlite3.connect(migrated_dir / "masthead.sqlite3") as db:
        rows = db.execute(
            "SELECT p.title, p.url_path FROM news_articlepage a JOIN wagtailcore_page p ON p.id = a.page_ptr_id"
        ).fetchall()
        authors = db.execute("SELECT name FROM news_author").fetchall()
    assert rows == [
        ("US Calls on Israel to End Large-Scale Ground Invasion in Gaza", "/home" + SEED_URL),
    ]
    assert authors == [("Samir Haddad",)]
    assert not (migrated_dir / "var").exists()  # MASTHEAD_DATA_DIR was honoured
