"""Responsive images: `srcset_image()` names each width once and keeps width and height."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.template import engines
from django.utils.safestring import mark_safe

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]

TAG = (
    '{{ srcset_image(picture, "width-{480,800,1200}", sizes="(min-width: 52rem) 48rem, 100vw", '
    'alt="A picture") }}'
)


def render(source: str, **context) -> BeautifulSoup:
    return BeautifulSoup(engines["jinja2"].from_string(source).render(context), "html.parser")


def widths(img) -> list[str]:
    return [candidate.split()[1] for candidate in img["srcset"].split(", ")]


def test_large_upload_gets_every_width(make_image):
    img = render(TAG, picture=make_image("Large", 1600, 900)).img
    assert widths(img) == ["480w", "800w", "1200w"]
    assert (img["width"], img["height"], img["alt"]) == ("480", "270", "A picture")
    assert img["sizes"] == "(min-width: 52rem) 48rem, 100vw"


def test_narrower_upload_names_its_own_width_once(make_image):
    img = render(TAG, picture=make_image("Medium", 1000, 500)).img
    assert widths(img) == ["480w", "800w", "1000w"]
    img = render(TAG, picture=make_image("Small", 640, 360)).img
    assert widths(img) == ["480w", "640w"]
    assert (img["width"], img["height"]) == ("480", "270")


def test_upload_narrower_than_every_width_has_no_srcset_and_no_sizes(make_image):
    img = render(TAG, picture=make_image("Tiny", 300, 200)).img
    assert not img.has_attr("srcset") and not img.has_attr("sizes")
    assert (img["width"], img["height"]) == ("300", "200")
    assert img["src"].endswith(".width-480.jpg")


def test_fill_crops_of_a_small_upload_collapse_to_one(make_image):
    source = '{{ srcset_image(picture, "fill-{320x180,640x360}", sizes="100vw", alt="") }}'
    img = render(source, picture=make_image("Card", 320, 180)).img
    assert not img.has_attr("srcset") and (img["width"], img["height"]) == ("320", "180")
    img = render(source, picture=make_image("Card large", 1280, 720)).img
    assert widths(img) == ["320w", "640w"]


def test_no_picture_renders_nothing():
    assert str(render(TAG, picture=None)) == ""


def test_the_templates_get_our_srcset_image_not_wagtails():
    """Wagtail's images extension defines a srcset_image of its own, with repeated widths; the
    environment must name ours after the extensions have named theirs."""
    from masthead.news import template_functions

    assert engines["jinja2"].env.globals["srcset_image"] is template_functions.srcset_image


def test_a_bad_filter_spec_is_a_clear_error(make_image):
    with pytest.raises(ValueError, match="not an image filter spec"):
        render('{{ srcset_image(picture, "width-480; drop") }}', picture=make_image("Bad", 600, 400))


def test_prefetched_renditions_give_the_same_markup_without_a_query_or_a_cache_write(make_image, monkeypatch):
    """Cards prefetch their renditions and srcset_image reads them as they are: the markup is
    the one Wagtail's own lookup gives, and nothing is queried or written to the cache."""
    from django.db import connection
    from django.db.models import prefetch_related_objects
    from django.test.utils import CaptureQueriesContext
    from wagtail.images import get_image_model

    from masthead.news import renditions

    fresh = render(TAG, picture=make_image("Prefetched", 1600, 900)).img  # makes the renditions
    picture = get_image_model().objects.get(title="Prefetched")
    prefetch_related_objects([picture], "renditions")
    cache = picture.get_rendition_model().cache_backend
    writes: list = []
    monkeypatch.setattr(cache, "set_many", lambda *args, **kwargs: writes.append(args))
    with CaptureQueriesContext(connection) as queries:
        again = render(TAG, picture=picture).img
    assert again["srcset"] == fresh["srcset"] and again["src"] == fresh["src"]
    assert (again["width"], again["height"]) == (fresh["width"], fresh["height"])
    assert len(queries) == 0 and writes == []

    # A spec that was never made is not there: the caller goes through Wagtail.
    from wagtail.images.models import Filter

    assert renditions.prefetched(picture, [Filter(spec="width-333")]) is None
    unprefetched = get_image_model().objects.get(pk=picture.pk)
    assert renditions.prefetched(unprefetched, [Filter(spec="width-480")]) is None


