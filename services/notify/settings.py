"""Notify's own settings, read once from the environment: where mail goes and the links it carries."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from functools import cache
from pathlib import Path

from shared.config import InvalidSetting, Settings

SECURITY_MODES = ("starttls", "tls", "none")


@dataclass(frozen=True)
class MailSettings:
    smtp_host: str | None  # None: mail is written as .eml files under `mail_dir` (the embedded default)
    smtp_port: int
    smtp_security: str
    smtp_username: str | None
    smtp_password: str | None
    smtp_timeout: float
    sender: str
    mail_dir: Path
    # A CA bundle for a mail server whose certificate no public CA signed (a company's own CA); None: the system's.
    smtp_ca_file: str | None = None

    @property
    def sender_domain(self) -> str:
        return parseaddr(self.sender)[1].rpartition("@")[2] or "academy.example"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> MailSettings:
        env = os.environ if env is None else env
        base = Settings.from_env("notify", env)
        security = (env.get("SMTP_SECURITY") or "none").lower()
        if security not in SECURITY_MODES:
            raise InvalidSetting(f"SMTP_SECURITY: expected one of {', '.join(SECURITY_MODES)}, got {security!r}")
        sender = env.get("MAIL_FROM") or "Virtual Cluster Academy <academy@academy.example>"
        if "@" not in parseaddr(sender)[1]:
            raise InvalidSetting(f"MAIL_FROM: expected an e-mail address, got {sender!r}")
        try:
            timeout = float(env.get("SMTP_TIMEOUT") or 30)
        except ValueError:
            timeout = float("nan")
        if not 0 < timeout <= 600:
            raise InvalidSetting(f"SMTP_TIMEOUT: expected seconds from 0 to 600, got {env.get('SMTP_TIMEOUT')!r}")
        username = env.get("SMTP_USERNAME") or None
        if username and security == "none":
            raise InvalidSetting("SMTP_USERNAME: credentials go only over TLS; set SMTP_SECURITY to starttls or tls")
        return cls(
            smtp_host=base.smtp_host,
            smtp_port=base.smtp_port,
            smtp_security=security,
            smtp_username=username,
            smtp_password=_password(env),
            smtp_timeout=timeout,
            sender=sender,
            smtp_ca_file=env.get("SMTP_CA_FILE") or None,
            mail_dir=base.data_dir / "mail",
        )


def _password(env: Mapping[str, str]) -> str | None:
    """SMTP_PASSWORD, or the contents of the file SMTP_PASSWORD_FILE names (a mounted secret)."""
    if env.get("SMTP_PASSWORD"):
        return env["SMTP_PASSWORD"]
    path = env.get("SMTP_PASSWORD_FILE")
    if not path:
        return None
    # A Secret mounted as optional leaves no file when the relay needs no sign-in; with a user name it must be there.
    if not env.get("SMTP_USERNAME") and not Path(path).exists():
        return None
    try:
        return Path(path).read_text().strip()
    except OSError as exc:
        raise InvalidSetting(f"SMTP_PASSWORD_FILE: cannot read {path}: {exc.strerror}") from exc


@cache
def mail_settings() -> MailSettings:
    """The process's settings, read on first use (nothing is read at import time)."""
    return MailSettings.from_env()


@cache
def public_url() -> str:
    """Where members reach the academy, for the links in messages (ACADEMY_PUBLIC_URL)."""
    return (os.environ.get("ACADEMY_PUBLIC_URL") or "http://localhost:8000").rstrip("/")
