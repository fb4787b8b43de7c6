"""Notify's e-mail against a real SMTP server (aiosmtpd) started by the tests: every kind in both languages, exactly
once per event and member, retried while the server is down, a 5xx refusal recorded and published."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from services import notify
from services.notify.commands import record_mail_outcomes
from services.notify.domain import ALWAYS_MAILED, CATEGORY_OF, KIND_OF_EVENT, MAIL_ONLY, MessageKind
from services.notify.handlers import booking_confirmed as handle_booking_confirmed
from services.notify.mail import MailSender
from services.notify.models import EmailDelivery, InboxMessage
from services.notify.settings import MailSettings
from shared.bus import Outcome
from shared.events import parse_event
from shared.events.declarations import (
    AttendanceRecorded,
    Attendee,
    BookingCancelled,
    BookingConfirmed,
    BookingPromoted,
    BookingWaitlisted,
    CoproviderInvited,
    CreditNoteIssued,
    GoDecisionMade,
    InvoiceIssued,
    MemberDeleted,
    MemberRegistered,
    NotificationDelivered,
    NotificationFailed,
    OfferPublishedV2,
    OfferReviewed,
    PasswordResetRequested,
    PayoutIssued,
    ProposalAccepted,
    ProposalOpened,
    ProviderShare,
    ReassessmentInvited,
    RegistrationRequested,
    SessionCancelled,
    SessionRescheduled,
    SessionScheduled,
    TopicRequestAnswered,
)
from shared.side_effects import SideEffectDispatcher
from shared.tables import outbox, side_effects
from shared.testing import OFFER, bearer, delivery, sample
from tests.integration.member_helpers import forged

SERVICE = notify.SERVICE
REPO_ROOT = Path(__file__).resolve().parents[2]
SENDER = "Virtual Cluster Academy <academy@academy.example>"
REFUSED = "refused@academy.example"


class MailCatcher:
    """An aiosmtpd handler that keeps every message and refuses one address for good (550)."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == REFUSED:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.catcher = MailCatcher()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.catcher, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        return self.catcher.messages


@pytest.fixture
def runtime(runtime_on_each_database):
    """Every test of this module on SQLite and on PostgreSQL."""
    return runtime_on_each_database


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def mail_settings(port: int, tmp_path) -> MailSettings:
    return MailSettings(smtp_host="127.0.0.1", smtp_port=port, smtp_security="none", smtp_username=None,
                        smtp_password=None, smtp_timeout=5, sender=SENDER, mail_dir=tmp_path / "mail")


def dispatcher(runtime, settings: MailSettings, **options) -> SideEffectDispatcher:
    options.setdefault("backoff", (0.01,))
    options.setdefault("max_attempts", 100)
    return SideEffectDispatcher("notify", {"email": MailSender(settings)}, runtime.session_factory, **options)


def dispatch_all(worker: SideEffectDispatcher, rounds: int = 50) -> None:
    for _ in range(rounds):
        if worker.backlog()[0] == 0:
            return
        worker.dispatch_once()
        time.sleep(0.02)
    raise AssertionError(f"mails still pending: {worker.backlog()}")


def register(consumer, member_id: str, language: str, email_address: str | None = None) -> None:
    consumer.handle_batch([delivery(sample(MemberRegistered, member_id=member_id, display_name=f"Name {member_id}",
                                           email=email_address or f"{member_id}@academy.example",
                                           preferred_language=language, time_zone="Europe/Berlin"))])


def every_kind_for(member_id: str) -> list:
    """One event of every person-facing type, each concerning `member_id` (sessions and offers set up first)."""
    session, offer = f"session-{member_id}", f"offer-{member_id}"
    booked = dict(session_id=session, offer_id=offer, member_id=member_id)
    return [
        sample(OfferPublishedV2, offer_id=offer, offer=dataclasses.replace(
            OFFER, title=f"Strategy for {member_id}",
            providers=[ProviderShare(member_id=member_id, share_percent=100)])),
        sample(SessionScheduled, session_id=session, offer_id=offer),
        sample(BookingConfirmed, booking_id=f"b1-{member_id}", **booked),
        sample(BookingWaitlisted, booking_id=f"b2-{member_id}", **booked),
        sample(BookingPromoted, booking_id=f"b2-{member_id}", **booked),
        sample(BookingCancelled, booking_id=f"b3-{member_id}", session_id="elsewhere", offer_id=offer,
               member_id=member_id),
        sample(SessionRescheduled, session_id=session, offer_id=offer),
        sample(AttendanceRecorded, session_id=session, offer_id=offer, provider_id=member_id,
               attendees=[Attendee(booking_id=f"b1-{member_id}", member_id=member_id, certificate_id="c-1")]),
        sample(InvoiceIssued, member_id=member_id, offer_id=offer, total_cents=123_450),
        sample(CreditNoteIssued, member_id=member_id, offer_id=offer),
        sample(PayoutIssued, provider_id=member_id),
        sample(OfferReviewed, offer_id=offer, provider_ids=[member_id], comment="<b>More</b> cases"),
        sample(CoproviderInvited, offer_id=offer, member_id=member_id),
        sample(TopicRequestAnswered, member_ids=[member_id]),
        sample(GoDecisionMade, session_id=session, offer_id=offer),
        sample(ReassessmentInvited, member_id=member_id, session_id=session, offer_id=offer),
        sample(PasswordResetRequested, member_id=member_id),
        sample(RegistrationRequested, member_id=member_id),
        sample(ProposalOpened, member_ids=[member_id]),
        sample(ProposalAccepted, voter_ids=[member_id]),
        sample(SessionCancelled, session_id=session, offer_id=offer),
    ]


