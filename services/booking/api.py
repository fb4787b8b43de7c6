"""Booking's HTTP API: book a seat, list and read one's own bookings."""

from __future__ import annotations

from flask import request
from flask.views import MethodView

from services.booking.commands import bookings_of, place_booking, visible_booking
from services.booking.schemas import BookingOut, BookingPage, BookingRequest
from shared.auth import current_principal, require_roles
from shared.idempotency import check_key, claim_key, fingerprint, save_answer
from shared.schemas import PageArgs, paginate
from shared.web import Blueprint, json_response, transaction

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
    @blp.arguments(BookingRequest)
    @blp.response(201, BookingOut)
    @blp.doc(security=[{"bearer": []}], parameters=[{"in": "header", "name": "Idempotency-Key", "required": False,
                                                      "schema": {"type": "string", "maxLength": 200}}])
    def post(self, body):
        """Book a seat: confirmed while seats last, else waitlisted"""
        member_id = current_principal().member_id
        key = request.headers.get("Idempotency-Key")
        with transaction() as db:
            if key is not None:
                key = check_key(key)
                earlier = claim_key(db, member_id, key, fingerprint("POST", request.path, body))
                if earlier is not None:
                    return json_response(earlier.body, earlier.status_code)
            answer = BookingOut().dump(place_booking(db, member_id, body["session_id"], body["format"]))
            if key is not None:
                save_answer(db, member_id, key, 201, answer)
            return json_response(answer, 201)


@blp.route("/<string:booking_id>")
class BookingById(MethodView):
    @require_roles()
    @blp.response(200, BookingOut)
    @blp.doc(security=[{"bearer": []}])
    def get(self, booking_id):
        """Read one of my bookings"""
        with transaction() as db:
            return visible_booking(db, current_principal(), booking_id)
