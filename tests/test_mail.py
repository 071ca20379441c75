"""Email leaves from the mail thread (masthead/mail.py): a hung mail server never holds a request."""

from __future__ import annotations

import logging
import threading

import pytest
from django.core.mail import EmailMessage, send_mail
from django.core.mail.backends.base import BaseEmailBackend

from masthead import mail


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
    """The site's own EMAIL_BACKEND (pytest-django puts locmem in its place) in front of a
    mail server that hangs until released, with a queue and thread of this test's own."""
    settings.EMAIL_BACKEND = "masthead.mail.BackgroundEmailBackend"
    settings.MASTHEAD_EMAIL_BACKEND = f"{__name__}.HungBackend"
    HungBackend.entered, HungBackend.release, HungBackend.sent = threading.Event(), threading.Event(), []
    monkeypatch.setattr(mail, "_queue", None)
    monkeypatch.setattr(mail, "_closed", False)
    yield HungBackend
    HungBackend.release.set()
    assert mail.flush(5)


def message(to: str) -> EmailMessage:
    return EmailMessage(subject="s", body="b", to=[to])


def test_a_held_comment_is_posted_while_the_mail_server_hangs(
    make_section, make_article, client, hung_mail, django_capture_on_commit_callbacks
):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from masthead.comments.models import Comment
    from tests.comments.conftest import aged_ticket

    article = make_article(make_section("World"), "A story")
    get_user_model().objects.create_user("mod", "mod@example.org", "pw").groups.add(
        Group.objects.get_or_create(name="Moderators")[0]
    )
    form = {"name": "Ada", "email": "ada@example.org", "body": "needs a look", "ticket": aged_ticket(article)}
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/comments/post/{article.pk}/", form).status_code == 302  # to "posted"
    # The request is over while the mail server still holds the message: sent from the
    # request, it would have waited for the release (5 s) and be in `sent` by now.
    assert Comment.objects.get().body == "needs a look"
    assert hung_mail.entered.wait(5) and hung_mail.sent == []
    hung_mail.release.set()
    assert mail.flush(5)
    assert hung_mail.sent == [["mod@example.org"]]


def test_any_email_the_site_sends_goes_the_same_way(hung_mail):
    """Wagtail's workflow notices and password resets call Django's send_mail too."""
    assert send_mail("Page submitted", "A page awaits review", None, ["editor@example.org"]) == 1
    assert hung_mail.entered.wait(5) and hung_mail.sent == []
    hung_mail.release.set()
    assert mail.flush(5)
    assert hung_mail.sent == [["editor@example.org"]]


def test_a_refused_message_is_logged_and_the_next_one_still_sent(hung_mail, caplog):
    hung_mail.release.set()
    with caplog.at_level(logging.ERROR, logger="masthead.mail"):
        mail.deliver(message("refused@example.org"))
        mail.deliver(message("next@example.org"))
        assert mail.flush(5)
    assert hung_mail.sent == [["next@example.org"]]
    assert "could not send an email to refused@example.org" in caplog.text


def test_a_full_queue_refuses_more_and_says_so(hung_mail, monkeypatch, caplog):
    monkeypatch.setattr(mail, "LIMIT", 2)
    mail.deliver(message("first@example.org"))
    assert hung_mail.entered.wait(5)  # the thread holds the first; two more fill the queue
    with caplog.at_level(logging.ERROR, logger="masthead.mail"):
        for to in ("second@example.org", "third@example.org", "fourth@example.org"):
            mail.deliver(message(to))
    assert "queue full" in caplog.text
    hung_mail.release.set()
    assert mail.flush(5)
    assert hung_mail.sent == [["first@example.org"], ["second@example.org"], ["third@example.org"]]


def test_a_stopping_worker_sends_what_it_still_holds(hung_mail):
    from masthead.serving.server import finish_outgoing_mail

    mail.deliver(message("last@example.org"))
    assert hung_mail.entered.wait(5) and hung_mail.sent == []
    threading.Timer(0.2, hung_mail.release.set).start()  # the mail server answers after a moment
    finish_outgoing_mail(server=None, worker=None)  # gunicorn's worker_exit hook
    assert hung_mail.sent == [["last@example.org"]]


def test_a_worker_stopping_while_the_mail_server_hangs_says_what_it_leaves(hung_mail, caplog):
    mail.deliver(message("held@example.org"))
    assert hung_mail.entered.wait(5)
    mail.deliver(message("waiting@example.org"))
    with caplog.at_level(logging.ERROR, logger="masthead.mail"):
        mail.close(timeout=0.2)
        mail.close(timeout=5)  # atexit after worker_exit: done already, returns at once
    assert "stopping with 1 email(s) still queued" in caplog.text
    hung_mail.release.set()
    mail.deliver(message("after@example.org"))  # once stopping, sent at once by the caller
    assert ["after@example.org"] in hung_mail.sent


def test_a_dead_mail_thread_is_started_again(hung_mail, monkeypatch):
    hung_mail.release.set()
    with monkeypatch.context() as patched:
        patched.setattr(mail, "_run", lambda waiting: None)  # a thread that dies at once
        mail.deliver(message("first@example.org"))
        mail._thread.join(5)
    assert not mail.flush(5)  # nothing alive to send it: says so at once
    mail.deliver(message("second@example.org"))  # finds the thread dead, starts another
    assert mail.flush(5)
    assert hung_mail.sent == [["first@example.org"], ["second@example.org"]]


def test_serve_hands_gunicorn_the_exit_hook(monkeypatch):
    from masthead.serving import server

    seen = {}

    class Recorder:
        def __init__(self, options, threads, renders, **more):
            seen.update(options)

        def run(self):
            pass

    monkeypatch.setattr(server, "MastheadServer", Recorder)
    monkeypatch.setattr(server, "refuse_a_taken_port", lambda host, port: None)
    server.run("127.0.0.1", 1, workers=1, threads=1)
    assert seen["worker_exit"] is server.finish_outgoing_mail
    assert callable(seen["post_fork"])  # the send timeout's hook (tests/serving/test_files.py)
