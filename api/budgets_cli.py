"""`flask --app wsgi budgets ...`: counting Pabulib files with the same engine as the API."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

budgets_cli = AppGroup("budgets", help="Budget rounds and the tally engine.")


@budgets_cli.command("tally")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--rule", type=click.Choice(["greedy", "greedy-no-skip", "mes"]), default=None)
@click.option("--completion", type=click.Choice(["none", "add1"]), default=None)
def tally(file: str, rule: str | None, completion: str | None):
    """Print the selected project ids of a Pabulib file, one per line."""
    from voting.cli import main

    sys.exit(main(file, rule=rule, completion=completion))


@budgets_cli.command("advance")
def advance():
    """Move rounds whose scheduled time has come and send the day-before reminder (for cron).

    proposals → voting once `proposals_end_at` has passed and every item is reviewed;
    voting → closed once `voting_end_at` has passed (the results are computed then).
    Each round is handled in its own transaction; the scheduler is logged as actor null.
    """
    from models import budgets
    from models.base import utcnow

    from .extensions import db

    session = db.session
    now = utcnow()
    report = budgets.AdvanceReport(moved=[], reminded=[], waiting=[])
    failed = 0
    for round_id in budgets.due_round_ids(session, now):
        session.rollback()
        try:
            budgets.advance_round(session, round_id, now, report)
            session.commit()
        except Exception as exc:  # one broken round must not stop the others
            session.rollback()
            failed += 1
            click.echo(f"round {round_id}: failed: {exc}", err=True)
    session.remove()
    for round_id, frm, to in report.moved:
        click.echo(f"round {round_id}: {frm} -> {to}")
    for round_id in report.reminded:
        click.echo(f"round {round_id}: reminder sent")
    for round_id, why in report.waiting:
        click.echo(f"round {round_id}: waiting ({why})")
    if failed:
        sys.exit(1)
