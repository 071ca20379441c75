"""URL converters shared by the apps."""

from django.urls import register_converter
from django.urls.converters import IntConverter


class IdConverter(IntConverter):
    """A database id: at most 18 digits, so no URL can overflow a 64-bit integer column."""

    regex = "[0-9]{1,18}"


register_converter(IdConverter, "id")