def deliveries(runtime) -> list[EmailDelivery]:
    with runtime.session_factory() as db:
        return list(db.scalars(select(EmailDelivery)))


def published(runtime, event_class) -> list[dict]:
    with runtime.session_factory() as db:
        bodies = db.scalars(select(outbox.c.body).where(outbox.c.routing_key == event_class.event_type.routing_key))
        return [json.loads(body)["data"] for body in bodies]


def test_every_kind_arrives_as_the_right_mail_in_german_and_english(runtime, consumer, smtp, tmp_path):
    register(consumer, "member-de", "de")
    register(consumer, "member-en", "en")
    events = every_kind_for("member-de") + every_kind_for("member-en")
    settlements = consumer.handle_batch([delivery(event) for event in events])
    assert {settlement.outcome for settlement in settlements} == {Outcome.ACK}

    dispatch_all(dispatcher(runtime, mail_settings(smtp.port, tmp_path)))

    assert len(smtp.messages) == 2 * len(MessageKind)
    with runtime.session_factory() as db:
        inbox = {(message.member_id, message.cause_event_id): message for message in db.scalars(select(InboxMessage))}
    by_id = {mail_delivery.id: mail_delivery for mail_delivery in deliveries(runtime)}
    kinds_by_language: dict[str, set[str]] = {"de": set(), "en": set()}
    for mail in smtp.messages:
        language = mail["Content-Language"]
        mail_delivery = by_id[mail["Message-ID"].strip("<>").partition("@")[0]]
        assert mail["Message-ID"] == f"<{mail_delivery.id}@academy.example>"
        assert mail["To"].addresses[0].addr_spec == f"member-{language}@academy.example"
        assert mail["From"] == SENDER and mail["Date"] is not None
        kept = inbox.get((mail_delivery.member_id, mail_delivery.cause_event_id))
        assert (kept is None) == (MessageKind(mail_delivery.kind) in MAIL_ONLY), "a reset link is mailed only"
        assert kept is None or mail["Subject"] == kept.subject
        text = mail.get_body(("plain",)).get_content()
        html = mail.get_body(("html",)).get_content()
        assert text.startswith("Guten Tag Name member-de," if language == "de" else "Hello Name member-en,")
        assert f'<html lang="{language}">' in html and "<b>More</b>" not in html
        optional = CATEGORY_OF[MessageKind(mail_delivery.kind)] not in ALWAYS_MAILED
        assert (mail["List-Unsubscribe"] is not None) == optional
        kinds_by_language[language].add(mail_delivery.kind)
    assert kinds_by_language["de"] == kinds_by_language["en"] == set(KIND_OF_EVENT.values())
    german_invoice = next(mail for mail in smtp.messages
                          if mail["Content-Language"] == "de" and mail["Subject"].startswith("Rechnung"))
    assert "1.234,50 €" in german_invoice["Subject"]
    assert "1.234,50\u00a0€" in german_invoice.get_body(("plain",)).get_content()
    english_invoice = next(mail for mail in smtp.messages if mail["Subject"].startswith("Invoice"))
    assert "€1,234.50" in english_invoice["Subject"]

    assert record_mail_outcomes(runtime.session_factory) == 2 * len(MessageKind)
    assert {mail_delivery.status for mail_delivery in deliveries(runtime)} == {"sent"}
    mailed = [data for data in published(runtime, NotificationDelivered) if data["channel"] == "email"]
    assert len(mailed) == 2 * len(MessageKind)
    assert record_mail_outcomes(runtime.session_factory) == 0, "an outcome is recorded once"