def test_loaded_renditions_serve_srcset_and_wagtail_without_a_query_or_a_cache_write(make_image, monkeypatch):
    """renditions.load() fetches the renditions of several pictures in one query, where both
    srcset_image and Wagtail's own get_renditions (the structured data) find them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from wagtail.images import get_image_model

    from masthead.news import renditions

    fresh = render(TAG, picture=make_image("Loaded", 1600, 900)).img
    render(TAG, picture=make_image("Other", 1200, 800))
    Image = get_image_model()
    pictures = [Image.objects.get(title="Loaded"), Image.objects.get(title="Other"), Image.objects.get(title="Loaded")]
    cache = Image.get_rendition_model().cache_backend
    writes: list = []
    monkeypatch.setattr(cache, "set_many", lambda *args, **kwargs: writes.append(args))
    with CaptureQueriesContext(connection) as queries:
        renditions.load(pictures)
    assert len(queries) == 1
    assert [len(p.prefetched_renditions) for p in pictures] == [3, 3, 3]
    with CaptureQueriesContext(connection) as queries:
        again = render(TAG, picture=pictures[2]).img
        by_wagtail = pictures[0].get_renditions("width-800", "width-1200")
        alt = by_wagtail["width-800"].alt  # the rendition knows its picture
    assert again["srcset"] == fresh["srcset"] and again["src"] == fresh["src"]
    assert by_wagtail["width-1200"].width == 1200 and alt == pictures[0].default_alt_text
    assert len(queries) == 0 and writes == []
    with CaptureQueriesContext(connection) as queries:
        renditions.load([])
    assert len(queries) == 0


def test_an_article_reads_its_pictures_from_one_fetch_without_cache_writes(client, desk, make_article, make_image, monkeypatch):
    """The lead picture (srcset and structured data) and the bylines' portraits come from one
    fetch of renditions (queries.article_context): Wagtail's own {% image %} and get_renditions
    would write each rendition to its cache again on every view."""
    from wagtail.images import get_image_model

    desk.ada.photo = make_image("Portrait of Ada", 200, 200)
    desk.ada.save()
    article = make_article(desk.world, "Pictures", authors=[desk.ada], lead_image=make_image("Lead", 1600, 900))
    first = BeautifulSoup(client.get(article.url).content, "html.parser")  # makes the renditions
    cache = get_image_model().get_rendition_model().cache_backend
    writes: list = []
    monkeypatch.setattr(cache, "set", lambda *args, **kwargs: writes.append(args))
    monkeypatch.setattr(cache, "set_many", lambda *args, **kwargs: writes.append(args))
    again = BeautifulSoup(client.get(article.url).content, "html.parser")
    assert writes == []
    portrait = again.select_one("img.bylines__photo")
    assert (portrait["width"], portrait["height"], portrait["alt"]) == ("48", "48", "")
    assert "fill-48x48" in portrait["src"] and not portrait.has_attr("srcset")
    assert str(portrait) == str(first.select_one("img.bylines__photo"))
    data = again.find("script", type="application/ld+json").string
    assert "fill-1200x675" in data and "width-1200" in data


@pytest.mark.parametrize(
    "attrs",
    [
        {"sizes": "100vw", "alt": "", "loading": "lazy"},
        {"class": "bylines__photo", "alt": ""},
        {"alt": 'Smoke over "Gaza" <b>& more</b>', "fetchpriority": "high", "hidden": True, "draggable": False},
        {"alt": mark_safe("<already> safe"), "data-none": None, "srcset": "overridden"},
        {"class": "unhashable", "data-list": ["a", "<b>"]},  # laid out without the kept layouts
        {},
    ],
)
@pytest.mark.parametrize("count", [1, 3])
def test_img_markup_is_wagtails_byte_for_byte(make_image, attrs, count):
    """masthead writes the <img> itself (news/renditions.py: img_html); it must be exactly
    what Wagtail's ResponsiveImage writes, for any mix of valued, boolean, None, safe and
    hostile attributes, with one rendition or several."""
    from wagtail.images.models import ResponsiveImage

    from masthead.news.renditions import img_html

    image = make_image('Dawn & "dusk"', 1600, 900)
    renditions = list(image.get_renditions(*["width-480", "width-800", "width-1200"][:count]).values())
    assert img_html(renditions, dict(attrs)) == ResponsiveImage(dict(enumerate(renditions)), dict(attrs)).__html__()


def test_file_urls_follow_the_media_url(make_image, settings):
    """A file system storage's URLs are worked out once per name, but never outlive a change of
    the storage's base URL."""
    from masthead.news.renditions import file_url

    rendition = make_image("Moved", 320, 180).get_rendition("width-320")
    before = file_url(rendition.file)
    assert before == rendition.file.url
    settings.MEDIA_URL = "/elsewhere/"
    assert file_url(rendition.file) == rendition.file.url == "/elsewhere/" + before.split("/", 2)[2]


def test_img_layouts_are_kept_apart_by_their_attributes_and_filled_per_picture(make_image):
    """The <img>'s layout is worked out once per set of attributes (news/renditions.py:
    _img_layout): the same text as a str and as a SafeString must not share one, and each
    picture laid out alike still gets its own src, sizes and alt."""
    from wagtail.images.models import ResponsiveImage

    from masthead.news.renditions import img_html

    pictures = [make_image(title, 1600, 900) for title in ("First & <one>", 'Second "two"')]
    for alt in ("<b>bold</b>", mark_safe("<b>bold</b>")):
        attrs = {"alt": alt, "loading": "lazy"}
        for image in pictures:
            for specs in (["width-480", "width-800"], ["width-320"]):
                renditions = list(image.get_renditions(*specs).values())
                expected = ResponsiveImage(dict(enumerate(renditions)), dict(attrs)).__html__()
                assert img_html(renditions, dict(attrs)) == expected
    plain = img_html(list(pictures[0].get_renditions("width-320").values()), {"alt": "<b>"})
    safe = img_html(list(pictures[0].get_renditions("width-320").values()), {"alt": mark_safe("<b>")})
    assert 'alt="&lt;b&gt;"' in plain and 'alt="<b>"' in safe
