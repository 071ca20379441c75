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