def test_smtp_down_then_up_delivers_everything_exactly_once(runtime, consumer, tmp_path):
    server = SmtpServer()  # not started: the port refuses connections
    register(consumer, "member-1", "en")
    consumer.handle_batch([delivery(sample(BookingConfirmed, booking_id=f"booking-{number}"))
                           for number in range(5)])
    worker = dispatcher(runtime, mail_settings(server.port, tmp_path))

    for _ in range(3):
        worker.dispatch_once()
        time.sleep(0.02)
    with runtime.session_factory() as db:
        attempts = list(db.scalars(select(side_effects.c.attempts)))
    assert len(attempts) == 5 and min(attempts) >= 2, "tried again while the server was down"
    assert record_mail_outcomes(runtime.session_factory) == 0
    assert {mail_delivery.status for mail_delivery in deliveries(runtime)} == {"pending"}

    server.start()
    try:
        dispatch_all(worker)
        worker.dispatch_once()
    finally:
        server.stop()

    ids = [mail["Message-ID"] for mail in server.messages]
    assert len(ids) == 5 and len(set(ids)) == 5
    assert record_mail_outcomes(runtime.session_factory, batch_size=2) == 5, "batch after batch until all done"
    assert {mail_delivery.status for mail_delivery in deliveries(runtime)} == {"sent"}


def test_two_workers_recording_outcomes_at_once_record_each_mail_and_its_event_once(runtime, consumer, tmp_path):
    register(consumer, "member-1", "en")
    consumer.handle_batch([delivery(sample(BookingConfirmed, booking_id=f"booking-{number}")) for number in range(30)])
    settings = MailSettings(smtp_host=None, smtp_port=25, smtp_security="none", smtp_username=None,
                            smtp_password=None, smtp_timeout=5, sender=SENDER, mail_dir=tmp_path / "mail")
    dispatch_all(dispatcher(runtime, settings))
    start = threading.Barrier(2)

    def record() -> int:
        start.wait()
        return record_mail_outcomes(runtime.session_factory, batch_size=7)

    with ThreadPoolExecutor(2) as pool:
        counts = list(pool.map(lambda _: record(), range(2)))

    assert sum(counts) == 30, counts
    assert {mail_delivery.status for mail_delivery in deliveries(runtime)} == {"sent"}
    announced = [event["notification_id"] for event in published(runtime, NotificationDelivered)
                 if event["channel"] == "email"]
    assert sorted(announced) == sorted(mail_delivery.id for mail_delivery in deliveries(runtime))
    with runtime.session_factory() as db:
        assert db.scalar(select(func.count()).select_from(side_effects)) == 0


def test_mails_whose_retries_ran_out_are_armed_again_not_lost(runtime, consumer, tmp_path):
    register(consumer, "member-1", "en")
    consumer.handle_batch([delivery(sample(BookingConfirmed))])
    dispatcher(runtime, mail_settings(free_port(), tmp_path), max_attempts=1).dispatch_once()
    with runtime.session_factory() as db:
        assert db.scalar(select(side_effects.c.status)) == "failed"

    assert record_mail_outcomes(runtime.session_factory) == 0

    with runtime.session_factory() as db:
        status, attempts, due_at = db.execute(select(side_effects.c.status, side_effects.c.attempts,
                                                     side_effects.c.due_at)).one()
    [mail_delivery] = deliveries(runtime)
    assert (status, attempts, mail_delivery.status) == ("pending", 0, "pending")
    assert due_at > mail_delivery.created_at + timedelta(minutes=10)
    assert published(runtime, NotificationFailed) == []


def test_a_duplicate_delivery_of_an_event_sends_one_mail(runtime, consumer, smtp, tmp_path):
    register(consumer, "member-1", "de")
    confirmed = delivery(sample(BookingConfirmed))

    consumer.handle_batch([confirmed, confirmed])
    consumer.handle_batch([confirmed])
    with runtime.session_factory.begin() as db:  # past the consumer's processed events, the tables still guard
        handle_booking_confirmed(parse_event(confirmed.body), db)
    worker = dispatcher(runtime, mail_settings(smtp.port, tmp_path))
    dispatch_all(worker)
    worker.dispatch_once()

    assert len(smtp.messages) == 1
    assert len(deliveries(runtime)) == 1


