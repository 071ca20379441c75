"""Fixtures for the sourcing app's tests (models, editor panel, reader box, summary).

`script` replaces the analyser with a scripted one: each test says which words are a quote (with
which speaker), a figure or a warning, and the script answers with the contract's JSON for
whatever text it is given, at the offsets where those words are found. So the app's storage and
rendering are tested against the contract alone, whatever state the real analyser is in. Tests
that use the real analyser (on the seed article) say so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

import masthead.sourcing
from masthead.importers.service import body_from_paragraphs
from masthead.news.models import ArticlePage


@dataclass
class Script:
    quotes: list[dict] = field(default_factory=list)
    figures: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    calls: int = 0
    texts: list[str] = field(default_factory=list)

    def quote(self, words, speaker, speaker_type="named", kind="direct", cue="said"):
        self.quotes.append(
            {"words": words, "speaker": speaker, "speaker_type": speaker_type, "kind": kind, "cue": cue}
        )
        return self

    def figure(self, words, source=None, value=None):
        self.figures.append({"words": words, "source": source, "value": value})
        return self

    def warn(self, words, code, message="Check this."):
        self.warnings.append({"words": words, "code": code, "message": message})
        return self

    def __call__(self, text: str, language: str = "en") -> dict:
        self.calls += 1
        self.texts.append(text)
        result = {"quotes": [], "sources": [], "figures": [], "warnings": []}
        sources: dict[str, dict] = {}
        for spec in self.quotes:
            start = text.find(spec["words"])
            if start < 0:
                continue
            end = start + len(spec["words"])
            result["quotes"].append(
                {
                    "text": spec["words"],
                    "start": start,
                    "end": end,
                    "kind": spec["kind"],
                    "speaker": spec["speaker"],
                    "speaker_type": spec["speaker_type"] if spec["speaker"] else None,
                    "cue": spec["cue"],
                }
            )
            if spec["speaker"]:
                sources.setdefault(
                    spec["speaker"],
                    {"name": spec["speaker"], "type": spec["speaker_type"], "role": None, "mentions": []},
                )
        for spec in self.figures:
            result["figures"] += _located(text, spec, value=spec["value"], source=spec["source"])
        for spec in self.warnings:
            result["warnings"] += [{k: v for k, v in item.items() if k != "text"}
                                   for item in _located(text, spec, code=spec["code"], message=spec["message"])]
        result["sources"] = list(sources.values())
        return result


@pytest.fixture
def script(monkeypatch) -> Script:
    scripted = Script()
    monkeypatch.setattr(masthead.sourcing, "analyse", scripted)
    return scripted


# A flood story with every kind of item the panel and the box show.
FLOOD = [
    "“We will rebuild the bridge,” Mayor Ada Lovelace said on Monday.",
    "The repairs will cost £4m, a council official said.",
    "The Environment Agency said the river had peaked.",
    "Nearly 300 homes were flooded.",
    "“Nobody warned us,” one resident shouted.",
    "“The water came in minutes,” Lovelace said.",
]


@pytest.fixture
def flood_script(script) -> Script:
    (
        script.quote("“We will rebuild the bridge,”", "Ada Lovelace")
        .quote("The repairs will cost £4m", "a council official", "anonymous", "indirect")
        .quote("the river had peaked", "The Environment Agency", "institutional", "indirect")
        .quote("“Nobody warned us,”", None, cue=None)
        .quote("“The water came in minutes,”", "Ada Lovelace")
        .figure("£4m", source="a council official", value=4_000_000)
        .figure("Nearly 300 homes", value=300)
        .warn("Nearly 300 homes", "unsourced-figure", "No source is given for this figure.")
        .warn("“Nobody warned us,”", "unattributed-quote", "Nobody is named as saying this.")
    )
    return script


@pytest.fixture
def flood_article(make_section, make_article, flood_script):
    def make(title="Floods close the old bridge", section=None, publish=True, **kwargs):
        section = section or make_section("Local")
        return make_article(section, title, paragraphs=FLOOD, publish=publish, **kwargs)

    return make


def save_new_version(article: ArticlePage, paragraphs, publish: bool = False, **fields):
    """Save (and maybe publish) a new revision of `article` with this body."""
    page = article.get_latest_revision_as_object()
    page.body = body_from_paragraphs(list(paragraphs))
    for name, value in fields.items():
        setattr(page, name, value)
    revision = page.save_revision()
    if publish:
        revision.publish()
    return ArticlePage.objects.get(pk=article.pk), revision


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("chief", "chief@example.org", "pw")


@pytest.fixture
def editor_user(db):
    """A member of Wagtail's default "Editors" group: may edit pages, is no superuser."""
    user = get_user_model().objects.create_user("edith", "edith@example.org", "pw")
    user.groups.add(Group.objects.get(name="Editors"))
    return user


@pytest.fixture
def outsider_user(db):
    """May enter the admin, but holds no page permission at all."""
    from django.contrib.auth.models import Permission

    user = get_user_model().objects.create_user("otto", "otto@example.org", "pw")
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    return user


def _located(text: str, spec: dict, **fields) -> list[dict]:
    """The scripted item with the offsets of its words in ``text``; none if the words are absent."""
    start = text.find(spec["words"])
    if start < 0:
        return []
    return [{"text": spec["words"], **fields, "start": start, "end": start + len(spec["words"])}]
