"""Celery: the same drain as `flask notifications drain`, run by a worker on Redis in production.

    celery -A notifications.tasks worker --beat --loglevel=info

Celery's beat schedules `notifications.drain` every `CELERY_DRAIN_SECONDS` (2 s by default);
each run is one `Worker.drain` pass over the same outboxes in the same order as the command
(notifications.cli.worker_from_config), so the two are interchangeable and may even run side
by side: rows are claimed, never sent twice (a pass still running when the next is due just
finds fewer rows).

The Flask app supplies settings and the database engine, exactly as for the command; it is
made once per worker process, on first use (this module never imports `api/` itself: the
process bootstrap `wsgi` does).
"""
from __future__ import annotations

import logging
import os

from celery import Celery

log = logging.getLogger("notifications.tasks")

celery_app = Celery("dortmund_beteiligung")
celery_app.conf.update(
    broker_url=os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
    task_ignore_result=True,
    # A pass that dies with its worker is simply run again: claims expire, nothing is lost.
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    beat_schedule={
        "drain": {"task": "notifications.drain", "schedule": float(os.environ.get("CELERY_DRAIN_SECONDS", "2"))},
        # Photo-first uploads nobody used (the CLI `reports expire-photos` does the same from cron).
        "expire-photos": {"task": "reports.expire_photos", "schedule": 3600.0},
    },
)

_app = None


def flask_app():
    global _app
    if _app is None:
        import wsgi  # noqa: PLC0415 - the process bootstrap, once per worker process

        _app = wsgi.app
    return _app


@celery_app.task(name="notifications.drain")
def drain() -> dict:
    """One pass: expand due events, send due pushes and mails."""
    from .cli import worker_from_config

    app = flask_app()
    with app.app_context():
        result = worker_from_config(app).drain()
    counts = {name: {"done": r.sent, "retrying": r.retrying, "failed": r.failed} for name, r in result.per_outbox.items()}
    if result.total:
        log.info("drain: %s", counts)
    return counts


@celery_app.task(name="reports.expire_photos")
def expire_photos() -> int:
    """Photo-first uploads past their lifetime: rows and files go."""
    from sqlalchemy.orm import Session

    from media.storage import storage_from_config
    from models.reports import expire_unattached_photos, policy_from_config

    app = flask_app()
    with Session(bind=app.extensions["database"].engine) as session:
        removed = expire_unattached_photos(session, storage_from_config(app.config), policy_from_config(app.config), limit=10_000)
        session.commit()
    return removed
