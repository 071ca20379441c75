"""Keyed hashes and signed links: how we recognise people without keeping more than we need.

IPs are stored only as HMACs keyed by the site's secret, so a leaked table does not give them
away, yet rate limits still work. Links in emails and on the "posted" page are signed, so they
need no account and cannot be forged.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.core import signing

DELETE_SALT = "masthead.comments.delete"
UNSUBSCRIBE_SALT = "masthead.comments.unsubscribe"
TICKET_SALT = "masthead.comments.ticket"
POSTED_SALT = "masthead.comments.posted"


def keyed_hash(value: str, purpose: str) -> str:
    key = hashlib.sha256(f"{purpose}:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


def ip_hash(ip: str) -> str:
    return keyed_hash(ip, "ip") if ip else ""


def email_hash(email: str) -> str:
    return keyed_hash(normalise_email(email), "email")


def client_ip(request) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is trivially forged unless a trusted proxy rewrites it,
    # and our proxy configuration sets REMOTE_ADDR itself.
    return request.META.get("REMOTE_ADDR", "")


def sign(value: str, salt: str) -> str:
    return signing.Signer(salt=salt).sign(value)


def unsign(token: str, salt: str) -> str | None:
    try:
        return signing.Signer(salt=salt).unsign(token)
    except signing.BadSignature:
        return None
