"""The stores (in-process LRU, Redis) and the purge log that carries purges between processes."""

from __future__ import annotations

from datetime import datetime
from datetime import timezone as dt_timezone

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from masthead.caching.models import PurgeEvent
from masthead.caching.propagation import Poller
from masthead.caching.purge import purge
from masthead.caching.store import Entry, LocalStore, RedisStore

pytestmark = pytest.mark.django_db


def entry(body: bytes = b"<p>page</p>") -> Entry:
    return Entry(200, [("Content-Type", "text/html; charset=utf-8"), ("ETag", '"x"')], body)


@pytest.fixture(params=["local", "redis"])
def store(request, settings):
    if request.param == "local":
        yield LocalStore(10 * 1024 * 1024)
        return
    from tests.caching.conftest import need_redis

    made = RedisStore(need_redis(), f"{settings.MASTHEAD_CACHE_PREFIX}-store-test")
    made.clear()
    yield made
    made.clear()


def test_entries_round_trip(store):
    _, clock = store.lookup("k")
    assert store.save("k", entry(b"\x00\xffbody"), ["a1", "home"], 60, since=clock)
    found, _ = store.lookup("k")
    assert found == entry(b"\x00\xffbody")


def test_a_purge_deletes_exactly_the_entries_carrying_a_key(store):
    _, clock = store.lookup("x")
    store.save("one", entry(), ["a1", "home"], 60, since=clock)
    store.save("two", entry(), ["a2", "home"], 60, since=clock)
    store.save("three", entry(), ["a3"], 60, since=clock)
    store.purge(["a1", "a9"])
    assert store.lookup("one")[0] is None
    assert store.lookup("two")[0] is not None and store.lookup("three")[0] is not None
    store.purge(["home"])
    assert store.lookup("two")[0] is None and store.lookup("three")[0] is not None


def test_redis_key_index_holds_only_live_entries(settings):
    """A key every page carries ("site", "nav") must not collect every URL stored since it was
    last purged: expired entries leave the index at the next save."""
    import time

    from tests.caching.conftest import need_redis

    store = RedisStore(need_redis(), f"{settings.MASTHEAD_CACHE_PREFIX}-index-test")
    store.clear()
    try:
        _, clock = store.lookup("x")
        for n in range(5):
            assert store.save(f"old{n}", entry(), ["site"], 1, since=clock)
        time.sleep(2.1)  # Redis TIME has one-second resolution: past every old entry's expiry
        assert store.save("new", entry(), ["site"], 60, since=clock)
        index = store._k("x", "site")
        assert store.client.zrange(index, 0, -1) == [store._k("e", "new").encode()]
        assert store.client.ttl(index) > 30  # lives as long as its longest-lived entry
        assert store.purge(["site"]) == 1 and store.lookup("new")[0] is None
        # A page stored by the previous release, listed in a plain set, is purged as well.
        store.client.set(store._k("e", "before-upgrade"), entry().encode(), ex=60)
        store.client.sadd(store._k("t", "a7"), store._k("e", "before-upgrade"))
        assert store.purge(["a7"]) == 1
        assert store.lookup("before-upgrade")[0] is None and not store.client.exists(store._k("t", "a7"))
    finally:
        store.clear()


def test_a_page_rendered_before_a_purge_of_its_keys_is_not_stored(store):
    """A request that read the database before an editor's change committed must not store its
    (old) page after the change's purge ran."""
    _, clock = store.lookup("page")  # the request starts
    store.purge(["a1"])  # the editor's change commits and purges
    assert not store.save("page", entry(), ["a1", "home"], 60, since=clock)
    assert store.lookup("page")[0] is None
    assert store.save("other", entry(), ["a2", "home"], 60, since=clock)  # unrelated keys: fine
    _, later = store.lookup("page")
    assert store.save("page", entry(), ["a1", "home"], 60, since=later)  # rendered after: fine


def test_purge_times_only_move_forward(store):
    before = store.changed_at(["a1", "home"])
    store.purge(["a1"])
    after = store.changed_at(["a1", "home"])
    assert after >= before and store.changed_at(["a1"]) == after


def test_the_local_store_is_bounded_in_bytes_least_recently_used_first():
    store = LocalStore(max_bytes=3 * (1000 + 400))
    for name in ("a", "b", "c"):
        store.save(name, entry(b"x" * 1000), [name], 60, since=0)
    store.lookup("a")  # used: "b" is now the oldest
    store.save("d", entry(b"x" * 1000), ["d"], 60, since=0)
    assert store.lookup("b")[0] is None and store.lookup("a")[0] is not None
    assert store.bytes_used <= store.max_bytes and len(store) == 3
    store.purge(["a", "c", "d"])
    assert len(store) == 0 and store.bytes_used == 0


