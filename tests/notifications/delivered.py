"""Run the notification worker as `flask notifications drain` would, and read what it left."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session


def drain(app, push_gateway=None):
    from api.extensions import db
    from notifications.cli import worker_from_config

    # A test's own session may hold SQLite's write lock from its last query: end it first.
    db.session.commit()
    with app.app_context():
        return worker_from_config(app, push_gateway).drain()


def inbox(app, type_: str | None = None, drain_first: bool = True) -> list:
    """Inbox items (all users), oldest first, after one drain pass."""
    from api.extensions import db
    from models.notifications import Notification

    if drain_first:
        drain(app)
    with app.app_context(), Session(bind=db.engine, expire_on_commit=False) as session:
        stmt = select(Notification).order_by(Notification.id)
        if type_ is not None:
            stmt = stmt.where(Notification.type == type_)
        return list(session.scalars(stmt))
