"""BufferedBody: request bodies read in the event loop before a thread is given the request,
within a per-process memory budget."""

from __future__ import annotations

import asyncio

from masthead.serving.bridge import BufferedBody

SCOPE = {"type": "http", "method": "POST", "headers": [(b"content-length", b"3000")]}


class Client:
    """A body arriving in chunks, one each time the server asks for it."""

    def __init__(self, chunks: int, size: int = 1000):
        self.left = chunks
        self.size = size
        self.asked = 0

    async def receive(self):
        self.asked += 1
        self.left -= 1
        return {"type": "http.request", "body": b"x" * self.size, "more_body": self.left > 0}


def app_reading_all(seen: list):
    async def app(scope, receive, send):
        seen.append(("start", None))
        while True:
            message = await receive()
            seen.append(("chunk", len(message["body"])))
            if not message.get("more_body"):
                break

    return app


async def nothing(message):
    return None


def test_a_small_body_is_read_in_full_before_the_application_starts():
    seen: list = []
    client = Client(3)
    buffered = BufferedBody(app_reading_all(seen), limit=10_000, budget=100_000)
    asyncio.run(buffered(SCOPE, client.receive, nothing))
    assert seen == [("start", None), ("chunk", 1000), ("chunk", 1000), ("chunk", 1000)]
    assert client.asked == 3
    assert buffered.in_use == 0


def test_a_body_over_the_limit_streams_the_rest():
    seen: list = []
    client = Client(5)
    buffered = BufferedBody(app_reading_all(seen), limit=1500, budget=100_000)

    async def run():
        await buffered(SCOPE, client.receive, nothing)

    asyncio.run(run())
    assert seen[0] == ("start", None) and len(seen) == 6
    assert buffered.in_use == 0


def test_a_body_handed_to_the_application_leaves_the_budget():
    """What the application has read is its own memory: a slow application must not keep the
    budget spent."""
    during: list = []

    async def app(scope, receive, send):
        while (await receive()).get("more_body"):
            pass
        during.append(buffered.in_use)

    buffered = BufferedBody(app, limit=10_000, budget=100_000)
    asyncio.run(buffered(SCOPE, Client(3).receive, nothing))
    assert during == [0] and buffered.in_use == 0


def test_bodies_share_a_budget_per_process():
    """While one client's body holds the budget, another's streams instead of adding to it."""
    order: list = []
    buffered_in_first: list = []
    release = None

    async def app(scope, receive, send):
        order.append(("start", scope["client"]))
        if scope["client"] == "first":
            buffered_in_first.append(buffered.in_use)
            await release.wait()  # keeps its buffered body while the second client arrives
        while (await receive()).get("more_body"):
            pass

    buffered = BufferedBody(app, limit=10_000, budget=2500)

    async def run():
        nonlocal release
        release = asyncio.Event()
        first = asyncio.create_task(buffered({**SCOPE, "client": "first"}, Client(3).receive, nothing))
        await asyncio.sleep(0.01)
        second_client = Client(3)
        await buffered({**SCOPE, "client": "second"}, second_client.receive, nothing)
        # The budget was spent: the second body was not buffered past its first chunk.
        assert order == [("start", "first"), ("start", "second")]
        assert buffered.in_use == 3000  # the first client's body only, not yet handed over
        release.set()
        await first

    asyncio.run(run())
    assert buffered_in_first == [3000]
    assert buffered.in_use == 0


class StallingClient:
    """Sends `chunks` chunks of `size` bytes, `pause` seconds apart, then never sends again
    (`pause=None`: stalls right away after the chunks)."""

    def __init__(self, chunks: int, size: int = 1, pause: float = 0.0):
        self.chunks, self.size, self.pause = chunks, size, pause
        self.sent = 0

    async def receive(self):
        if self.sent >= self.chunks:
            await asyncio.sleep(3600)  # a client that went quiet; the body clock must cut it
        await asyncio.sleep(self.pause)
        self.sent += 1
        return {"type": "http.request", "body": b"x" * self.size, "more_body": True}


class Recorder:
    def __init__(self):
        self.messages: list = []

    async def send(self, message):
        self.messages.append(message)

    @property
    def status(self):
        return next(m["status"] for m in self.messages if m["type"] == "http.response.start")


def never_called(seen: list):
    async def app(scope, receive, send):
        seen.append("application ran")

    return app


def test_a_body_that_stops_arriving_is_answered_408_without_the_application():
    seen: list = []
    out = Recorder()
    buffered = BufferedBody(never_called(seen), limit=10_000, budget=100_000, idle=0.05, grace=5, min_rate=1)

    async def run():
        await asyncio.wait_for(buffered(SCOPE, StallingClient(2, size=100).receive, out.send), 5)

    asyncio.run(run())
    assert out.status == 408
    assert seen == []
    assert buffered.in_use == 0  # what the client had sent is given back to the budget


