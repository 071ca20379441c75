"""Comment emails leave from the outbox thread: a hung mail server never holds the request."""

from __future__ import annotations

import logging
import threading

import pytest
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

from masthead.comments import outbox


class HungBackend(BaseEmailBackend):
    """A mail server that takes each message only when the test lets it, and refuses any
    addressed to refused@…"""

    entered = threading.Event()
    release = threading.Event()
    sent: list[list[str]] = []

    def send_messages(self, messages):
        HungBackend.entered.set()
        HungBackend.release.wait(5)
        for message in messages:
            if message.to[0].startswith("refused@"):
                raise ConnectionRefusedError("mail server said no")
            HungBackend.sent.append(message.to)
        return len(messages)


@pytest.fixture
def hung_mail(settings, monkeypatch):
    settings.MASTHEAD_MAIL_IN_BACKGROUND = True
    settings.EMAIL_BACKEND = f"{__name__}.HungBackend"
    HungBackend.entered, HungBackend.release, HungBackend.sent = threading.Event(), threading.Event(), []
    monkeypatch.setattr(outbox, "_queue", None)  # a thread and queue of this test's own
    monkeypatch.setattr(outbox, "_closed", False)
    yield HungBackend
    HungBackend.release.set()
    assert outbox.flush(5)


def message(to: str) -> EmailMessage:
    return EmailMessage(subject="s", body="b", to=[to])


def test_a_held_comment_is_posted_while_the_mail_server_hangs(article, post, hung_mail, django_capture_on_commit_callbacks):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from masthead.comments.models import Comment

    get_user_model().objects.create_user("mod", "mod@example.org", "pw").groups.add(
        Group.objects.get_or_create(name="Moderators")[0]
    )
    with django_capture_on_commit_callbacks(execute=True):
        post(article, body="needs a look")
    # The request is over while the mail server still holds the message: sent from the
    # request, it would have waited for the release (5 s) and be in `sent` by now.
    assert Comment.objects.get().body == "needs a look"
    assert hung_mail.entered.wait(5) and hung_mail.sent == []
    hung_mail.release.set()
    assert outbox.flush(5)
    assert hung_mail.sent == [["mod@example.org"]]


def test_a_refused_message_is_logged_and_the_next_one_still_sent(hung_mail, caplog):
    hung_mail.release.set()
    with caplog.at_level(logging.ERROR, logger="masthead.comments.outbox"):
        outbox.deliver(message("refused@example.org"))
        outbox.deliver(message("next@example.org"))
        assert outbox.flush(5)
    assert hung_mail.sent == [["next@example.org"]]
    assert "could not send comment email" in caplog.text


def test_a_full_queue_refuses_more_and_says_so(hung_mail, monkeypatch, caplog):
    monkeypatch.setattr(outbox, "LIMIT", 2)
    outbox.deliver(message("first@example.org"))
    assert hung_mail.entered.wait(5)  # the thread holds the first; two more fill the queue
    with caplog.at_level(logging.ERROR, logger="masthead.comments.outbox"):
        for to in ("second@example.org", "third@example.org", "fourth@example.org"):
            outbox.deliver(message(to))
    assert "queue full" in caplog.text
    hung_mail.release.set()
    assert outbox.flush(5)
    assert hung_mail.sent == [["first@example.org"], ["second@example.org"], ["third@example.org"]]


def test_with_the_thread_off_mail_is_sent_in_the_request(settings):
    from django.core import mail

    settings.MASTHEAD_MAIL_IN_BACKGROUND = False
    outbox.deliver(message("now@example.org"))
    assert [m.to for m in mail.outbox] == [["now@example.org"]]


def test_a_stopping_worker_sends_what_it_still_holds(hung_mail):
    from masthead.serving.server import finish_outgoing_mail

    outbox.deliver(message("last@example.org"))
    assert hung_mail.entered.wait(5) and hung_mail.sent == []
    threading.Timer(0.2, hung_mail.release.set).start()  # the mail server answers after a moment
    finish_outgoing_mail(server=None, worker=None)  # gunicorn's worker_exit hook
    assert hung_mail.sent == [["last@example.org"]]


def test_a_worker_stopping_while_the_mail_server_hangs_says_what_it_leaves(hung_mail, caplog):
    outbox.deliver(message("held@example.org"))
    assert hung_mail.entered.wait(5)
    outbox.deliver(message("waiting@example.org"))
    with caplog.at_level(logging.ERROR, logger="masthead.comments.outbox"):
        outbox.close(timeout=0.2)
        outbox.close(timeout=5)  # atexit after worker_exit: done already, returns at once
    assert "stopping with 1 comment email(s) waiting and one being sent" in caplog.text
    assert hung_mail.sent == []


def test_a_dead_outbox_thread_is_started_again(hung_mail, monkeypatch):
    hung_mail.release.set()
    with monkeypatch.context() as patched:
        patched.setattr(outbox, "_run", lambda waiting: None)  # a thread that dies at once
        outbox.deliver(message("first@example.org"))
        outbox._thread.join(5)
    outbox.deliver(message("second@example.org"))  # finds the thread dead, starts another
    assert outbox.flush(5)
    assert hung_mail.sent == [["first@example.org"], ["second@example.org"]]


def test_serve_hands_gunicorn_the_exit_hook(monkeypatch):
    from masthead.serving import server

    seen = {}

    class Recorder:
        def __init__(self, options, threads, renders):
            seen.update(options)

        def run(self):
            pass

    monkeypatch.setattr(server, "MastheadServer", Recorder)
    monkeypatch.setattr(server, "refuse_a_taken_port", lambda host, port: None)
    server.run("127.0.0.1", 1, workers=1, threads=1)
    assert seen["worker_exit"] is server.finish_outgoing_mail
