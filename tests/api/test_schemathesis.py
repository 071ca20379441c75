"""Fuzz the read API from its own OpenAPI schema with Schemathesis.

The schema is loaded from the running Django application (/api/v1/openapi.json through the WSGI
handler), and every operation gets property-based requests, valid and invalid ones alike. Each
response must not be a server error and must match the schema: status code, content type and
body. A small publication (published, draft and private articles, nested sections, authors,
tags) is in the database, and path parameters are often swapped for the ids and slugs that exist
there, so the detail operations are checked on real objects as well as on 404s.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from wagtail.models import PageViewRestriction
from wagtail.rich_text import RichText

from masthead.wsgi import application

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance, status_code_conformance]
MAX_EXAMPLES = 25


@pytest.fixture
def publication(desk, make_article, make_image) -> dict[str, list]:
    world, mideast, politics, ada, ben = desk.world, desk.mideast, desk.politics, desk.ada, desk.ben
    ada.photo = make_image("Ada portrait")
    ada.save()
    lead = make_image("Lead picture")
    articles = [
        make_article(world, "World story", authors=[ada], tags=["Gaza"], lead_image=lead, days_ago=3),
        make_article(
            mideast,
            "Mideast story",
            authors=[ada, ben],
            tags=["Gaza", "Peace"],
            further=[politics],
            days_ago=2,
        ),
        make_article(politics, "Politics story", authors=[ben], standfirst="Votes.", days_ago=1),
    ]
    rich = articles[0]
    rich.body = [
        ("paragraph", RichText('<p>Text with <a href="https://example.com/">a link</a>.</p>')),
        ("subhead", "A subhead"),
        ("quote", {"quote": "Quoted.", "attribution": ""}),
        ("image", {"image": make_image("Inline"), "alt_text": "", "caption": "", "credit": ""}),
        ("embed", {"url": "https://example.org/v", "title": "A video", "caption": "Watch"}),
    ]
    rich.save_revision().publish()
    hidden = [
        make_article(world, "Draft story", tags=["Embargoed"], publish=False),
        make_article(politics, "Private story", tags=["Embargoed"]),
    ]
    PageViewRestriction.objects.create(page=hidden[1], restriction_type=PageViewRestriction.LOGIN)
    return {
        "article_id": [a.pk for a in articles + hidden],
        "section_id": [world.pk, mideast.pk, politics.pk],
        "slug": ["ada-reporter", "ben-writer", "gaza", "peace", "embargoed"],
    }


# Ids and slugs of the current test's publication, for the hook below; filled by `database`.
REAL: dict[str, list] = {}


@pytest.fixture
def database(publication):
    """The publication, reachable through the site's WSGI application.

    Django's handler closes "old" connections at the start and end of every request; inside a
    test transaction that would drop the connection, so, like Django's test client, switch that
    off for the duration.
    """
    REAL.update(publication)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield publication
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        REAL.clear()


# Loaded when the module is collected: serving the schema needs no database.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Half the time, ask for an object that exists (or existed, for the hidden ones)."""

    def pick(name):
        # Drawn as an index and looked up when the example runs, once the fixture has made data.
        return st.integers(min_value=0, max_value=99).map(lambda i: REAL[name][i % len(REAL[name])])

    names = [name for name in path_parameters or () if name in ("article_id", "section_id", "slug")]
    if not names:
        return st.just(path_parameters)
    return st.one_of(st.just(path_parameters), st.fixed_dictionaries({name: pick(name) for name in names}))


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_matches_its_schema(case, database):
    # Plain bodies: schemathesis's WSGI client asks for gzip but does not decode it (compression
    # has its own tests in tests/caching/test_gzip.py).
    case.call_and_validate(headers={"Accept-Encoding": "identity"}, checks=CHECKS)


def test_schemathesis_sees_every_operation():
    operations = {
        (op.method.upper(), op.path) for op in (result.ok() for result in schema.get_all_operations())
    }
    assert operations == {
        ("GET", "/api/v1/"),
        ("GET", "/api/v1/articles/"),
        ("GET", "/api/v1/articles/{article_id}/"),
        ("GET", "/api/v1/sections/"),
        ("GET", "/api/v1/sections/{section_id}/"),
        ("GET", "/api/v1/authors/"),
        ("GET", "/api/v1/authors/{slug}/"),
        ("GET", "/api/v1/tags/"),
        ("GET", "/api/v1/tags/{slug}/"),
    }