def test_a_body_trickled_below_the_minimum_rate_is_cut_after_the_grace():
    """A byte every 20 ms never trips the idle rule; the average-rate rule cuts it."""
    seen: list = []
    out = Recorder()
    client = StallingClient(10_000, size=1, pause=0.02)
    buffered = BufferedBody(never_called(seen), limit=100_000, budget=1_000_000, idle=1, grace=0.2, min_rate=1000)

    async def run():
        await asyncio.wait_for(buffered(SCOPE, client.receive, out.send), 5)

    asyncio.run(run())
    assert out.status == 408 and seen == []
    assert 3 <= client.sent < 100  # cut soon after the grace, long before the body's end


def app_reading_until_an_error(errors: list):
    """An application reading the whole body, that records the read error it gets instead."""

    async def app(scope, receive, send):
        try:
            while (await receive()).get("more_body"):
                pass
        except OSError as exc:
            errors.append(exc)

    return app


def test_a_streaming_body_that_stalls_ends_in_a_read_error_for_the_application():
    """Past the buffer limit the body streams to the application's thread: a stall there must
    free the thread with an error (Django's UnreadablePostError is an OSError), not a short body."""
    errors: list = []
    app = app_reading_until_an_error(errors)
    buffered = BufferedBody(app, limit=150, budget=100_000, idle=0.05, grace=5, min_rate=1)

    async def run():
        await asyncio.wait_for(buffered(SCOPE, StallingClient(3, size=100).receive, nothing), 5)

    asyncio.run(run())
    assert len(errors) == 1 and isinstance(errors[0], TimeoutError)
    assert buffered.in_use == 0


def test_a_body_arriving_at_a_steady_rate_is_not_cut():
    seen: list = []
    client = Client(5, size=1000)
    buffered = BufferedBody(app_reading_all(seen), limit=10_000, budget=100_000, idle=0.5, grace=0.01, min_rate=10)
    asyncio.run(buffered(SCOPE, client.receive, nothing))
    assert seen[0] == ("start", None) and len(seen) == 6


def test_time_the_application_is_not_reading_is_not_charged_to_the_client():
    """A streaming body whose thread is busy (or still queued) longer than the idle limit is
    not cut: the server stopped reading meanwhile, and the client's data is waiting."""
    seen: list = []

    async def slow_app(scope, receive, send):
        try:
            while True:
                message = await receive()
                seen.append(len(message["body"]))
                if not message.get("more_body"):
                    break
                await asyncio.sleep(0.15)  # three idle limits between reads
        except OSError as exc:
            seen.append(exc)

    buffered = BufferedBody(slow_app, limit=150, budget=100_000, idle=0.05, grace=0.05, min_rate=1000)
    asyncio.run(asyncio.wait_for(buffered(SCOPE, Client(4, size=100).receive, nothing), 5))
    assert seen == [100, 100, 100, 100]


class LeavingClient:
    """Sends `chunks` chunks, then disconnects."""

    def __init__(self, chunks: int):
        self.left = chunks

    async def receive(self):
        if self.left == 0:
            return {"type": "http.disconnect"}
        self.left -= 1
        return {"type": "http.request", "body": b"name=a&body=half a comm", "more_body": True}


def test_a_client_leaving_mid_body_never_reaches_the_application_while_buffering():
    seen: list = []
    out = Recorder()
    buffered = BufferedBody(never_called(seen), limit=10_000, budget=100_000)
    asyncio.run(buffered(SCOPE, LeavingClient(2).receive, out.send))
    assert seen == [] and out.messages == [] and buffered.in_use == 0


def test_a_client_leaving_mid_stream_is_a_read_error_not_the_end_of_the_body():
    """a2wsgi reads a message without more_body as the body's end: Django would parse the
    half it got. It must get an error instead."""
    errors: list = []
    app = app_reading_until_an_error(errors)
    buffered = BufferedBody(app, limit=30, budget=100_000)
    asyncio.run(buffered(SCOPE, LeavingClient(3).receive, nothing))
    assert len(errors) == 1 and isinstance(errors[0], ConnectionResetError)
    assert buffered.in_use == 0


def test_only_a_body_that_streams_is_marked_as_streaming():
    """The render gate (masthead.serving.gate) lets a streaming body past, as it waits on its
    client; a buffered one is complete before the application runs and is not marked."""
    from masthead.serving.gate import STREAMS_BODY

    small, large = ({"type": "http", "method": "POST", "headers": SCOPE["headers"]} for _ in range(2))
    asyncio.run(BufferedBody(app_reading_all([]), limit=10_000, budget=100_000)(small, Client(3).receive, nothing))
    asyncio.run(BufferedBody(app_reading_all([]), limit=1500, budget=100_000)(large, Client(5).receive, nothing))
    assert STREAMS_BODY not in small
    assert large[STREAMS_BODY] is True
