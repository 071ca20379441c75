"""The reader's address behind trusted proxies (X-Forwarded-For), and never from anyone else."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from masthead.comments.identity import client_ip, ip_hash
from masthead.comments.models import Comment
from tests.comments.conftest import aged_ticket

VARNISH = "127.0.0.1"
READER = "203.0.113.7"


def ip(remote: str, forwarded: str | None = None) -> str:
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(RequestFactory().get("/", **extra))


def test_by_default_no_proxy_is_trusted_and_the_header_is_ignored(settings):
    settings.MASTHEAD_TRUSTED_PROXIES = []
    assert ip(VARNISH, READER) == VARNISH
    assert ip(READER, "198.51.100.1") == READER


def test_behind_a_trusted_proxy_the_reader_is_the_address_it_appended(settings):
    settings.MASTHEAD_TRUSTED_PROXIES = ["127.0.0.1", "::1"]
    assert ip(VARNISH, READER) == READER
    assert ip("::1", READER) == READER
    assert ip(VARNISH, "2001:db8::5") == "2001:db8::5"
    assert ip("::ffff:127.0.0.1", READER) == READER  # IPv4-mapped: the same loopback


def test_a_reader_cannot_choose_their_address_by_sending_the_header(settings):
    settings.MASTHEAD_TRUSTED_PROXIES = ["127.0.0.1"]
    # Straight to masthead, not through the proxy: the header is the reader's own, ignored.
    assert ip(READER, "198.51.100.99") == READER
    assert ip(READER, "127.0.0.1") == READER
    # Through the proxy with a forged header: the proxy appends the real address; what the
    # reader wrote before it, even one of our proxies' addresses, is never read.
    assert ip(VARNISH, f"198.51.100.99, {READER}") == READER
    assert ip(VARNISH, f"127.0.0.1, {READER}") == READER
    assert ip(VARNISH, f"not-an-ip, 10.0.0.1, {READER}") == READER


def test_several_trusted_hops_are_skipped_from_the_right(settings):
    # TLS terminator on 10.0.0.0/8 in front of Varnish on loopback.
    settings.MASTHEAD_TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.0/8"]
    assert ip(VARNISH, f"{READER}, 10.1.2.3") == READER
    assert ip(VARNISH, f"198.51.100.99, {READER}, 10.1.2.3") == READER
    # Only our own hops: the leftmost one is as far as the chain is known.
    assert ip(VARNISH, "10.9.9.9, 10.1.2.3") == "10.9.9.9"


def test_a_hop_that_is_not_an_address_stops_the_walk_at_our_proxy(settings):
    settings.MASTHEAD_TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.0/8"]
    assert ip(VARNISH, "unknown") == VARNISH
    assert ip(VARNISH, f"{READER}, unknown, 10.1.2.3") == "10.1.2.3"
    assert ip(VARNISH, "") == VARNISH
    assert ip(VARNISH) == VARNISH


def test_addresses_with_ports_and_brackets(settings):
    settings.MASTHEAD_TRUSTED_PROXIES = ["127.0.0.1"]
    assert ip(VARNISH, "203.0.113.7:51234") == READER
    assert ip(VARNISH, "[2001:db8::5]:443") == "2001:db8::5"


def test_the_setting_takes_a_comma_or_space_separated_string_too(settings):
    settings.MASTHEAD_TRUSTED_PROXIES = ["127.0.0.1, 10.0.0.0/8 ::1"]
    assert ip("10.2.3.4", READER) == READER and ip("::1", READER) == READER


def test_a_mistyped_proxy_is_an_error_not_a_silent_trust_nobody(settings):
    settings.MASTHEAD_TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.0/33"]
    with pytest.raises(ImproperlyConfigured, match="10.0.0.0/33"):
        ip(VARNISH, READER)


def post(client, article, email: str, remote: str, forwarded: str):
    """A comment POST as it reaches masthead from `remote` with that X-Forwarded-For."""
    data = {"name": "Ada", "email": email, "body": "A thoughtful comment.", "ticket": aged_ticket(article)}
    return client.post(
        f"/comments/post/{article.pk}/",
        data,
        HTTP_ACCEPT="application/json",
        REMOTE_ADDR=remote,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


def test_readers_behind_varnish_have_their_own_rate_limits(article, client, policy, settings):
    """The point of it all: without trust every comment counts against 127.0.0.1."""
    settings.MASTHEAD_TRUSTED_PROXIES = ["127.0.0.1"]
    policy.rate_limit_count = 1
    policy.save()
    assert post(client, article, "a@example.org", VARNISH, "203.0.113.1").status_code == 201
    assert post(client, article, "b@example.org", VARNISH, "203.0.113.2").status_code == 201
    # The same reader again (a new email does not help), forging a header in front of the proxy's.
    again = post(client, article, "c@example.org", VARNISH, "198.51.100.9, 203.0.113.1")
    assert again.status_code == 429
    stored = set(Comment.objects.values_list("ip_hash", flat=True))
    assert stored == {ip_hash("203.0.113.1"), ip_hash("203.0.113.2")}


def test_without_trust_readers_behind_varnish_share_one_limit(article, client, policy, settings):
    settings.MASTHEAD_TRUSTED_PROXIES = []
    policy.rate_limit_count = 1
    policy.save()
    assert post(client, article, "a@example.org", VARNISH, "203.0.113.1").status_code == 201
    assert post(client, article, "b@example.org", VARNISH, "203.0.113.2").status_code == 429
