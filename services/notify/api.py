"""Notify's HTTP API: a member's in-app inbox and notification preferences."""

from __future__ import annotations

from flask.views import MethodView

from services.notify.commands import (
    mark_all_read,
    mark_read,
    member_of_unsubscribe_token,
    messages_of,
    preferences_of,
    set_preferences,
    unread_count,
    unsubscribe,
)
from services.notify.schemas import (
    MarkedAllRead,
    MarkReadRequest,
    NotificationArgs,
    NotificationOut,
    NotificationPage,
    PreferencesIn,
    PreferencesOut,
    UnsubscribeArgs,
    UnsubscribeOut,
)
from shared.auth import current_principal, require_roles
from shared.schemas import paginate
from shared.web import Blueprint, transaction

blp = Blueprint("notifications", __name__, url_prefix="/api/v1/notifications", description="The in-app inbox")
preferences_blp = Blueprint("notification-preferences", __name__, url_prefix="/api/v1/notification-preferences",
                            description="Which messages also come by e-mail")


@blp.route("")
class Notifications(MethodView):
    @require_roles()
    @blp.arguments(NotificationArgs, location="query")
    @blp.response(200, NotificationPage)
    @blp.doc(security=[{"bearer": []}])
    def get(self, args):
        """List my messages, newest first, with how many are unread"""
        member_id = current_principal().member_id
        with transaction() as db:
            total, items = messages_of(db, member_id, args["unread"], args["page"], args["per_page"])
            return {**paginate(total, items, args), "unread": unread_count(db, member_id)}


@blp.route("/read")
class AllNotificationsRead(MethodView):
    @require_roles()
    @blp.arguments(MarkReadRequest)
    @blp.response(200, MarkedAllRead)
    @blp.doc(security=[{"bearer": []}])
    def post(self, _body):
        """Mark all my messages read"""
        member_id = current_principal().member_id
        with transaction() as db:
            return {"marked": mark_all_read(db, member_id), "unread": 0}


@blp.route("/<string:notification_id>/read")
class NotificationRead(MethodView):
    @require_roles()
    @blp.arguments(MarkReadRequest)
    @blp.response(200, NotificationOut)
    @blp.doc(security=[{"bearer": []}])
    def post(self, _body, notification_id):
        """Mark one of my messages read"""
        member_id = current_principal().member_id
        with transaction() as db:
            return mark_read(db, member_id, notification_id)


@preferences_blp.route("")
class NotificationPreferences(MethodView):
    @require_roles()
    @preferences_blp.response(200, PreferencesOut)
    @preferences_blp.doc(security=[{"bearer": []}])
    def get(self):
        """My e-mail choice per category (the inbox always gets everything)"""
        with transaction() as db:
            return preferences_of(db, current_principal().member_id)

    @require_roles()
    @preferences_blp.arguments(PreferencesIn)
    @preferences_blp.response(200, PreferencesOut)
    @preferences_blp.doc(security=[{"bearer": []}])
    def put(self, body):
        """Switch e-mail on or off per category; invoices and cancellations cannot be switched off"""
        choices = {category: choice["email"] for category, choice in body.items()}
        with transaction() as db:
            return set_preferences(db, current_principal().member_id, choices)


@preferences_blp.route("/unsubscribe")
class OneClickUnsubscribe(MethodView):
    """The List-Unsubscribe address of every optional mail (RFC 8058): the token in it stands for the member."""

    @preferences_blp.arguments(UnsubscribeArgs, location="query")
    @preferences_blp.response(200, UnsubscribeOut)
    def get(self, args):
        """Say what the link would switch off, changing nothing (mail scanners open links; only a POST acts)"""
        with transaction() as db:
            member = member_of_unsubscribe_token(db, args["token"])
            return {"category": args["category"],
                    "email": preferences_of(db, member.member_id)[args["category"]]["email"]}

    @preferences_blp.arguments(UnsubscribeArgs, location="query")
    @preferences_blp.response(200, UnsubscribeOut)
    def post(self, args):
        """Switch this category's e-mail off in one click, without signing in (invoices and cancellations: 422)"""
        with transaction() as db:
            return unsubscribe(db, args["token"], args["category"])
