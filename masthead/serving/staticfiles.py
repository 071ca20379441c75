"""Static files as readers receive them: minified, hashed, and pre-compressed.

Issue 6 budgets the article page at 5 KB of JavaScript and 15 KB of CSS before compression. Our
sources keep their comments and layout for the people who maintain them; collectstatic strips
them (rjsmin and rcssmin, small and long-maintained) before WhiteNoise hashes and compresses the
result. Third-party files (Wagtail's admin, Django's) are copied as they are.
"""

from __future__ import annotations

from django.core.files.base import ContentFile
from whitenoise.storage import CompressedManifestStaticFilesStorage

OUR_PREFIXES = ("masthead/", "comments/", "sourcing/")


def minify(name: str, content: bytes) -> bytes:
    """The minified bytes of one of our .js or .css files; anything else unchanged."""
    if not name.startswith(OUR_PREFIXES) or ".min." in name:
        return content
    if name.endswith(".js"):
        from rjsmin import jsmin

        return jsmin(content.decode("utf-8")).encode("utf-8")
    if name.endswith(".css"):
        from rcssmin import cssmin

        return cssmin(content.decode("utf-8")).encode("utf-8")
    return content


class MinifiedStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's hashed, compressed storage, with our own scripts and styles minified first."""

    def _save(self, name, content):
        if name.endswith((".js", ".css")) and name.startswith(OUR_PREFIXES):
            content.seek(0)
            content = ContentFile(minify(name, content.read()))
        return super()._save(name, content)
