"""A confirmed seat as an iCalendar file (RFC 5545), for the member's own calendar."""

from __future__ import annotations

from datetime import datetime

from icalendar import Calendar, Event


def booking_calendar(*, booking_id: str, title: str, starts_at: datetime, ends_at: datetime,
                     location: str | None, link: str | None, stamp: datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Virtual Cluster Academy//booking//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    # A stable UID, so importing the file again updates the entry instead of adding a second one.
    event.add("uid", f"booking-{booking_id}@academy")
    event.add("dtstamp", stamp)
    event.add("dtstart", starts_at)
    event.add("dtend", ends_at)
    event.add("summary", title)
    if location:
        event.add("location", location)
    if link:
        event.add("url", link)
        event.add("description", f"Join online: {link}")
    calendar.add_component(event)
    return calendar.to_ical()
