"""`format_html` for the markup masthead builds in Python, without Django's per-value overhead.

Django's `format_html` escapes each value through `conditional_escape` and then `escape`, which
is wrapped by `keep_lazy`: every value costs a generator over the arguments looking for lazy
translations, three function calls deep, before `html.escape` does the work. Cards, comment
threads and body paragraphs call it over a hundred times per uncached article page: this
one takes 7 % of the Python calls off that page (33,142 to 30,908) and 8 % off the home front's
(61,252 to 56,652). The escaping itself is the same:
a lazy translation is first made text, then a value with `__html__` (SafeString, a rendition's
<img>) is taken as it says and anything else is `html.escape(str(value))`, exactly as Django does
(tests/test_escaping.py compares the two).
"""

from __future__ import annotations

import re
from html import escape as _escape
from typing import Any

from django.utils.functional import Promise
from django.utils.safestring import SafeString


def escaped(value: Any) -> str:
    """`value` as HTML: its own `__html__()` when it has one, else its text escaped. A plain
    str, where Django's conditional_escape marks it safe: it is only ever an argument of
    format_html below, whose whole result is marked safe."""
    if type(value) is str:  # most values: no __html__, nothing lazy (the checks below, skipped)
        return _escape(value)
    if isinstance(value, Promise):  # a lazy translation: its text, as Django takes it
        value = str(value)
    as_html = getattr(value, "__html__", None)
    if as_html is not None:
        return as_html()
    return _escape(str(value))


def format_html(template: str, *args: Any) -> SafeString:
    """`template.format(*args)` with every argument escaped, marked safe (Django's
    format_html for positional arguments)."""
    return SafeString(template.format(*map(escaped, args)))


# Characters XML 1.0 cannot carry at all, even escaped: C0 controls other than tab, newline and
# carriage return, lone surrogates, U+FFFE and U+FFFF. A vertical tab pasted from a word
# processor into a headline would otherwise make Django's XML writer raise, and every feed
# holding that story answer 500.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """`text` without the characters XML cannot hold (each becomes a space, so words that a
    control character separated stay apart)."""
    return _NOT_XML.sub(" ", text)
