"""masthead.escaping.format_html escapes exactly as Django's format_html does."""

from __future__ import annotations

import pytest
from django.utils import html as django_html
from django.utils.functional import lazy
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy

from masthead.escaping import escaped, format_html


class Picture:
    def __html__(self) -> str:
        return '<img src="a.jpg" alt="">'


VALUES = [
    "plain",
    "<script>alert('x')</script> & \"quotes\"",
    "café — «quoted» \u202e",
    mark_safe("<em>already safe</em>"),
    SafeString("<b>safe</b>"),
    42,
    3.5,
    None,
    "",
    gettext_lazy("Comments <are> moderated & kept"),
    lazy(lambda: "<lazy & safe>", SafeString)(),
    Picture(),
]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_each_value_is_escaped_as_django_escapes_it(value):
    template = '<a href="{}" title="{}">{}</a>'
    ours = format_html(template, value, value, value)
    assert ours == django_html.format_html(template, value, value, value)
    assert isinstance(ours, SafeString)
    assert escaped(value) == django_html.conditional_escape(value)


def test_a_hostile_value_cannot_break_out_of_an_attribute():
    assert format_html('<a title="{}">x</a>', '"><script>') == '<a title="&quot;&gt;&lt;script&gt;">x</a>'
