"""Keyed hashes and signed links: how we recognise people without keeping more than we need.

IPs are stored only as HMACs keyed by the site's secret, so a leaked table does not give them
away, yet rate limits still work. Links in emails and on the "posted" page are signed, so they
need no account and cannot be forged.

Behind a proxy (Varnish, a TLS terminator) every request comes from the proxy's address, which
would put all readers under one rate limit. The reader's address is then the one the proxy
appended to X-Forwarded-For, but only a proxy we trust may be believed: anyone can send that
header. So `client_ip` reads it only when REMOTE_ADDR is in MASTHEAD_TRUSTED_PROXIES, and walks it
from the right (each proxy appends the address it saw), skipping our own proxies: the first
address that is not one of ours is the reader, whatever the reader put further left.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
from typing import Iterable

from django.conf import settings
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

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
    """The keyed hash of the reader's address as rate limits count it: an IPv4 address, or an
    IPv6 address's /64. One subscriber line or host gets a whole /64 and picks any address in it
    at will, so per address an IPv6 reader would have 2**64 rate limits."""
    return keyed_hash(rate_key(ip), "ip") if ip else ""


def rate_key(ip: str) -> str:
    """`ip` as one reader: IPv4 as written, IPv6 as its /64 network; anything else unchanged."""
    address = parse_ip(ip)
    if address is None:
        return ip
    if address.version == 6:
        return str(ipaddress.IPv6Network((int(address) >> 64 << 64, 64)))
    return str(address)


def email_hash(email: str) -> str:
    return keyed_hash(normalise_email(email), "email")


def client_ip(request: HttpRequest) -> str:
    """The reader's address: REMOTE_ADDR, or from X-Forwarded-For when REMOTE_ADDR is a trusted
    proxy (module docstring)."""
    remote = request.META.get("REMOTE_ADDR", "")
    networks = trusted_networks(tuple(getattr(settings, "MASTHEAD_TRUSTED_PROXIES", ()) or ()))
    if not networks:
        return remote
    nearest = parse_ip(remote)
    if nearest is None or not _trusted(nearest, networks):
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed(forwarded.split(",")):
        address = parse_ip(hop)
        if address is None:
            # Written by one of our proxies, yet not an address ("unknown"): the reader is not
            # known, and nothing further left can be believed. The proxy that wrote it stands in.
            break
        nearest = address
        if not _trusted(address, networks):
            break
    return str(nearest)


@functools.lru_cache(maxsize=8)
def trusted_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """MASTHEAD_TRUSTED_PROXIES as networks (a bare address is a network of one)."""
    networks = []
    for entry in _split(entries):
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as error:
            raise ImproperlyConfigured(f"MASTHEAD_TRUSTED_PROXIES: {entry!r} is not an IP address or network") from error
    return tuple(networks)


def _split(entries: Iterable[str]) -> list[str]:
    return [part for entry in entries for part in entry.replace(",", " ").split()]


def _trusted(address: IPAddress, networks: tuple[Network, ...]) -> bool:
    return any(address.version == network.version and address in network for network in networks)


def parse_ip(value: str) -> IPAddress | None:
    """An address from REMOTE_ADDR or one X-Forwarded-For hop ("[2001:db8::1]:443" and
    "192.0.2.1:80" too), IPv4-mapped IPv6 as IPv4; None for anything else."""
    value = value.strip()
    if value.startswith("[") and "]" in value:
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def sign(value: str, salt: str) -> str:
    return signing.Signer(salt=salt).sign(value)


def unsign(token: str, salt: str) -> str | None:
    try:
        return signing.Signer(salt=salt).unsign(token)
    except signing.BadSignature:
        return None
