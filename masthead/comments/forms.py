"""The comment form. Limits come from the site's comment policy."""

from __future__ import annotations

import unicodedata

from django import forms

from .models import CommentPolicy

HONEYPOT = "homepage"  # a field people never see; bots fill in anything that looks like a URL field


class CommentForm(forms.Form):
    name = forms.CharField(label="Name", max_length=80, help_text="Shown with your comment.")
    email = forms.EmailField(
        label="Email", max_length=254, help_text="Never shown. Used only for replies you ask for."
    )
    # strip=False: the text is stored exactly as the reader sent it, white space included.
    body = forms.CharField(label="Comment", strip=False, widget=forms.Textarea(attrs={"rows": 6}))
    notify = forms.BooleanField(label="Email me when someone replies", required=False)
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput)
    ticket = forms.CharField(required=False, widget=forms.HiddenInput)
    homepage = forms.CharField(required=False, label="Leave this field empty")

    def __init__(self, *args, policy: CommentPolicy, **kwargs):
        super().__init__(*args, **kwargs)
        self.policy = policy
        self.fields["body"].max_length = policy.max_length
        self.fields["body"].widget.attrs["maxlength"] = policy.max_length
        self.fields["body"].help_text = (
            f"Plain text, up to {policy.max_length:,} characters. Links are allowed; "
            f"{policy.link_hold_threshold} or more hold a comment for moderation."
        )
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields[HONEYPOT].widget.attrs.update({"autocomplete": "off", "tabindex": "-1"})

    def clean_body(self) -> str:
        body = self.cleaned_data["body"]
        # Zero-width, bidi and control characters show nothing (text.py drops the formatting ones),
        # so a comment made only of them and white space would be published as an empty box.
        if not any(not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf") for ch in body):
            raise forms.ValidationError("Please write something before posting.")
        # Counted as the browser's maxlength and the reader's counter count: a line break is one
        # character, though a form sends it as two (CR LF).
        length = len(body.replace("\r\n", "\n"))
        if length > self.policy.max_length:
            raise forms.ValidationError(
                f"Your comment is {length:,} characters long; the limit is {self.policy.max_length:,}. "
                "Please shorten it: your text is still here."
            )
        return body

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Please give a name to show with your comment.")
        return name
