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
