"""`flask --app wsgi notifications drain [--loop]`: deliver what the outboxes hold."""
from __future__ import annotations

import signal
import threading

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from .mail import gateway_from_config
from .worker import DrainResult, Worker, mail_outbox

notifications_cli = AppGroup("notifications", help="Outbox delivery (mail now; push joins the same worker).")


def worker_from_config(app) -> Worker:
    # The app's engine, not a second one: on SQLite its writer lock makes claims take turns
    # with requests and with other workers.
    engine = app.extensions["database"].engine
    return Worker(
        lambda: Session(bind=engine, expire_on_commit=False),
        [mail_outbox(gateway_from_config(app.config))],
        max_attempts=app.config["MAIL_MAX_ATTEMPTS"],
    )


def _report(result: DrainResult) -> None:
    click.echo(f"mail: {result.sent} sent, {result.retrying} to retry, {result.failed} given up")


@notifications_cli.command("drain")
@click.option("--loop", is_flag=True, help="Keep polling until SIGTERM or Ctrl-C.")
@click.option("--interval", default=2.0, type=click.FloatRange(min=0.1), show_default=True, help="Seconds between polls with --loop.")
def drain(loop: bool, interval: float):
    """Deliver every message due now and exit; with --loop keep delivering until stopped."""
    worker = worker_from_config(current_app)
    if not loop:
        _report(worker.drain())
        return
    stop = threading.Event()
    previous = {}

    def request_stop(signum, frame):  # noqa: ARG001
        stop.set()

    # Stopping waits for the mail being sent, so none is sent twice or left half recorded.
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous[signum] = signal.signal(signum, request_stop)
    try:
        worker.run(stop, interval=interval, on_pass=_report)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    click.echo("stopped")
