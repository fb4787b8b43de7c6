"""Notify's SMTP connection options against a real aiosmtpd server: STARTTLS with credentials, implicit TLS, a
certificate from a private CA, and wrong credentials tried again rather than given up."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import ssl

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from services import notify
from services.notify.mail import MailSender
from services.notify.settings import MailSettings
from shared.events.declarations import BookingConfirmed, MemberRegistered
from shared.side_effects import SideEffectDispatcher
from shared.tables import side_effects
from shared.testing import delivery, sample
from tests.integration.test_notify_mail import SENDER, free_port

SERVICE = notify.SERVICE
USER, PASSWORD = "academy", "s3cret-passphrase"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (its own CA): (certificate file, key file)."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


class Catcher:
    def __init__(self) -> None:
        self.messages: list = []
        self.logins: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((session.authenticated, email.message_from_bytes(envelope.content,
                                                                              policy=email.policy.default)))
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            self.logins.append(auth_data.login.decode())
            if (auth_data.login.decode(), auth_data.password.decode()) == (USER, PASSWORD):
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


def server_context(certificate) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def settings(port: int, security: str, certificate, tmp_path, password: str = PASSWORD) -> MailSettings:
    return MailSettings(smtp_host="127.0.0.1", smtp_port=port, smtp_security=security, smtp_username=USER,
                        smtp_password=password, smtp_timeout=5, sender=SENDER, mail_dir=tmp_path / "mail",
                        smtp_ca_file=certificate[0])


def send_one(runtime, consumer, mail_settings: MailSettings) -> None:
    consumer.handle_batch([delivery(sample(MemberRegistered, member_id="member-1"))])
    consumer.handle_batch([delivery(sample(BookingConfirmed))])
    SideEffectDispatcher("notify", {"email": MailSender(mail_settings)}, runtime.session_factory,
                         backoff=(60,)).dispatch_once()


def side_effect(runtime):
    with runtime.session_factory() as db:
        return db.execute(select(side_effects.c.status, side_effects.c.last_error)).one()


def test_starttls_with_credentials(runtime, consumer, certificate, tmp_path):
    catcher, port = Catcher(), free_port()
    controller = Controller(catcher, hostname="127.0.0.1", port=port, tls_context=server_context(certificate),
                            require_starttls=True, authenticator=catcher.authenticate, auth_require_tls=True)
    controller.start()
    try:
        send_one(runtime, consumer, settings(port, "starttls", certificate, tmp_path))
    finally:
        controller.stop()

    assert side_effect(runtime).status == "done"
    [(authenticated, mail)] = catcher.messages
    assert authenticated and catcher.logins == [USER]
    assert mail["To"].addresses[0].addr_spec == "ada@academy.example"


def test_implicit_tls(runtime, consumer, certificate, tmp_path):
    catcher, port = Catcher(), free_port()
    controller = Controller(catcher, hostname="127.0.0.1", port=port, ssl_context=server_context(certificate),
                            authenticator=catcher.authenticate, auth_require_tls=False)
    controller.start()
    try:
        send_one(runtime, consumer, settings(port, "tls", certificate, tmp_path))
    finally:
        controller.stop()

    assert side_effect(runtime).status == "done"
    assert len(catcher.messages) == 1


def test_wrong_credentials_are_tried_again_not_given_up(runtime, consumer, certificate, tmp_path):
    catcher, port = Catcher(), free_port()
    controller = Controller(catcher, hostname="127.0.0.1", port=port, tls_context=server_context(certificate),
                            require_starttls=True, authenticator=catcher.authenticate, auth_require_tls=True)
    controller.start()
    try:
        send_one(runtime, consumer, settings(port, "starttls", certificate, tmp_path, password="wrong"))
    finally:
        controller.stop()

    status, error = side_effect(runtime)
    assert status == "pending" and "SMTPAuthenticationError" in error
    assert catcher.messages == []
