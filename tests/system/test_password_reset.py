"""A forgotten password through the gateway of `academy run`: the link arrives by mail (an .eml file in the data
folder, as the embedded academy sends it), sets a new password once, and never shows up in the inbox."""

from __future__ import annotations

import email
import email.policy
import re
import uuid

import pytest

from tests.system.processes import EmbeddedProcess
from tests.system.slice import Academy, eventually

pytestmark = pytest.mark.slow
PASSWORD, NEW_PASSWORD = "correct horse battery staple", "a meadow of quiet lanterns"


def test_a_member_resets_a_forgotten_password_with_the_mailed_link(tmp_path, monkeypatch):
    monkeypatch.delenv("SMTP_HOST", raising=False)
    academy_process = EmbeddedProcess(tmp_path / "data", tmp_path).start()
    mail_dir = tmp_path / "data" / "mail"
    address = f"ann-{uuid.uuid4().hex[:8]}@example.org"

    def reset_mails() -> list[email.message.EmailMessage]:
        mails = [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                 for path in mail_dir.glob("*.eml")] if mail_dir.exists() else []
        return [mail for mail in mails if mail["To"].addresses[0].addr_spec == address
                and "reset-password" in mail.get_body(("plain",)).get_content()]

    try:
        academy = Academy(academy_process.url, academy_process.keys_dir)
        created = academy.call("POST", "/api/v1/members",
                               json={"email": address, "password": PASSWORD, "display_name": "Ann"})
        assert created.status_code == 202, created.text
        academy.confirm(address)
        asked = academy.call("POST", "/api/v1/auth/password-reset", json={"email": address})
        unknown = academy.call("POST", "/api/v1/auth/password-reset", json={"email": "nobody@example.org"})
        assert asked.status_code == unknown.status_code == 202 and asked.json() == unknown.json()

        [mail] = eventually(reset_mails, timeout=60)
        link = re.search(r"https?://\S+/#/reset-password\?token=(\S+)", mail.get_body(("plain",)).get_content())
        confirmed = academy.call("POST", "/api/v1/auth/password-reset/confirm",
                                 json={"token": link.group(1), "new_password": NEW_PASSWORD})
        assert confirmed.status_code == 204, confirmed.text
        token = academy.call("POST", "/api/v1/auth/token", json={"email": address, "password": NEW_PASSWORD})
        assert token.status_code == 200, token.text
        inbox = academy.notifications(token.json()["access_token"])
    except AssertionError:
        print(academy_process.process.log())
        raise
    finally:
        academy_process.kill()
    assert mail["List-Unsubscribe"] is None, "a reset mail cannot be switched off"
    assert all("reset-password" not in message["body"] for message in inbox), "the link is mailed only"
