"""E-mail: the payload a handler records, and the dispatcher's performer that sends it over SMTP or, with no
SMTP server configured, writes it as an .eml file under the data folder's mail/."""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import tempfile
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from services.notify.domain import Message
from services.notify.metrics import NOTIFICATIONS
from services.notify.settings import MailSettings, mail_settings
from shared.side_effects import PermanentFailure

log = logging.getLogger(__name__)
MAIL_EFFECT = "email"
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


def build_email(payload: dict, settings: MailSettings) -> EmailMessage:
    email = EmailMessage()
    email["From"] = settings.sender
    email["To"] = payload["to"]
    email["Subject"] = payload["subject"]
    email["Date"] = format_datetime(datetime.fromisoformat(payload["date"]))
    # Stable per notification: a mail sent again after a crash carries the same id, so clients see a duplicate.
    email["Message-ID"] = f"<{payload['delivery_id']}@{settings.sender_domain}>"
    email["Auto-Submitted"] = "auto-generated"
    if payload.get("unsubscribe"):
        email["List-Unsubscribe"] = f"<{payload['unsubscribe']}>"
        # RFC 8058: the client unsubscribes with one POST to that address, no page to fill in.
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.set_content(payload["text"])
    email.add_alternative(payload["html"], subtype="html")
    # After the parts: setting the content clears every Content-* header of the message.
    email["Content-Language"] = payload["language"]
    return email


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

    def _send(self, email: EmailMessage) -> str:
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

    def _write(self, email: EmailMessage, delivery_id: str) -> str:
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
