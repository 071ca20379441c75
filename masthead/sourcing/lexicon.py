"""Word lists of one language, read from plain data files under ``languages/<code>/``.

Keeping the vocabulary in data files (one entry per line, ``#`` comments) lets an editor or a
translator extend the analyser without touching the rules, and is what makes another language a
matter of adding a folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

LANGUAGES = Path(__file__).resolve().parent / "languages"


def _read(folder: Path, name: str) -> frozenset[str]:
    path = folder / f"{name}.txt"
    entries = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip().lower()
        if line:
            entries.add(line)
    return frozenset(entries)


@dataclass(frozen=True)
class Lexicon:
    """Everything language-specific the rules consult."""

    language: str
    cue_verbs: frozenset[str]
    auxiliaries: frozenset[str]
    role_nouns: frozenset[str]
    anonymity: frozenset[str]
    source_nouns: frozenset[str]
    institutions: frozenset[str]
    collectives: frozenset[str]
    titles: frozenset[str]
    figure_nouns: frozenset[str]


@lru_cache(maxsize=None)
def load(language: str = "en") -> Lexicon:
    """The lexicon for ``language``; ValueError names the languages there are."""
    folder = LANGUAGES / language
    if not folder.is_dir():
        have = ", ".join(sorted(p.name for p in LANGUAGES.iterdir() if p.is_dir()))
        raise ValueError(f"no sourcing rules for language {language!r} (have: {have})")
    fields = [f for f in Lexicon.__dataclass_fields__ if f != "language"]
    return Lexicon(language, **{name: _read(folder, name) for name in fields})
