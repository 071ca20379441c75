"""masthead.serving.memory: long-lived objects put out of the garbage collector's sight."""

from __future__ import annotations

import gc

from masthead.serving import memory


def test_freeze_moves_live_objects_out_of_the_collectors_sight():
    keep = [object() for _ in range(10)]
    try:
        memory.freeze()
        assert gc.get_freeze_count() >= len(keep)
        assert not any(item is keep for item in gc.get_objects())  # the list is frozen, not tracked
    finally:
        gc.unfreeze()


def test_a_process_freezes_once_when_warm(monkeypatch):
    events: list = []
    monkeypatch.setattr(memory, "freeze", lambda: events.append("freeze"))

    def app(environ, start_response):
        events.append(environ["n"])
        return [b""]

    wrapped = memory.FreezeWhenWarm(app, after=3)
    for n in range(1, 7):
        assert wrapped({"n": n}, None) == [b""]
    assert events == [1, 2, "freeze", 3, 4, 5, 6]
