"""A small publication and the public pages it has, for the caching tests."""

from __future__ import annotations

from types import SimpleNamespace

import pytest


@pytest.fixture
def pub(desk, make_article, make_section):
    """World › Middle East, Politics, Main Stories; Ada and Ben; four published articles:

    alpha   World           Ada        gaza            also in Main Stories
    bravo   Politics        Ben        vote
    charlie Middle East     Ada, Ben   gaza, ceasefire
    delta   Politics        Ben        vote
    """
    alpha = make_article(desk.world, "Alpha story", authors=[desk.ada], tags=["gaza"], further=[desk.main], days_ago=4)
    bravo = make_article(desk.politics, "Bravo story", authors=[desk.ben], tags=["vote"], days_ago=3)
    charlie = make_article(
        desk.mideast, "Charlie story", authors=[desk.ada, desk.ben], tags=["gaza", "ceasefire"], days_ago=2
    )
    delta = make_article(desk.politics, "Delta story", authors=[desk.ben], tags=["vote"], days_ago=1)
    # "Related" is computed after a publish commits, which a test's transaction never does:
    # settle it now, so that later it changes only when a change really alters it.
    from masthead.news.related import rebuild_all

    rebuild_all()
    return SimpleNamespace(**vars(desk), alpha=alpha, bravo=bravo, charlie=charlie, delta=delta)


def pages_of(pub) -> dict[str, str]:
    """Every kind of public page, by a short name."""
    return {
        "home": "/",
        "world": pub.world.url,
        "mideast": pub.mideast.url,
        "politics": pub.politics.url,
        "main": pub.main.url,
        "alpha": pub.alpha.url,
        "bravo": pub.bravo.url,
        "charlie": pub.charlie.url,
        "delta": pub.delta.url,
        "ada": pub.ada.get_absolute_url(),
        "ben": pub.ben.get_absolute_url(),
        "tag gaza": "/tags/gaza/",
        "tag vote": "/tags/vote/",
        "tag ceasefire": "/tags/ceasefire/",
        "feed": "/feeds/rss/",
        "politics feed": "/feeds/sections/politics/rss/",
        "sitemap": "/sitemap.xml",
        "robots": "/robots.txt",
        "api list": "/api/v1/articles/",
        "api bravo": f"/api/v1/articles/{pub.bravo.pk}/",
        "404": "/no-such-page/",
    }