def test_entries_expire(monkeypatch):
    import time

    store = LocalStore(1024 * 1024)
    store.save("k", entry(), ["a1"], 60, since=0)
    now = time.monotonic()
    monkeypatch.setattr("masthead.caching.store.time.monotonic", lambda: now + 61)
    assert store.lookup("k")[0] is None and len(store) == 0


# --- between processes (in-process mode) -------------------------------------------------------


def test_another_process_applies_a_purge_at_its_next_poll(settings):
    settings.MASTHEAD_CACHE_POLL_SECONDS = 0.5
    ours, theirs = LocalStore(1 << 20), LocalStore(1 << 20)
    our_log, their_log = Poller(ours), Poller(theirs)
    their_log.poll()  # a running process has read where the log stands
    theirs.save("page", entry(), ["a1"], 60, since=0)
    theirs.save("other", entry(), ["a2"], 60, since=0)

    ours.purge(["a1"])
    our_log.record(["a1"], "published")
    assert not their_log.due()  # within half a second: no query, the old page may still be served
    their_log.last_poll -= 0.5
    assert their_log.due()
    with CaptureQueriesContext(connection) as queries:
        assert their_log.poll() == 1
    assert len(queries) == 1
    assert theirs.lookup("page")[0] is None and theirs.lookup("other")[0] is not None
    # Applied once only, and never to the process that logged it.
    their_log.last_poll -= 1
    assert their_log.poll() == 0
    ours.save("again", entry(), ["a1"], 60, since=ours.lookup("x")[1])
    our_log.last_poll = float("-inf")
    our_log.poll()
    our_log.last_poll -= 1
    assert our_log.poll() == 0 and ours.lookup("again")[0] is not None


def test_every_process_dates_a_purge_from_when_it_happened(settings):
    """Last-Modified comes from purge times: a process applying another's purge half a second
    later must not date it later, or the same page would carry two Last-Modified values."""
    import time

    settings.MASTHEAD_CACHE_POLL_SECONDS = 0.5
    ours, theirs = LocalStore(1 << 20), LocalStore(1 << 20)
    our_log, their_log = Poller(ours), Poller(theirs)
    their_log.poll()
    ours.purge(["a1"])
    our_log.record(["a1"], "published")
    time.sleep(1.1)  # a poll that comes late, across a second boundary of HTTP dates
    their_log.last_poll -= 1
    assert their_log.poll() == 1
    assert abs(theirs.changed_at(["a1"]) - ours.changed_at(["a1"])) < 0.5
    assert theirs.changed_at(["a1"]) < time.time() - 1


def test_a_purge_from_a_clock_ahead_keeps_its_time_is_logged_and_a_clear_forgets_it(settings, caplog):
    """Another machine's purge keeps that machine's time even when it is ahead of ours
    (masthead.caching.headers then sends no Last-Modified for it), the purge log says the clocks
    differ, once, and clear() starts the purge times again from now."""
    import time

    settings.MASTHEAD_CACHE_POLL_SECONDS = 0.5
    ours = LocalStore(1 << 20)
    our_log = Poller(ours)
    our_log.poll()
    ahead = time.time() + 30
    for _ in range(2):
        PurgeEvent.objects.create(keys="a1", reason="published", origin="fast-machine:1:ab")
    PurgeEvent.objects.filter(origin="fast-machine:1:ab").update(
        created_at=datetime.fromtimestamp(ahead, tz=dt_timezone.utc)
    )
    our_log.last_poll -= 1
    with caplog.at_level("WARNING", logger="masthead.caching.propagation"):
        assert our_log.poll() == 2
    assert abs(ours.changed_at(["a1"]) - ahead) < 0.01  # not capped at our now
    warned = [r.getMessage()[:40] for r in caplog.records if r.name == "masthead.caching.propagation"]
    assert warned == ["page cache: a purge by fast-machine:1:ab"]  # once for both purges
    ours.clear()
    assert ours.changed_at(["a1"]) <= time.time()


def test_purges_committed_out_of_id_order_are_not_missed(settings):
    theirs = LocalStore(1 << 20)
    log = Poller(theirs)
    log.poll()
    early = PurgeEvent.objects.create(keys="a1", origin="elsewhere")
    late = PurgeEvent.objects.create(keys="a2", origin="elsewhere")
    # The later id became visible first (PostgreSQL gives ids out before commit).
    early_keys = early.keys
    early.delete()
    log.last_poll -= 1
    assert log.poll() == 1 and log.last_id == late.pk
    PurgeEvent.objects.create(id=early.pk, keys=early_keys, origin="elsewhere")
    theirs.save("page", entry(), ["a1"], 60, since=theirs.lookup("x")[1])
    log.last_poll -= 1
    assert log.poll() == 1 and theirs.lookup("page")[0] is None


