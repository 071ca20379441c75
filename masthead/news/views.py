"""Public pages that are not Wagtail pages: author and tag fronts, and the Mastodon share step."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from taggit.models import Tag

from . import queries
from .models import ArticlePage, Author
from .share import share_text

# A DNS host name (optionally with a port): what a Mastodon instance address can be.
INSTANCE_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}(?::\d{1,5})?$", re.I
)


def author(request: HttpRequest, slug: str) -> HttpResponse:
    person = get_object_or_404(Author.objects.select_related("photo"), slug=slug)
    page_obj = queries.paginate(request, queries.author_articles(person))
    return render(request, "news/author_page.html", {"author": person, "page_obj": page_obj})


def tag(request: HttpRequest, slug: str) -> HttpResponse:
    label = get_object_or_404(Tag, slug=slug)
    page_obj = queries.paginate(request, queries.tag_articles(label))
    return render(request, "news/tag_page.html", {"tag": label, "page_obj": page_obj})


def share_mastodon(request: HttpRequest, page_id: int) -> HttpResponse:
    """Send the reader to the share form of their own Mastodon instance.

    Mastodon has no central share URL: each reader belongs to an instance, so the share bar asks
    for it in a plain form (works without JavaScript) and this view redirects. The text is built
    here from the article, so the form cannot be used to post arbitrary text through us.
    """
    article = ArticlePage.objects.live().public().filter(pk=page_id).first()
    if article is None:
        raise Http404("No such article")
    instance = request.GET.get("instance", "").strip().lower()
    instance = instance.removeprefix("https://").removeprefix("http://").split("/")[0].lstrip("@")
    if "@" in instance:  # a full handle such as @ada@example.social
        instance = instance.rsplit("@", 1)[1]
    if not INSTANCE_RE.match(instance):
        return render(
            request,
            "news/share_mastodon_error.html",
            {"article": article, "instance": request.GET.get("instance", "")},
            status=400,
        )
    text = share_text(article.title, article.get_full_url(request))
    return HttpResponseRedirect(f"https://{instance}/share?{urlencode({'text': text})}")
