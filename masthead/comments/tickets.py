"""Form tickets: a fresh, signed, single-use number for each comment form a reader fills in.

A news page may come from a cache and be shown to thousands of readers, so it cannot carry
anything personal. The ticket is fetched when the reader starts writing (or, without
JavaScript, issued on a confirmation step). It gives us three things:
- the time the reader started, so posts faster than a person can write are refused;
- an idempotency key, so a double click, retry or resent form stores the comment once;
- a binding to one article, so a ticket cannot be replayed elsewhere.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from .identity import TICKET_SALT, sign, unsign

MAX_AGE = 24 * 3600  # a reader may take a day over a comment, not more


@dataclass(frozen=True)
class Ticket:
    article_id: int
    key: uuid.UUID
    age: float  # seconds since the ticket was issued


def issue(article_id: int, now: float | None = None) -> str:
    issued = time.time() if now is None else now
    return sign(f"{article_id}:{uuid.uuid4().hex}:{issued:.3f}", TICKET_SALT)


def read(token: str, article_id: int, now: float | None = None) -> Ticket | None:
    """The ticket, or None when it is missing, forged, expired or for another article."""
    value = unsign(token or "", TICKET_SALT)
    if value is None:
        return None
    try:
        ticket_article, key, issued = value.split(":")
        ticket = Ticket(int(ticket_article), uuid.UUID(hex=key), (time.time() if now is None else now) - float(issued))
    except ValueError:
        return None
    if ticket.article_id != article_id or not 0 <= ticket.age <= MAX_AGE:
        return None
    return ticket
