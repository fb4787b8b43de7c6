"""Notify's HTTP API: a member's in-app inbox."""

from __future__ import annotations

from flask.views import MethodView

from services.notify.commands import mark_read, messages_of
from services.notify.schemas import MarkReadRequest, NotificationArgs, NotificationOut, NotificationPage
from shared.auth import current_principal, require_roles
from shared.schemas import paginate
from shared.web import Blueprint, transaction

blp = Blueprint("notifications", __name__, url_prefix="/api/v1/notifications", description="The in-app inbox")


@blp.route("")
class Notifications(MethodView):
    @require_roles()
    @blp.arguments(NotificationArgs, location="query")
    @blp.response(200, NotificationPage)
    @blp.doc(security=[{"bearer": []}])
    def get(self, args):
        """List my messages, newest first"""
        with transaction() as db:
            total, items = messages_of(db, current_principal().member_id, args["unread"], args["page"],
                                       args["per_page"])
            return paginate(total, items, args)


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
