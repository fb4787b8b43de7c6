"""Booking's HTTP API: book a seat, cancel it, list and read one's own bookings, put one in a calendar."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView

from services.booking.commands import (
    bookings_of,
    calendar_entry,
    cancel_booking,
    certificate_for_verification,
    certificate_pdf,
    participants_of,
    place_booking,
    record_attendance,
    visible_booking,
)
from services.booking.schemas import (
    AttendanceList,
    AttendanceRequest,
    BookingListArgs,
    BookingOut,
    BookingPage,
    BookingRequest,
    CertificateVerification,
    ParticipantList,
)
from shared.auth import current_principal, require_roles
from shared.schemas import paginate
from shared.web import Blueprint, transaction

blp = Blueprint("bookings", __name__, url_prefix="/api/v1/bookings", description="Seats and waiting lists")
attendance_blp = Blueprint("attendance", __name__, url_prefix="/api/v1/sessions",
                           description="Who attended a session (its provider)")
certificates_blp = Blueprint("certificates", __name__, url_prefix="/api/v1/certificates",
                             description="Participation certificates and their public verification")


@blp.route("")
class Bookings(MethodView):
    @require_roles()
    @blp.arguments(BookingListArgs, location="query")
    @blp.response(200, BookingPage)
    @blp.doc(security=[{"bearer": []}])
    def get(self, args):
        """List my bookings, newest first (operators: anyone's, with member_id)"""
        filters = {name: value for name, value in args.items() if name not in ("page", "per_page")}
        with transaction() as db:
            total, items = bookings_of(db, current_principal(), filters, args["page"], args["per_page"])
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


@attendance_blp.route("/<string:session_id>/attendance")
class SessionAttendance(MethodView):
    @require_roles("member")
    @attendance_blp.arguments(AttendanceRequest)
    @attendance_blp.response(200, AttendanceList)
    @attendance_blp.doc(security=[{"bearer": []}])
    def post(self, body, session_id):
        """Record who attended my session; sending the list again replaces it (for 14 days after the end)

        Attendees get a participation certificate; a member dropped from the list loses theirs.
        """
        with transaction() as db:
            holders = record_attendance(db, current_principal(), session_id, body["booking_ids"])
            return {"items": holders}


@attendance_blp.route("/<string:session_id>/participants")
class SessionParticipants(MethodView):
    @require_roles("member")
    @attendance_blp.response(200, ParticipantList)
    @attendance_blp.doc(security=[{"bearer": []}])
    def get(self, session_id):
        """Who holds a seat of my session or waits for one, by name"""
        with transaction() as db:
            return {"items": participants_of(db, current_principal(), session_id)}


@certificates_blp.route("/<string:certificate_id>")
class CertificateById(MethodView):
    @certificates_blp.response(200, CertificateVerification)
    def get(self, certificate_id):
        """Verify a certificate: the holder, the offer and the date, and whether it is valid; nothing else"""
        with transaction() as db:
            return certificate_for_verification(db, certificate_id)


@certificates_blp.route("/<string:certificate_id>.pdf")
class CertificatePdf(MethodView):
    @require_roles()
    @certificates_blp.response(200, content_type="application/pdf", description="The certificate as a PDF")
    @certificates_blp.doc(security=[{"bearer": []}])
    def get(self, certificate_id):
        """My participation certificate as a PDF"""
        with transaction() as db:
            document = certificate_pdf(db, current_principal(), certificate_id)
        return Response(document, mimetype="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="certificate-{certificate_id}.pdf"'})
