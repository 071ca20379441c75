"""masthead/memo.py: values remembered under their whole key, bounded."""

from __future__ import annotations

from masthead.memo import Memo


def test_a_value_is_made_once_per_key_and_a_full_memo_starts_again():
    made = []
    memo = Memo(limit=2)

    def make(value):
        def made_now():
            made.append(value)
            return value

        return made_now

    assert memo.get("a", make(None)) is None and memo.get("a", make(1)) is None  # None is a value
    assert memo.get("b", make(2)) == 2 and len(memo) == 2
    assert memo.get("c", make(3)) == 3 and len(memo) == 1  # full: emptied, then kept
    assert memo.get("a", make(4)) == 4
    assert made == [None, 2, 3, 4]
    memo.clear()
    assert len(memo) == 0
