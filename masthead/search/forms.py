"""The search form: words, and filters by section, author and publication date (all GET)."""

from __future__ import annotations

import datetime

from django import forms
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from masthead.news.models import Author, SectionPage

MAX_QUERY_LENGTH = 200
EARLIEST = datetime.date(1900, 1, 1)
LATEST = datetime.date(2999, 12, 31)
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y"]


class SearchInput(forms.TextInput):
    input_type = "search"


class DatePicker(forms.DateInput):
    input_type = "date"  # browsers send ISO dates (YYYY-MM-DD); typed dates are accepted too

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")

    def format_value(self, value):
        # A date input may only hold an ISO date: show what was typed in that form, or nothing
        # if it was no date at all (the field's error message says so).
        if isinstance(value, str):
            for date_format in DATE_FORMATS:
                try:
                    return datetime.datetime.strptime(value.strip(), date_format).date().isoformat()
                except ValueError:
                    continue
            return None
        return super().format_value(value)


class PlainSelect(forms.Select):
    """A <select> rendered in Python: Django renders each option through a template, which
    costs ~0.2 ms an option, and a newsroom has hundreds of authors."""

    def render(self, name, value, attrs=None, renderer=None) -> str:
        attrs = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        selected = "" if value is None else str(value)
        options = format_html_join(
            "",
            "<option value=\"{}\"{}>{}</option>",
            (
                (str(option_value), mark_safe(" selected") if str(option_value) == selected else "", label)
                for option_value, label in self.choices
            ),
        )
        return format_html("<select{}>{}</select>", flatatt(attrs), options)


class SectionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, section) -> str:
        # Sections are listed in tree order; nested ones are indented ("World › Middle East").
        return "\u2003" * max(0, section.depth - 3) + section.title


class SearchForm(forms.Form):
    q = forms.CharField(label="Search for", required=False, max_length=MAX_QUERY_LENGTH, strip=True)
    section = SectionChoiceField(
        label="Section",
        queryset=SectionPage.objects.none(),
        required=False,
        empty_label="All sections",
        help_text="Includes the sections within it.",
        widget=PlainSelect,
    )
    author = forms.ModelChoiceField(
        label="Author",
        queryset=Author.objects.only("name", "slug"),
        to_field_name="slug",
        required=False,
        empty_label="All authors",
        widget=PlainSelect,
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "search-%s")
        super().__init__(*args, **kwargs)
        # Reached through the (small) section table: joined from the page side, SQLite without
        # statistics walks every page's path to avoid a sort (~0.1 s at 100,000 articles).
        sections = SectionPage.objects.filter(pk__in=SectionPage.objects.values("pk"))
        self.fields["section"].queryset = sections.live().public().order_by("path")
        # "from" and "to" are the GET parameters; they are not valid Python names for a class body.
        date_widget = DatePicker()
        self.fields["from"] = forms.DateField(
            label="Published from", required=False, input_formats=DATE_FORMATS, widget=date_widget
        )
        self.fields["to"] = forms.DateField(
            label="Published until", required=False, input_formats=DATE_FORMATS, widget=date_widget
        )
        self.fields["q"].widget = SearchInput(attrs={"maxlength": MAX_QUERY_LENGTH})

    def clean(self) -> dict:
        data = super().clean()
        for name in ("from", "to"):
            value = data.get(name)
            if value and not EARLIEST <= value <= LATEST:
                self.add_error(name, f"Enter a date between {EARLIEST.year} and {LATEST.year}.")
                data[name] = None
        start, end = data.get("from"), data.get("to")
        if start and end and start > end:
            self.add_error("to", "The end date is before the start date.")
        return data

    def published_range(self) -> tuple[datetime.datetime | None, datetime.datetime | None]:
        """[start, end) as aware datetimes in the site's time zone; `to` includes that whole day."""
        start, end = self.cleaned_data.get("from"), self.cleaned_data.get("to")
        zone = timezone.get_current_timezone()
        as_datetime = lambda day: datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)  # noqa: E731
        return (
            as_datetime(start) if start else None,
            as_datetime(end + datetime.timedelta(days=1)) if end else None,
        )

    @property
    def has_filters(self) -> bool:
        return self.is_valid() and any(self.cleaned_data.get(n) for n in ("section", "author", "from", "to"))
