"""`flask --app wsgi open311 ...`: API keys of the outside systems that speak Open311."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from limits import parse

from api.extensions import db
from models import open311 as domain
from models.errors import DomainError

open311_cli = AppGroup("open311", help="Open311 GeoReport v2: API keys of outside systems.")


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(2)


@open311_cli.command("create-key")
@click.argument("name")
@click.option("--rate-limit", default=None, help='Filing allowance of this key, e.g. "1000 per hour" (default: OPEN311_KEY_RATE_LIMIT).')
def create_key(name: str, rate_limit: str | None):
    """Create a key for NAME and print it, only it: it is stored hashed and cannot be shown again."""
    if rate_limit is not None:
        try:
            parse(rate_limit)
        except ValueError:
            _fail(f'not a rate limit: {rate_limit!r} (write it like "1000 per hour")')
    try:
        key = domain.create_key(db.session, name, rate_limit)
    except DomainError as error:
        db.session.rollback()
        _fail({"key_name_taken": f"a key named {name!r} exists already", "invalid_key_name": f"not a key name: {name!r} (2-80 of a-z 0-9 . _ -)"}.get(error.message_key, error.message_key))
    db.session.commit()
    click.echo(key)


@open311_cli.command("list-keys")
def list_keys():
    """Every key: name, created, revoked (or active), its rate limit."""
    for key in domain.list_keys(db.session):
        state = f"revoked {key.revoked_at.isoformat()}" if key.revoked_at else "active"
        click.echo(f"{key.name}\tcreated {key.created_at.isoformat()}\t{state}\t{key.rate_limit or 'default rate limit'}")


@open311_cli.command("revoke-key")
@click.argument("name")
def revoke_key(name: str):
    """Revoke NAME's key at once (it stays listed; requests it filed keep pointing at it)."""
    key = domain.revoke_key(db.session, name)
    if key is None:
        _fail(f"no key named {name!r}")
    db.session.commit()
    click.echo(f"revoked {name}")
