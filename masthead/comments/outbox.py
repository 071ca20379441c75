"""Comment emails leave from one thread per process, beside the requests, not from them.

A notification is built after its comment is committed, in the request that posted it (or the
moderator's approval). Sent from there, a slow or hung mail server held that request, and with
it its worker's render gate (masthead/serving/gate.py): every reader queued behind it waited up
to EMAIL_TIMEOUT. Now the request only puts the finished message on a queue, and one daemon
thread sends them in order. Nothing the thread does touches the database: the message, its
recipients and its unsubscribe link are made in the request.

What a stopping process still holds is sent before it exits, for a few seconds at most; what is
still waiting after that is counted in the log. So a crash, a stop while the mail server hangs,
or a queue that fills (the mail server down for long under a flood of comments; each refusal is
logged) can lose a notice, never a comment: a held comment waits in the moderation queue whether
or not the email about it arrived, and reply notices are a courtesy.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time

from django.conf import settings
from django.core.mail import EmailMessage

logger = logging.getLogger(__name__)

LIMIT = 1000  # messages waiting per process; beyond it, more are logged and dropped
EXIT_WAIT = 5.0  # seconds a stopping process gives the queue to empty

_lock = threading.Lock()
_queue: queue.Queue | None = None
_thread: threading.Thread | None = None
_owner = 0  # the process that started the thread: a forked worker starts its own
_closed = False


def deliver(message: EmailMessage) -> None:
    """Send `message` from the outbox thread, or at once when MASTHEAD_MAIL_IN_BACKGROUND is
    off (the tests, which read the sent mail right after the request). Never raises."""
    if not getattr(settings, "MASTHEAD_MAIL_IN_BACKGROUND", True):
        send_now(message)
        return
    try:
        _started().put_nowait(message)
    except queue.Full:
        logger.error("comment email queue full (%d waiting): a notification was not sent", LIMIT)


def send_now(message: EmailMessage) -> None:
    try:
        message.send()
    except Exception:  # a mail server outage must not lose or fail the comment
        logger.exception("could not send comment email to a recipient")


def flush(timeout: float) -> bool:
    """Wait until what is queued now has been sent (or failed); False if `timeout` ran out."""
    deadline = time.monotonic() + timeout
    with _lock:
        waiting = _queue if _owner == os.getpid() else None
    if waiting is None:
        return True
    done = threading.Event()
    try:
        waiting.put(done, timeout=timeout)
    except queue.Full:
        return False
    return done.wait(max(0.0, deadline - time.monotonic()))


def close(timeout: float = EXIT_WAIT) -> None:
    """At a process's end (gunicorn's worker_exit, else atexit; the first call does it): send
    what is queued, for `timeout` seconds at most, and log what could not be."""
    global _closed
    if _closed:
        return
    _closed = True
    if not flush(timeout) and _queue is not None:
        with _queue.mutex:
            left = sum(not isinstance(item, threading.Event) for item in _queue.queue)
        logger.error("stopping with %d comment email(s) waiting and one being sent, not sent in time", left)


def _started() -> queue.Queue:
    """This process's queue, with a live thread to empty it (started again should it have
    died, so that messages never pile up unseen)."""
    global _queue, _thread, _owner
    with _lock:
        if _queue is None or _owner != os.getpid():
            _queue, _owner, _thread = queue.Queue(maxsize=LIMIT), os.getpid(), None
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_run, args=(_queue,), name="masthead-outbox", daemon=True)
            _thread.start()
        return _queue


def _run(waiting: queue.Queue) -> None:
    while True:
        item = waiting.get()
        if isinstance(item, threading.Event):
            item.set()
        else:
            send_now(item)


atexit.register(close)
