"""E-mail: the payload a handler records, and the dispatcher's performer that sends it over SMTP or, with no
SMTP server configured, writes it as an .eml file under the data folder's mail/."""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import tempfile
from datetime import datetime
from email.header import Header
from email.message import Message as MailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr, parseaddr

from services.notify.domain import Message
from services.notify.metrics import NOTIFICATIONS
from services.notify.settings import MailSettings, mail_settings
from shared.side_effects import PermanentFailure

log = logging.getLogger(__name__)
MAIL_EFFECT = "email"
# compat32 folds headers at 78 characters, and a long List-Unsubscribe address would arrive after a line break;
# RFC 5322 allows lines of up to 998.
UNFOLDED = compat32.clone(max_line_length=998)
CHANNEL = "email"


class MailRefused(PermanentFailure):
    """The mail server refused the message for good (a 5xx answer): trying again cannot help."""


def mail_key(delivery_id: str) -> str:
    """The side effect's idempotency key for one e-mail delivery."""
    return f"mail:{delivery_id}"


def mail_payload(delivery_id: str, name: str, address: str, language: str, message: Message,
                 created_at: datetime, unsubscribe_url: str | None) -> dict:
    """Everything the performer needs, fixed when the event is handled, so a resend is the same mail."""
    return {
        # A line break in a name would end the header; whitespace of any kind becomes one space.
        "delivery_id": delivery_id, "to": formataddr((" ".join(name.split()), address)), "language": language,
        "subject": message.subject, "text": message.mail_text, "html": message.html,
        "date": created_at.isoformat(), "unsubscribe": unsubscribe_url,
    }


def build_email(payload: dict, settings: MailSettings) -> MailMessage:
    """The mail of a recorded payload, built with the compat32 classes: the same mail on the wire as the default
    policy's EmailMessage, for a third of its CPU (its header parsing cost more than rendering the templates)."""
    email = MIMEMultipart("alternative", policy=UNFOLDED)
    email["From"] = _address(settings.sender)
    email["To"] = _address(payload["to"])
    email["Subject"] = payload["subject"] if payload["subject"].isascii() else Header(payload["subject"], "utf-8")
    email["Date"] = format_datetime(datetime.fromisoformat(payload["date"]))
    # Stable per notification: a mail sent again after a crash carries the same id, so clients see a duplicate.
    email["Message-ID"] = f"<{payload['delivery_id']}@{settings.sender_domain}>"
    email["Auto-Submitted"] = "auto-generated"
    if payload.get("unsubscribe"):
        email["List-Unsubscribe"] = f"<{payload['unsubscribe']}>"
        # RFC 8058: the client unsubscribes with one POST to that address, no page to fill in.
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email["Content-Language"] = payload["language"]
    for body, subtype in ((payload["text"], "plain"), (payload["html"], "html")):
        email.attach(MIMEText(body if body.endswith("\n") else body + "\n", subtype, "utf-8"))
    return email


def _address(value: str) -> str:
    """An address header with the display name encoded when it is not ASCII (RFC 2047)."""
    return formataddr(parseaddr(value), charset="utf-8")


class MailSender:
    """The performer of e-mail side effects; settings are read on first use unless given (as tests do)."""

    def __init__(self, settings: MailSettings | None = None):
        self._settings = settings
        self._told_where = False
        self._context: ssl.SSLContext | None = None

    @property
    def settings(self) -> MailSettings:
        if self._settings is None:
            self._settings = mail_settings()
        return self._settings

    def __call__(self, payload: dict, _idempotency_key: str) -> str:
        email = build_email(payload, self.settings)
        try:
            where = self._send(email) if self.settings.smtp_host else self._write(email, payload["delivery_id"])
        except MailRefused:
            NOTIFICATIONS.labels(CHANNEL, "failed").inc()
            raise
        except Exception:
            NOTIFICATIONS.labels(CHANNEL, "retried").inc()
            raise
        NOTIFICATIONS.labels(CHANNEL, "sent").inc()
        return where

    def _send(self, email: MailMessage) -> str:
        settings = self.settings
        smtp_class = smtplib.SMTP_SSL if settings.smtp_security == "tls" else smtplib.SMTP
        options = {"context": self._tls_context()} if settings.smtp_security == "tls" else {}
        with smtp_class(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout, **options) as smtp:
            if settings.smtp_security == "starttls":
                smtp.starttls(context=self._tls_context())
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password or "")
            try:
                smtp.send_message(email)
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [code for code, _ in exc.recipients.values()]
                if codes and all(code >= 500 for code in codes):
                    raise MailRefused(f"recipient refused: {exc.recipients}") from exc
                raise
            except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
                if exc.smtp_code >= 500:
                    raise MailRefused(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
                raise
        return f"smtp {settings.smtp_host}:{settings.smtp_port}"

    def _tls_context(self) -> ssl.SSLContext:
        # Made once: loading the CA bundle costs tens of milliseconds, more than sending a mail.
        if self._context is None:
            self._context = ssl.create_default_context(cafile=self.settings.smtp_ca_file)
        return self._context

    def _write(self, email: MailMessage, delivery_id: str) -> str:
        folder = self.settings.mail_dir
        folder.mkdir(parents=True, exist_ok=True)
        if not self._told_where:
            log.warning("no SMTP_HOST set: e-mails are written to %s", folder)
            self._told_where = True
        target = folder / f"{delivery_id}.eml"
        # Written whole and renamed, so a reader never sees half a mail and a second write replaces the first.
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".eml.tmp")
        with os.fdopen(handle, "wb") as file:
            file.write(email.as_bytes())
        os.replace(temporary, target)
        return str(target)