def test_purge_logs_for_other_processes_only_in_process_mode(page_cache, settings):
    settings.MASTHEAD_CACHE_REDIS_URL = ""
    purge(["a1", "home"], "a test")
    event = PurgeEvent.objects.get()
    assert event.keys == "a1 home" and event.reason == "a test"


def test_a_touched_signal_file_makes_the_other_processes_read_the_log_at_once(settings, tmp_path):
    settings.MASTHEAD_CACHE_SIGNAL_FILE = str(tmp_path / "page-cache-purged")
    settings.MASTHEAD_CACHE_POLL_SECONDS = 3600
    ours, theirs = LocalStore(1 << 20), LocalStore(1 << 20)
    our_log, their_log = Poller(ours), Poller(theirs)
    their_log.poll()
    theirs.save("page", entry(), ["a1"], 60, since=0)
    assert not their_log.due()
    ours.purge(["a1"])
    our_log.record(["a1"], "published")
    assert their_log.due()  # long before the poll interval
    assert their_log.poll() == 1 and theirs.lookup("page")[0] is None
    assert not their_log.due()


def test_a_new_process_does_not_replay_purges_older_than_itself(settings):
    """Events logged before a process started were applied by the processes alive then; a new
    process's first pages must not be purged for them."""
    for n in range(3):
        PurgeEvent.objects.create(keys="home", origin=f"earlier-{n}")
    fresh = LocalStore(1 << 20)
    log = Poller(fresh)
    log.poll()  # the first poll: where the log stands
    fresh.save("home page", entry(), ["home"], 60, since=fresh.lookup("x")[1])
    log.last_poll -= 1
    assert log.poll() == 0 and fresh.lookup("home page")[0] is not None
    PurgeEvent.objects.create(keys="home", origin="elsewhere")  # a new event still applies
    log.last_poll -= 1
    assert log.poll() == 1 and fresh.lookup("home page")[0] is None


def test_a_new_process_dates_its_pages_by_purges_made_since_it_began(settings):
    """A purge committed after a process's store began but before its first poll, or one dated
    by a clock ahead of ours, must still date that process's pages: dated from the store's start
    instead, a page changed since would answer 304 to a copy served elsewhere before the change."""
    import time

    fresh = LocalStore(1 << 20)
    began = fresh.changed_at(())
    PurgeEvent.objects.create(keys="old", origin="elsewhere")
    PurgeEvent.objects.filter(keys="old").update(created_at=datetime.fromtimestamp(began - 5, tz=dt_timezone.utc))
    time.sleep(0.01)
    PurgeEvent.objects.create(keys="a1", origin="elsewhere")
    ahead = time.time() + 30
    PurgeEvent.objects.create(keys="a2", origin="fast-machine:1:ab")
    PurgeEvent.objects.filter(keys="a2").update(created_at=datetime.fromtimestamp(ahead, tz=dt_timezone.utc))
    log = Poller(fresh)
    assert log.poll() == 2
    assert began < fresh.changed_at(["a1"]) <= time.time()
    assert abs(fresh.changed_at(["a2"]) - ahead) < 0.01
    assert fresh.changed_at(["old"]) == began  # older than the store: its start covers it
    # Applied once: the next poll does not read them again.
    fresh.save("page", entry(), ["a1", "a2"], 60, since=fresh.lookup("x")[1])
    log.last_poll -= 1
    assert log.poll() == 0 and fresh.lookup("page")[0] is not None


def test_a_purge_since_the_lookup_is_told_and_redis_down_keeps_pages_public(store):
    """freshness tells the middleware, in one read, whether a page was rendered across a purge
    of its keys and when they last changed. With Redis unreachable nothing is stored anyway, and
    the answer is "not purged, change unknown": pages stay public, so a CDN or Varnish keeps
    carrying the load, and undated."""
    clock = store.lookup("page")[1]
    purged, changed = store.freshness(clock, ["a1", "home"])
    assert not purged and changed == store.changed_at(["a1", "home"])
    store.purge(["a2"])
    assert not store.freshness(clock, ["a1", "home"])[0]
    store.purge(["a1"])
    purged, changed = store.freshness(clock, ["a1", "home"])
    assert purged and changed == store.changed_at(["a1"]) > store.changed_at(["home"])
    assert store.freshness(store.lookup("page")[1], ["a1"]) == (False, changed)
    assert store.freshness(clock, []) == (False, store.changed_at([]))
    down = RedisStore("redis://127.0.0.1:1/0", "masthead-test-down")  # nothing listens on port 1
    assert down.freshness(3, ["a1"]) == (False, float("inf"))
    entry_found, down_clock = down.lookup("page")

    def asked(*args, **kwargs):
        raise AssertionError("Redis asked again after a failed lookup")

    down._freshness = asked
    assert entry_found is None and down.freshness(down_clock, ["a1"]) == (False, float("inf"))