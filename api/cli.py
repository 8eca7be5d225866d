"""Command line: `flask --app wsgi db|users|demo|budgets ...`."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from models.errors import DomainError

from .extensions import db
from .i18n import translate

db_cli = AppGroup("db", help="Database schema and reference data.")
users_cli = AppGroup("users", help="Accounts.")
demo_cli = AppGroup("demo", help="Demo data for local use.")


@db_cli.command("upgrade")
def db_upgrade():
    """Create or migrate the database named by DATABASE_URL, with its reference data."""
    from models.reference import sync_reference_data

    from .migrate import upgrade

    url = current_app.config["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    upgrade(db.engine)
    sync_reference_data(db.session)
    click.echo("database is up to date")


@db_cli.command("purge")
def db_purge():
    """Delete stored Idempotency-Key answers older than 24 hours (run daily from cron)."""
    from models.idempotency import purge_expired

    removed = purge_expired(db.session)
    db.session.commit()
    click.echo(f"purged {removed} expired idempotency records")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--role", required=True, type=click.Choice(["resident", "moderator", "staff", "admin"]))
@click.option("--department", default=None, help="For staff: the department whose report queue is theirs (edg, ordnungsamt, ...).")
def users_create(email: str, password: str, role: str, department: str | None):
    """Create an account, or add the role to an existing one without touching its password."""
    from models.users import create_or_promote

    try:
        user, _created = create_or_promote(db.session, email, password, role, department=department)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        click.echo(f"error: {translate(exc.message_key, lang='en', **exc.params)}", err=True)
        sys.exit(2)
    click.echo(f"user {user.id} {user.email} roles={','.join(user.roles)}")


@users_cli.command("unblock")
@click.option("--email", required=True)
def users_unblock(email: str):
    """Lift a block (recovery, e.g. when every moderator is blocked); logged with no actor."""
    from models.moderation import unblock_by_operator

    found = unblock_by_operator(db.session, email)
    if found is None:
        db.session.rollback()
        click.echo(f"error: no account with the e-mail address {email}", err=True)
        sys.exit(2)
    user, lifted = found
    db.session.commit()
    click.echo(f"user {user.id} {user.email} {'unblocked' if lifted else 'was not blocked'}")


@demo_cli.command("seed")
@click.option("--ideas", default=0, type=click.IntRange(min=0), help="Number of demo ideas.")
@click.option("--reports", default=0, type=click.IntRange(min=0), help="Number of demo reports.")
@click.option("--pending", default=0, type=click.IntRange(min=0), help="Number of ideas waiting in the moderation queue.")
@click.option("--if-empty", is_flag=True, help="Do nothing when accounts exist already.")
def demo_seed(ideas: int, reports: int, pending: int, if_empty: bool):
    """Demo accounts for each role and some content for Dortmund (never in production)."""
    from .demo import seed

    if current_app.config["APP_ENV"] == "production":
        click.echo("error: demo data is refused when APP_ENV=production", err=True)
        sys.exit(2)
    seed(db.session, ideas=ideas, reports=reports, pending=pending, if_empty=if_empty, echo=click.echo)


def register_cli(app: Flask) -> None:
    for group in (db_cli, users_cli, demo_cli):
        app.cli.add_command(group)
    from .budgets_cli import budgets_cli

    app.cli.add_command(budgets_cli)
    from notifications.cli import notifications_cli

    app.cli.add_command(notifications_cli)
    from .reports.cli import reports_cli

    app.cli.add_command(reports_cli)
    from .open311.cli import open311_cli

    app.cli.add_command(open311_cli)
