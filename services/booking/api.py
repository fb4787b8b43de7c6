"""Booking's HTTP API: book a seat, list and read one's own bookings."""

from __future__ import annotations

from flask import request
from flask.views import MethodView
from sqlalchemy import select

from services.booking.commands import place_booking
from services.booking.models import Booking
from services.booking.schemas import BookingOut, BookingPage, BookingRequest
from shared.auth import current_principal, require_roles
from shared.db import fetch_page
from shared.errors import NotFound
from shared.idempotency import check_key, fingerprint, remember_answer, stored_answer
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
        member_id = current_principal().member_id
        with transaction() as session:
            query = (
                select(Booking)
                .where(Booking.member_id == member_id)
                .order_by(Booking.created_at.desc(), Booking.id)
            )
            total, items = fetch_page(session, query, args["page"], args["per_page"])
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
        with transaction() as session:
            if key is not None:
                key = check_key(key)
                request_fingerprint = fingerprint("POST", request.path, body)
                earlier = stored_answer(session, member_id, key, request_fingerprint)
                if earlier is not None:
                    return json_response(earlier[1], earlier[0])
            booking = place_booking(session, member_id, body["session_id"], body["format"])
            answer = BookingOut().dump(booking)
            if key is not None:
                remember_answer(session, member_id, key, request_fingerprint, 201, answer)
            return json_response(answer, 201)


@blp.route("/<string:booking_id>")
class BookingById(MethodView):
    @require_roles()
    @blp.response(200, BookingOut)
    @blp.doc(security=[{"bearer": []}])
    def get(self, booking_id):
        """Read one of my bookings"""
        principal = current_principal()
        with transaction() as session:
            booking = session.get(Booking, booking_id)
            # Someone else's booking is reported as missing, so ids cannot be probed.
            if booking is None or (booking.member_id != principal.member_id and not principal.has_any(["operator"])):
                raise NotFound(f"booking {booking_id} not found")
            return booking
