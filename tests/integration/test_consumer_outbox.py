"""The events a consumer's handlers record: one outbox statement for a whole batch, in the order they were recorded,
and, when the batch is applied event by event after a failure, only those of the events that went through."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from shared.bus import Outcome
from shared.consumer import EventConsumer, at_batch_end
from shared.db import make_engine, make_session_factory
from shared.events.declarations import BookingConfirmed, InvoiceIssued
from shared.outbox import record_event
from shared.tables import messaging_metadata, outbox
from shared.testing import delivery, sample
from tests.integration.sql_statements import statements_sent


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def session_factory(request, tmp_path):
    url = (f"sqlite:///{tmp_path / 'consumer.db'}" if request.param == "sqlite"
           else request.getfixturevalue("make_postgres_database")("consumer"))
    engine = make_engine(url)
    messaging_metadata.create_all(engine)
    yield make_session_factory(engine)
    engine.dispose()


def invoicing_consumer(session_factory, failing: set[str] = frozenset()) -> EventConsumer:
    def invoice(parsed, db) -> None:
        record_event(db, sample(InvoiceIssued, invoice_id=f"invoice-{parsed.data.booking_id}",
                                booking_id=parsed.data.booking_id))
        if parsed.data.booking_id in failing:
            raise RuntimeError(f"cannot invoice {parsed.data.booking_id}")

    return EventConsumer("billing", {BookingConfirmed: invoice}, session_factory)


def invoiced(session_factory) -> list[str]:
    with session_factory() as db:
        bodies = db.scalars(select(outbox.c.body).order_by(outbox.c.seq))
        return [json.loads(body)["data"]["booking_id"] for body in bodies]


def bookings(count: int) -> list:
    return [delivery(sample(BookingConfirmed, booking_id=f"booking-{number}")) for number in range(count)]


def test_a_batchs_events_go_into_the_outbox_in_one_statement_in_their_order(session_factory):
    consumer, settled = invoicing_consumer(session_factory), []
    sent = statements_sent(session_factory.kw["bind"], lambda: settled.extend(consumer.handle_batch(bookings(20))))
    outbox_inserts = [statement for statement in sent if statement.lstrip().upper().startswith("INSERT INTO OUTBOX")]

    assert [settlement.outcome for settlement in settled] == [Outcome.ACK] * 20
    assert invoiced(session_factory) == [f"booking-{number}" for number in range(20)]
    assert len(outbox_inserts) == 1


def test_after_a_failure_only_the_events_that_went_through_are_in_the_outbox(session_factory):
    settled = invoicing_consumer(session_factory, failing={"booking-3"}).handle_batch(bookings(6))

    assert [settlement.outcome for settlement in settled] == [Outcome.ACK] * 3 + [Outcome.RETRY] + [Outcome.ACK] * 2
    assert invoiced(session_factory) == ["booking-0", "booking-1", "booking-2", "booking-4", "booking-5"]


def deferring_consumer(session_factory, poison: str, writes: list[list[str]]) -> EventConsumer:
    """A handler that keeps each booking id for the end of a batch where it can, and writes a poison id nowhere."""
    def write(db) -> None:
        kept = db.info.pop("kept", [])
        writes.append(kept)
        if poison in kept:
            raise RuntimeError(f"cannot write {poison}")
        for booking_id in kept:
            record_event(db, sample(InvoiceIssued, invoice_id=f"invoice-{booking_id}", booking_id=booking_id))

    def invoice(parsed, db) -> None:
        first = "kept" not in db.info
        db.info.setdefault("kept", []).append(parsed.data.booking_id)
        if first and not at_batch_end(db, write):
            write(db)

    return EventConsumer("billing", {BookingConfirmed: invoice}, session_factory)


def test_work_kept_for_the_batchs_end_runs_once_and_a_failure_there_finds_its_event(session_factory):
    writes: list[list[str]] = []
    consumer = deferring_consumer(session_factory, "poison", writes)

    fine = consumer.handle_batch([delivery(sample(BookingConfirmed, booking_id=booking_id)) for booking_id in "12"])
    outcomes = consumer.handle_batch([delivery(sample(BookingConfirmed, booking_id=booking_id))
                                      for booking_id in ("3", "poison", "4")])

    assert [settlement.outcome for settlement in fine] == [Outcome.ACK] * 2
    assert [settlement.outcome for settlement in outcomes] == [Outcome.ACK, Outcome.RETRY, Outcome.ACK]
    assert writes == [["1", "2"], ["3", "poison", "4"], ["3"], ["poison"], ["4"]]
    assert invoiced(session_factory) == ["1", "2", "3", "4"]
