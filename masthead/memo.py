"""A per-process memory of values made from their whole key, bounded.

Used for what is made again and again from the same inputs (a card's or a comment's markup,
a reversed URL, a blank form's fields): the key holds every input the value depends on, so a
remembered value can never be out of date, only unused. When the memory is full it is emptied
all at once (cheaper than keeping track of the least recently used, and the values in use come
back at once). Threads share it: a read and a store are single dictionary operations.
"""

from __future__ import annotations

from typing import Callable, Generic, Hashable, TypeVar

V = TypeVar("V")
_MISSING = object()


class Memo(Generic[V]):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._values: dict[Hashable, V] = {}

    def get(self, key: Hashable, make: Callable[[], V]) -> V:
        """The value remembered under `key`, or `make()`'s, remembered."""
        value = self._values.get(key, _MISSING)
        if value is _MISSING:
            if len(self._values) >= self.limit:
                self._values.clear()
            value = self._values[key] = make()
        return value

    def clear(self) -> None:
        self._values.clear()

    def __len__(self) -> int:
        return len(self._values)
