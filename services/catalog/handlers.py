"""Catalog's event handlers: read models of the competence framework, the demand, who attended which session and
what offers' attendees learned."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.catalog import demand, framework, learning_gain, ratings, search
from shared.consumer import HandlerRegistry
from shared.events import ParsedEvent
from shared.events.declarations import (
    AttendanceRecorded,
    AvailabilityChanged,
    DemandUpdated,
    FrameworkPublished,
    LearningGainRecorded,
)


def framework_published(event: ParsedEvent[FrameworkPublished], db: Session) -> None:
    framework.keep_latest(db, event.data)


def demand_updated(event: ParsedEvent[DemandUpdated], db: Session) -> None:
    demand.keep_latest(db, event.data)


def attendance_recorded(event: ParsedEvent[AttendanceRecorded], db: Session) -> None:
    """Who attended may rate the session."""
    ratings.keep_attendance(db, event.data)


def learning_gain_recorded(event: ParsedEvent[LearningGainRecorded], db: Session) -> None:
    learning_gain.keep_latest(db, event.data)


def availability_changed(event: ParsedEvent[AvailabilityChanged], db: Session) -> None:
    """Free seats for the search's filter."""
    search.keep_availability(db, event.data.session_id, {seats.format: seats.free for seats in event.data.formats},
                             event.data.changed_at)


HANDLERS: HandlerRegistry = {
    FrameworkPublished: framework_published,
    DemandUpdated: demand_updated,
    AttendanceRecorded: attendance_recorded,
    LearningGainRecorded: learning_gain_recorded,
    AvailabilityChanged: availability_changed,
}
