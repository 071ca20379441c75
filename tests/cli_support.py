"""Running the real `masthead` executable the way a person would, for CLI and server tests."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

MASTHEAD = Path(sys.executable).with_name("masthead")
# What a person's shell would not have: our test settings, and the databases of the test run.
TEST_ONLY_VARIABLES = {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"}


def masthead_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of someone running `masthead` by hand: no test settings, SQLite in data_dir."""
    env = {k: v for k, v in os.environ.items() if k not in TEST_ONLY_VARIABLES}
    env.update(MASTHEAD_DATA_DIR=str(data_dir), HOME=str(data_dir), **extra)
    return env


def masthead(data_dir: Path, *args: str, timeout: int = 180) -> subprocess.CompletedProcess:
    assert MASTHEAD.exists(), f"{MASTHEAD} is not installed (pip install -e .)"
    return subprocess.run(
        [MASTHEAD, *args], env=masthead_env(data_dir), cwd=data_dir, capture_output=True, text=True, timeout=timeout
    )


def count_articles(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "masthead.sqlite3") as db:
        return db.execute("SELECT COUNT(*) FROM news_articlepage").fetchone()[0]


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory) -> Path:
    """A data directory after `masthead migrate`, made once per test run (migrating takes seconds)."""
    template = tmp_path_factory.mktemp("masthead-migrated")
    result = masthead(template, "migrate", "--no-input", "-v0")
    assert result.returncode == 0, result.stderr
    return template


@pytest.fixture
def migrated_dir(migrated_template, tmp_path) -> Path:
    """A fresh copy of the migrated data directory for one test."""
    target = tmp_path / "data"
    target.mkdir()
    for f in migrated_template.glob("masthead.sqlite3*"):
        shutil.copy2(f, target / f.name)
    return target