def test_a_permanent_refusal_is_recorded_and_published(runtime, consumer, smtp, tmp_path):
    register(consumer, "member-1", "en", email_address=REFUSED)
    register(consumer, "member-2", "en")
    consumer.handle_batch([delivery(sample(InvoiceIssued, member_id="member-1")),
                           delivery(sample(InvoiceIssued, member_id="member-2", invoice_id="invoice-2"))])

    worker = dispatcher(runtime, mail_settings(smtp.port, tmp_path))
    worker.dispatch_once()
    with runtime.session_factory() as db:
        assert db.scalar(select(side_effects.c.attempts).where(side_effects.c.status == "failed")) == 1, \
            "a refusal is not tried again"

    assert record_mail_outcomes(runtime.session_factory) == 2
    statuses = {mail_delivery.member_id: mail_delivery.status for mail_delivery in deliveries(runtime)}
    assert statuses == {"member-1": "failed", "member-2": "sent"}
    [failed] = published(runtime, NotificationFailed)
    assert failed["member_id"] == "member-1" and failed["channel"] == "email"
    assert "550" in failed["reason"]
    assert len(smtp.messages) == 1
    with runtime.session_factory() as db:
        assert db.scalar(select(func.count()).select_from(side_effects)) == 0, "recorded, the mails' copies go"


# A dispatcher process whose mail performer hangs once the server has said 250, to be killed right there.
SEND_THEN_HANG = """
import sys, time
from pathlib import Path
from services.notify.mail import MailSender
from services.notify.settings import MailSettings
from shared.db import make_engine, make_session_factory
from shared.side_effects import SideEffectDispatcher

database_url, port, mail_dir = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
sender = MailSender(MailSettings(smtp_host="127.0.0.1", smtp_port=port, smtp_security="none", smtp_username=None,
                                 smtp_password=None, smtp_timeout=5, sender="academy@academy.example",
                                 mail_dir=mail_dir))

def send_then_hang(payload, key):
    sender(payload, key)
    time.sleep(60)

SideEffectDispatcher("notify", {"email": send_then_hang}, make_session_factory(make_engine(database_url)),
                     lease_seconds=1.0).dispatch_once()
"""


