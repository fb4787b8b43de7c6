"""The mails an academy without an SMTP server writes as .eml files (notify's data folder, `mail/`), read by
recipient, as a person would open their inbox."""

from __future__ import annotations

import email
import email.policy
import re
import threading
from collections import defaultdict
from pathlib import Path
from typing import Protocol

CONFIRMATION_LINK = re.compile(r"/#/confirm-email\?token=([\w-]+)")


class ConfirmationSource(Protocol):
    def confirmation_token(self, address: str) -> str | None: ...


class Mailbox:
    def __init__(self, mail_dir: Path):
        self.mail_dir = mail_dir
        self._read: set[str] = set()
        self._bodies: dict[str, list[str]] = defaultdict(list)  # plain-text bodies by recipient, oldest first
        self._lock = threading.Lock()

    def bodies_to(self, address: str) -> list[str]:
        with self._lock:
            for path in sorted(self.mail_dir.glob("*.eml")) if self.mail_dir.exists() else []:
                if path.name not in self._read:
                    self._read.add(path.name)
                    mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                    recipient = mail["To"].addresses[0].addr_spec.lower()
                    self._bodies[recipient].append(mail.get_body(("plain",)).get_content())
            return list(self._bodies[address.lower()])

    def confirmation_token(self, address: str) -> str | None:
        """The token of the newest confirmation link mailed to `address`, if one came."""
        tokens = [found.group(1) for body in self.bodies_to(address) if (found := CONFIRMATION_LINK.search(body))]
        return tokens[-1] if tokens else None
