"""Notify's HTTP API: a member's in-app inbox."""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from services.notify.commands import mark_read
from services.notify.models import InboxMessage
from services.notify.schemas import MarkReadRequest, NotificationArgs, NotificationOut, NotificationPage
from shared.auth import current_principal, require_roles
from shared.db import fetch_page
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
        conditions = [InboxMessage.member_id == current_principal().member_id]
        if args["unread"]:
            conditions.append(InboxMessage.read_at.is_(None))
        with transaction() as db:
            query = select(InboxMessage).where(*conditions).order_by(InboxMessage.created_at.desc(), InboxMessage.id)
            total, items = fetch_page(db, query, args["page"], args["per_page"])
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
