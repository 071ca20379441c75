"""Email leaves from one thread per process, beside the requests, never from them.

Every email the site sends (comment notices, Wagtail's workflow and moderation notices,
password resets) used to go out from the request that caused it. A slow or hung mail server
then held that request, and with it its worker's render gate (masthead/serving/gate.py): every
reader queued behind it waited up to EMAIL_TIMEOUT. `BackgroundEmailBackend` is the site's
EMAIL_BACKEND: it only puts each finished message on a queue, and one daemon thread hands them
in order to the backend that really sends (MASTHEAD_EMAIL_BACKEND: SMTP, the console). The
thread touches no database: a message, its recipients and its links are made in the request.

What a stopping process still holds is sent before it exits, for a few seconds at most; what is
still waiting after that is counted in the log. So a crash, a stop while the mail server hangs,
or a queue that fills (the mail server down for long under a flood of messages; each refusal is
logged) can lose a notice, never what a reader or an editor wrote: a held comment waits in the
moderation queue and a page in its workflow whether or not the email about it arrived.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend

logger = logging.getLogger(__name__)

LIMIT = 1000  # messages waiting per process; beyond it, more are logged and dropped
EXIT_WAIT = 5.0  # seconds a stopping process gives the queue to empty

_lock = threading.Lock()
_queue: queue.Queue | None = None
_thread: threading.Thread | None = None
_owner = 0  # the process that started the thread: a forked worker starts its own
_closed = False


class BackgroundEmailBackend(BaseEmailBackend):
    """EMAIL_BACKEND: queues each message for the sending thread and returns at once."""

    def send_messages(self, email_messages) -> int:
        for message in email_messages:
            deliver(message)
        return len(email_messages)


def deliver(message: EmailMessage) -> None:
    """Queue `message` for the sending thread (sent at once once the process is stopping,
    when no reader is waiting any more). Never raises."""
    if _closed:
        send_now(message)
        return
    try:
        _started().put_nowait(message)
    except queue.Full:
        logger.error("email queue full (%d waiting): a message was not sent", LIMIT)


def send_now(message: EmailMessage) -> None:
    """Send through the real backend; a failure is logged, never raised to the sender."""
    try:
        get_connection(settings.MASTHEAD_EMAIL_BACKEND).send_messages([message])
    except Exception:  # a mail server outage must not lose or fail what caused the message
        logger.exception("could not send an email to %s", ", ".join(message.recipients()))


def flush(timeout: float) -> bool:
    """Wait until what is queued now has been sent (or failed); False if `timeout` ran out or
    nothing is left to send it."""
    deadline = time.monotonic() + timeout
    with _lock:
        if _queue is None or _owner != os.getpid():
            return True
        waiting, sender = _queue, _thread
    if sender is None or not sender.is_alive():
        return waiting.empty()
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
        logger.error("stopping with %d email(s) still queued, not sent: the mail server did not answer in time", left)


def _started() -> queue.Queue:
    """This process's queue, with a live thread to empty it (started again should it have
    died, so that messages never pile up unseen)."""
    global _queue, _thread, _owner
    with _lock:
        if _queue is None or _owner != os.getpid():
            _queue, _owner, _thread = queue.Queue(maxsize=LIMIT), os.getpid(), None
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_run, args=(_queue,), name="masthead-mail", daemon=True)
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
