"""Notify's mail settings from the environment: defaults for the embedded academy, and bad values refused at start."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.notify.settings import MailSettings
from shared.config import InvalidSetting


def test_without_smtp_mail_goes_to_the_data_folder(tmp_path):
    settings = MailSettings.from_env({"ACADEMY_DATA_DIR": str(tmp_path)})

    assert settings.smtp_host is None
    assert settings.mail_dir == tmp_path / "mail"
    assert settings.sender_domain == "academy.example"


def test_smtp_with_starttls_and_a_password_file(tmp_path):
    secret = tmp_path / "smtp-password"
    secret.write_text("from-a-file\n")

    settings = MailSettings.from_env({
        "ACADEMY_DATA_DIR": str(tmp_path), "SMTP_HOST": "mail.example", "SMTP_PORT": "587",
        "SMTP_SECURITY": "STARTTLS", "SMTP_USERNAME": "academy", "SMTP_PASSWORD_FILE": str(secret),
        "MAIL_FROM": "Academy <noreply@cluster.example>", "SMTP_TIMEOUT": "12.5",
    })

    assert (settings.smtp_host, settings.smtp_port, settings.smtp_security) == ("mail.example", 587, "starttls")
    assert (settings.smtp_username, settings.smtp_password, settings.smtp_timeout) == ("academy", "from-a-file", 12.5)
    assert settings.sender_domain == "cluster.example"


@pytest.mark.parametrize(("env", "named"), [
    ({"SMTP_SECURITY": "ssl"}, "SMTP_SECURITY"),
    ({"SMTP_HOST": "mail.example", "SMTP_USERNAME": "academy"}, "SMTP_USERNAME"),
    ({"MAIL_FROM": "nobody"}, "MAIL_FROM"),
    ({"SMTP_TIMEOUT": "soon"}, "SMTP_TIMEOUT"),
    ({"SMTP_TIMEOUT": "nan"}, "SMTP_TIMEOUT"),
    ({"SMTP_TIMEOUT": "0"}, "SMTP_TIMEOUT"),
    ({"SMTP_SECURITY": "starttls", "SMTP_USERNAME": "academy", "SMTP_PASSWORD_FILE": "/no/such/file"},
     "SMTP_PASSWORD_FILE"),
    ({"SMTP_PASSWORD_FILE": str(Path(__file__).parent)}, "SMTP_PASSWORD_FILE"),  # there, but not a file
    ({"SMTP_PORT": "70000"}, "SMTP_PORT"),
])
def test_bad_settings_fail_at_start_naming_the_variable(tmp_path, env, named):
    with pytest.raises(InvalidSetting, match=named):
        MailSettings.from_env({"ACADEMY_DATA_DIR": str(tmp_path), **env})


def test_a_relay_without_sign_in_needs_no_password_file(tmp_path):
    """Kubernetes mounts the optional smtp-credentials Secret as an empty folder when an operator made none."""
    settings = MailSettings.from_env({"ACADEMY_DATA_DIR": str(tmp_path), "SMTP_HOST": "relay.example",
                                      "SMTP_PASSWORD_FILE": str(tmp_path / "smtp" / "SMTP_PASSWORD")})

    assert (settings.smtp_username, settings.smtp_password) == (None, None)