def test_a_worker_killed_between_send_and_record_sends_once_more_with_the_same_message_id(
        runtime, consumer, smtp, tmp_path):
    """The documented window: the server said 250, the worker was killed (SIGKILL) before recording it; after the
    lease the mail goes once more, recognisable as the same message, and the delivery is recorded once."""
    register(consumer, "member-1", "en")
    consumer.handle_batch([delivery(sample(BookingConfirmed))])
    database_url = runtime.engine.url.render_as_string(hide_password=False)
    log = (tmp_path / "dispatcher.log").open("w")
    child = subprocess.Popen([sys.executable, "-c", SEND_THEN_HANG, database_url, str(smtp.port), str(tmp_path)],
                             cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
                             env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    try:
        deadline = time.monotonic() + 10
        while not smtp.messages:
            assert child.poll() is None, (tmp_path / "dispatcher.log").read_text()
            assert time.monotonic() < deadline, "the dispatcher process never sent"
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        child.wait(5)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(5)
        log.close()

    with runtime.session_factory() as db:
        assert db.execute(select(side_effects.c.status, side_effects.c.attempts)).one() == ("pending", 1)
    worker = dispatcher(runtime, mail_settings(smtp.port, tmp_path))
    assert worker.dispatch_once() == 0, "not sent again while the dead worker's lease lasts"
    time.sleep(1.0)
    dispatch_all(worker)

    first, second = smtp.messages
    assert first["Message-ID"] == second["Message-ID"]
    assert record_mail_outcomes(runtime.session_factory) == 1
    assert len([data for data in published(runtime, NotificationDelivered) if data["channel"] == "email"]) == 1


def test_without_smtp_each_mail_is_an_eml_file_in_the_data_folder(runtime, consumer, tmp_path):
    register(consumer, "member-1", "de")
    consumer.handle_batch([delivery(sample(BookingConfirmed))])
    settings = MailSettings(smtp_host=None, smtp_port=25, smtp_security="none", smtp_username=None,
                            smtp_password=None, smtp_timeout=5, sender=SENDER, mail_dir=tmp_path / "mail")

    dispatch_all(dispatcher(runtime, settings))

    [mail_delivery] = deliveries(runtime)
    [written] = (tmp_path / "mail").iterdir()
    assert written.name == f"{mail_delivery.id}.eml"
    mail = email.message_from_bytes(written.read_bytes(), policy=email.policy.default)
    assert mail["Subject"].startswith("Ihr Platz ist bestätigt")
    assert mail["Message-ID"] == f"<{mail_delivery.id}@academy.example>"
    assert record_mail_outcomes(runtime.session_factory) == 1


def test_switched_off_categories_reach_the_inbox_but_not_the_mailbox(runtime, consumer, client):
    register(consumer, "member-1", "en")
    response = client.put("/api/v1/notification-preferences", json={"bookings": {"email": False}},
                          headers=bearer("member-1"))
    assert response.status_code == 200

    consumer.handle_batch([delivery(sample(BookingConfirmed)), delivery(sample(InvoiceIssued))])

    assert [mail_delivery.kind for mail_delivery in deliveries(runtime)] == ["invoice_issued"]
    with runtime.session_factory() as db:
        assert {message.kind for message in db.scalars(select(InboxMessage))} == {"booking_confirmed",
                                                                                   "invoice_issued"}


def test_one_click_in_the_mail_switches_that_category_off_without_signing_in(runtime, consumer, client, smtp,
                                                                             tmp_path):
    register(consumer, "member-1", "de")
    register(consumer, "member-2", "en")
    consumer.handle_batch([delivery(sample(BookingConfirmed, booking_id="b-1", member_id="member-1")),
                           delivery(sample(BookingConfirmed, booking_id="b-2", member_id="member-2")),
                           delivery(sample(InvoiceIssued, member_id="member-1"))])
    dispatch_all(dispatcher(runtime, mail_settings(smtp.port, tmp_path)))
    mails = {mail["To"].addresses[0].addr_spec: mail for mail in smtp.messages if mail["List-Unsubscribe"]}
    assert set(mails) == {"member-1@academy.example", "member-2@academy.example"}, "the invoice has no such link"
    mail = mails["member-1@academy.example"]
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    address = mail["List-Unsubscribe"].strip("<>")
    assert address.startswith("http://localhost:8000/api/v1/notification-preferences/unsubscribe?")
    link = address.removeprefix("http://localhost:8000")
    token = parse_qs(urlsplit(link).query)["token"][0]

    looked = client.get(link)  # what a mail scanner does: it changes nothing
    assert looked.status_code == 200 and looked.json == {"category": "bookings", "email": True}
    clicked = client.post(link, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert clicked.status_code == 200 and clicked.json == {"category": "bookings", "email": False}
    assert client.post(link, data="List-Unsubscribe=One-Click").json["email"] is False, "clicking twice is fine"

    mine = client.get("/api/v1/notification-preferences", headers=bearer("member-1")).json
    theirs = client.get("/api/v1/notification-preferences", headers=bearer("member-2")).json
    assert (mine["bookings"]["email"], mine["offers"]["email"], theirs["bookings"]["email"]) == (False, True, True)
    refused = {
        "forged": client.post(link.replace(token, forged(token))),
        "locked": client.post(link.replace("category=bookings", "category=invoices")),
        "unknown category": client.post(link.replace("category=bookings", "category=spam")),
        "no token": client.post("/api/v1/notification-preferences/unsubscribe?category=bookings"),
    }
    assert {name: response.status_code for name, response in refused.items()} == {
        "forged": 404, "locked": 422, "unknown category": 422, "no token": 422}
    assert all(response.mimetype == "application/problem+json" for response in refused.values())

    consumer.handle_batch([delivery(sample(MemberDeleted, member_id="member-1"))])
    assert client.post(link).status_code == 404, "a deleted member's links end with the member"


def test_metrics_count_sent_failed_and_retried_mails_and_the_age_of_the_oldest_waiting(runtime, consumer, smtp,
                                                                                        tmp_path):
    def value(name: str, **labels) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = {outcome: value("notifications_total", channel="email", outcome=outcome)
              for outcome in ("sent", "failed", "retried")}
    inbox_before = value("notifications_total", channel="inbox", outcome="sent")
    register(consumer, "member-1", "en", email_address=REFUSED)
    register(consumer, "member-2", "en")
    consumer.handle_batch([delivery(sample(InvoiceIssued, member_id="member-1")),
                           delivery(sample(InvoiceIssued, member_id="member-2", invoice_id="invoice-2"))])
    dispatcher(runtime, mail_settings(free_port(), tmp_path)).dispatch_once()  # nobody listens: both retried
    record_mail_outcomes(runtime.session_factory)
    assert value("notifications_pending", channel="email") == 2
    assert value("notifications_pending_oldest_age_seconds", channel="email") > 0

    time.sleep(0.05)
    dispatch_all(dispatcher(runtime, mail_settings(smtp.port, tmp_path)))
    record_mail_outcomes(runtime.session_factory)

    after = {outcome: value("notifications_total", channel="email", outcome=outcome) - before[outcome]
             for outcome in ("sent", "failed", "retried")}
    assert after == {"sent": 1, "failed": 1, "retried": 2}
    assert value("notifications_total", channel="inbox", outcome="sent") - inbox_before == 2
    assert value("notifications_pending", channel="email") == 0
    assert value("notifications_pending_oldest_age_seconds", channel="email") == 0
