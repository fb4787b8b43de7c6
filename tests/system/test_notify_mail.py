"""Notify end to end through the gateway of `academy run`: a German member books and cancels, and finds both
messages in German in the inbox and in the mailbox (a real SMTP server), or, with no SMTP server configured, as
.eml files in the data folder."""

from __future__ import annotations

import email
import email.policy
import uuid

import pytest
from aiosmtpd.controller import Controller

from tests.integration.test_notify_mail import MailCatcher, free_port
from tests.system.mailbox import CONFIRMATION_LINK
from tests.system.processes import EmbeddedProcess
from tests.system.slice import Academy, eventually

pytestmark = pytest.mark.slow
PASSWORD = "correct horse battery staple"
CONFIRMED, CANCELLED = "Ihr Platz ist bestätigt", "Ihre Buchung ist storniert"


class CaughtMail:
    """The confirmation links among the mails a real SMTP server received."""

    def __init__(self, catcher: MailCatcher):
        self.catcher = catcher

    def confirmation_token(self, address: str) -> str | None:
        bodies = [mail.get_body(("plain",)).get_content() for mail in list(self.catcher.messages)
                  if mail["To"].addresses[0].addr_spec == address]
        tokens = [found.group(1) for body in bodies if (found := CONFIRMATION_LINK.search(body))]
        return tokens[-1] if tokens else None


def subject_of(mail: email.message.EmailMessage) -> str:
    # A subject that fits a line of its own is folded onto the next one, which Python's parser reads back with
    # the folding space in front; mail clients unfold it without.
    return str(mail["Subject"]).strip()


def german_member(academy: Academy) -> tuple[str, str]:
    """Register a member who reads German; returns (e-mail address, token)."""
    address = f"lena-{uuid.uuid4().hex[:8]}@example.org"
    created = academy.call("POST", "/api/v1/members", json={
        "email": address, "password": PASSWORD, "display_name": "Lena Schmidt",
        "preferred_language": "de", "time_zone": "Europe/Berlin"})
    assert created.status_code == 202, created.text
    academy.confirm(address)
    token = academy.call("POST", "/api/v1/auth/token", json={"email": address, "password": PASSWORD})
    assert token.status_code == 200, token.text
    return address, token.json()["access_token"]


def book_and_cancel_in_german(academy: Academy) -> tuple[str, str, list[dict]]:
    _, provider_token = academy.member("provider")
    _, session_id = academy.published_offer(provider_token)
    address, token = german_member(academy)
    booking = academy.book(token, session_id)
    cancelled = academy.call("POST", f"/api/v1/bookings/{booking['id']}/cancel", token)
    assert cancelled.status_code == 200, cancelled.text

    def both_in_the_inbox():
        subjects = [message["subject"] for message in academy.notifications(token)]
        return all(any(subject.startswith(prefix) for subject in subjects) for prefix in (CONFIRMED, CANCELLED)) \
            and academy.notifications(token)

    inbox = eventually(both_in_the_inbox, timeout=60)
    return address, token, inbox


def both_mailed(mails: list[email.message.EmailMessage], address: str) -> bool:
    subjects = [subject_of(mail) for mail in mails if mail["To"].addresses[0].addr_spec == address]
    return all(any(subject.startswith(prefix) for subject in subjects) for prefix in (CONFIRMED, CANCELLED))


def assert_german_pair(mails: list[email.message.EmailMessage], address: str) -> None:
    mine = [mail for mail in mails if mail["To"].addresses[0].addr_spec == address]
    subjects = [subject_of(mail) for mail in mine]
    for prefix in (CONFIRMED, CANCELLED):
        assert sum(subject.startswith(prefix) for subject in subjects) == 1, subjects
    assert {mail["Content-Language"] for mail in mine} == {"de"}
    assert all(mail.get_body(("plain",)).get_content().startswith("Guten Tag Lena Schmidt,") for mail in mine)
    assert len({mail["Message-ID"] for mail in mine}) == len(mine), "each mail once"


def test_a_german_member_books_and_cancels_and_gets_both_mails_in_german(tmp_path, monkeypatch):
    catcher = MailCatcher()
    port = free_port()
    server = Controller(catcher, hostname="127.0.0.1", port=port)
    server.start()
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(port))
    academy_process = EmbeddedProcess(tmp_path / "data", tmp_path).start()
    try:
        academy = Academy(academy_process.url, academy_process.keys_dir, mailbox=CaughtMail(catcher))
        address, _, inbox = book_and_cancel_in_german(academy)
        assert all(message["body"].startswith("Guten Tag Lena Schmidt,") for message in inbox)
        eventually(lambda: both_mailed(list(catcher.messages), address), timeout=60)
    except AssertionError:
        print(academy_process.process.log())
        raise
    finally:
        academy_process.kill()
        server.stop()
    assert_german_pair(catcher.messages, address)
    assert not (tmp_path / "data" / "mail").exists(), "with SMTP configured nothing is written to the data folder"


def test_without_smtp_the_embedded_academy_writes_the_mails_into_its_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("SMTP_HOST", raising=False)
    academy_process = EmbeddedProcess(tmp_path / "data", tmp_path).start()
    mail_dir = tmp_path / "data" / "mail"

    def written() -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                for path in mail_dir.glob("*.eml")] if mail_dir.exists() else []

    try:
        assert str(mail_dir) in academy_process.process.log(), "the academy says at start where mails go"
        academy = Academy(academy_process.url, academy_process.keys_dir)
        address, _, _ = book_and_cancel_in_german(academy)
        # The confirmation of the address is mailed too: counting mails would stop before the cancellation's.
        eventually(lambda: both_mailed(written(), address), timeout=60)
    except AssertionError:
        print(academy_process.process.log())
        raise
    finally:
        academy_process.kill()
    assert_german_pair(written(), address)
