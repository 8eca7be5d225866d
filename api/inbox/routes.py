"""The caller's inbox (`/me/notifications`). The fan-out worker fills it; here it is read.

Reading and marking read are not contributions: blocked users may do both.
"""
from __future__ import annotations

from sqlalchemy import select

from api import presenters
from api.extensions import current_lang, db
from api.pagination import PageArgs, SortKey, keyset_page
from api.parsing import Blueprint
from api.responses import json_response
from api.security import login_required, require_user
from api.transactions import writes
from models import notifications as domain
from models.notifications import Notification
from notifications import render

from .schemas import NotificationPageSchema, UnreadCountSchema

blp = Blueprint("inbox", __name__, description="The in-app inbox of notifications")


def present(notification: Notification, lang: str) -> dict:
    return {
        "id": notification.id,
        "type": notification.type,
        "object_type": notification.object_type,
        "object_id": notification.object_id,
        "title": notification.title,
        # Rendered when read, not stored: the inbox speaks the language the app asks in today.
        "body": render.body(notification.type, notification.data or {}, lang),
        "data": {str(k): str(v) for k, v in (notification.data or {}).items()},
        "read": notification.read_at is not None,
        "created_at": presenters.iso(notification.created_at),
    }


@blp.route("/me/notifications", methods=["GET"])
@login_required(contributes=False)
@blp.arguments(PageArgs(), location="query")
@blp.response(200, NotificationPageSchema)
def inbox(args):
    """The caller's notifications, newest first, read or not."""
    stmt = select(Notification).where(Notification.user_id == require_user().id)
    # The id alone orders: it grows with every insert, so new items never shift a page.
    rows, next_cursor = keyset_page(
        db.session, stmt, [SortKey(Notification.id, descending=True)], "notifications", args["limit"], args["cursor"]
    )
    lang = current_lang()
    return json_response({"items": [present(n, lang) for n in rows], "next_cursor": next_cursor})


@blp.route("/me/notifications/unread-count", methods=["GET"])
@login_required(contributes=False)
@blp.response(200, UnreadCountSchema)
def unread_count():
    """How many notifications the caller has not read (the app's badge)."""
    return json_response({"unread": domain.unread_count(db.session, require_user().id)})


@blp.route("/me/notifications/<id:notification_id>/read", methods=["POST"])
@login_required(contributes=False)
@writes
@blp.response(204)
def mark_read(notification_id):
    """Mark one of the caller's notifications read; repeating changes nothing; anyone else's is 404."""
    domain.mark_read(db.session, require_user().id, notification_id)


@blp.route("/me/notifications/read-all", methods=["POST"])
@login_required(contributes=False)
@writes
@blp.response(204)
def mark_all_read():
    """Mark every notification of the caller read."""
    domain.mark_all_read(db.session, require_user().id)
