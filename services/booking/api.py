"""Booking's HTTP API: book a seat, cancel it, list and read one's own bookings, put one in a calendar."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView

from services.booking.commands import bookings_of, calendar_entry, cancel_booking, place_booking, visible_booking
from services.booking.schemas import BookingOut, BookingPage, BookingRequest
from shared.auth import current_principal, require_roles
from shared.schemas import PageArgs, paginate
from shared.web import Blueprint, transaction

blp = Blueprint("bookings", __name__, url_prefix="/api/v1/bookings", description="Seats and waiting lists")


@blp.route("")
class Bookings(MethodView):
    @require_roles()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, BookingPage)
    @blp.doc(security=[{"bearer": []}])
    def get(self, args):
        """List my bookings, newest first"""
        with transaction() as db:
            total, items = bookings_of(db, current_principal().member_id, args["page"], args["per_page"])
            return paginate(total, items, args)

    @require_roles("member")
    @blp.idempotent
    @blp.arguments(BookingRequest)
    @blp.response(201, BookingOut)
    @blp.doc(security=[{"bearer": []}])
    def post(self, body):
        """Book a seat: confirmed while seats last, else waitlisted"""
        with transaction() as db:
            return place_booking(db, current_principal().member_id, body["session_id"], body["format"])


@blp.route("/<string:booking_id>")
class BookingById(MethodView):
    @require_roles()
    @blp.response(200, BookingOut)
    @blp.doc(security=[{"bearer": []}])
    def get(self, booking_id):
        """Read one of my bookings"""
        with transaction() as db:
            return visible_booking(db, current_principal(), booking_id)


@blp.route("/<string:booking_id>/cancel")
class BookingCancellation(MethodView):
    @require_roles()
    @blp.response(200, BookingOut)
    @blp.doc(security=[{"bearer": []}])
    def post(self, booking_id):
        """Cancel my seat or leave the waiting list; the fee follows the policy in force when I booked

        A cancelled seat goes to the first member waiting for that format. Cancelling again answers the
        first result; after the session has started it is a 409.
        """
        with transaction() as db:
            return cancel_booking(db, current_principal(), booking_id)


@blp.route("/<string:booking_id>/calendar.ics")
class BookingCalendar(MethodView):
    @require_roles()
    @blp.response(200, content_type="text/calendar", description="An iCalendar file with the session")
    @blp.doc(security=[{"bearer": []}])
    def get(self, booking_id):
        """My confirmed seat as an iCalendar file"""
        with transaction() as db:
            entry = calendar_entry(db, current_principal(), booking_id)
        return Response(entry, mimetype="text/calendar",
                        headers={"Content-Disposition": f'attachment; filename="booking-{booking_id}.ics"'})
