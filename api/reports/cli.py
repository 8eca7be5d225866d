"""`flask --app wsgi reports ...`: upkeep of the report service (for cron or Celery beat)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from api.extensions import db

reports_cli = AppGroup("reports", help="Litter reports and unsafe places.")


@reports_cli.command("expire-photos")
def expire_photos():
    """Delete photo-first uploads no report took within PHOTO_UPLOAD_TTL_HOURS (rows and files)."""
    from models.reports import expire_unattached_photos

    from .routes import photo_storage, report_policy

    total = 0
    while True:
        removed = expire_unattached_photos(db.session, photo_storage(), report_policy())
        db.session.commit()
        total += removed
        if removed == 0:
            break
    click.echo(f"expired {total} unused photo uploads")
