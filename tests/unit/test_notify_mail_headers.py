"""The e-mail notify builds from a recorded payload: headers a mail client expects, and none a name can add."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from services.notify.domain import Message, MessageKind
from services.notify.mail import build_email as build_message
from services.notify.mail import mail_payload
from services.notify.settings import MailSettings

SETTINGS = MailSettings(smtp_host=None, smtp_port=25, smtp_security="none", smtp_username=None, smtp_password=None,
                        smtp_timeout=5, sender="Academy <noreply@cluster.example>", mail_dir=Path("/nonexistent"))
MESSAGE = Message(MessageKind.BOOKING_CONFIRMED, "Your seat", "Hello", "Hello\n-- \nfooter", "<p>Hello</p>")
WHEN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def build_email(payload: dict, settings: MailSettings) -> email.message.EmailMessage:
    """The mail as a receiving client reads it."""
    return email.message_from_bytes(build_message(payload, settings).as_bytes(), policy=email.policy.default)


def test_headers_a_mail_client_expects():
    email = build_email(mail_payload("delivery-1", "Ada Lovelace", "ada@example.org", "de", MESSAGE, WHEN,
                                     "https://academy.example/notification-preferences"), SETTINGS)

    assert email["Message-ID"] == "<delivery-1@cluster.example>"
    assert parsedate_to_datetime(email["Date"]) == WHEN
    assert email["To"] == "Ada Lovelace <ada@example.org>"
    assert email["From"] == "Academy <noreply@cluster.example>"
    assert email["Content-Language"] == "de"
    assert email["List-Unsubscribe"] == "<https://academy.example/notification-preferences>"
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email.get_body(("plain",)).get_content() == "Hello\n-- \nfooter\n"
    assert email.get_body(("html",)).get_content() == "<p>Hello</p>\n"


def test_the_same_payload_builds_the_same_mail_so_a_resend_is_recognisable():
    payload = mail_payload("delivery-1", "Ada", "ada@example.org", "en", MESSAGE, WHEN, None)

    first, second = build_email(payload, SETTINGS), build_email(payload, SETTINGS)

    assert (first["Message-ID"], first["Date"]) == (second["Message-ID"], second["Date"])
    assert first["List-Unsubscribe"] is None and first["List-Unsubscribe-Post"] is None


def test_a_line_break_in_a_name_adds_no_header():
    email = build_email(mail_payload("delivery-1", "Eve\r\nBcc: spy@evil.example", "eve@example.org", "en",
                                     MESSAGE, WHEN, None), SETTINGS)

    assert email["Bcc"] is None
    assert email["To"].addresses[0].addr_spec == "eve@example.org"
    assert "\nBcc:" not in email.as_string()
