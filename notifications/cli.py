"""`flask --app wsgi notifications drain [--loop]`: deliver what the outboxes hold."""
from __future__ import annotations

import signal
import threading

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from . import fanout, push
from .mail import gateway_from_config
from .worker import DrainResult, Worker, mail_outbox

notifications_cli = AppGroup("notifications", help="Outbox delivery: notification events, push, mail.")


def worker_from_config(app, push_gateway: push.PushGateway | None = None) -> Worker:
    """The one worker behind `notifications drain` and the Celery task: same outboxes, same order.

    Events expand first (into inbox items and pushes), then pushes and mail go out; topic
    subscriptions are brought up to date at the start of each pass.
    """
    # The app's engine, not a second one: on SQLite its writer lock makes claims take turns
    # with requests and with other workers.
    engine = app.extensions["database"].engine
    pushes = push_gateway or push.gateway_from_config(app.config)
    return Worker(
        lambda: Session(bind=engine, expire_on_commit=False),
        [
            fanout.event_outbox(),
            fanout.push_outbox(pushes, batch_size=app.config["PUSH_BATCH_SIZE"], max_attempts=app.config["PUSH_MAX_ATTEMPTS"]),
            # Mail keeps its own limit; pushes theirs (PUSH_MAX_ATTEMPTS).
            mail_outbox(gateway_from_config(app.config)),
        ],
        max_attempts=app.config["MAIL_MAX_ATTEMPTS"],
        chores=[lambda session: fanout.sync_topics(session, pushes)],
    )


def _report(result: DrainResult) -> None:
    # Events are expanded (or dropped: their object is no longer visible); the rest sent.
    for name, done, failed in (("events", "expanded", "dropped"), ("push", "sent", "given up"), ("mail", "sent", "given up")):
        counts = result.per_outbox.get(name, DrainResult())
        click.echo(f"{name}: {counts.sent} {done}, {counts.retrying} to retry, {counts.failed} {failed}")


@notifications_cli.command("drain")
@click.option("--loop", is_flag=True, help="Keep polling until SIGTERM or Ctrl-C.")
@click.option("--interval", default=2.0, type=click.FloatRange(min=0.1), show_default=True, help="Seconds between polls with --loop.")
def drain(loop: bool, interval: float):
    """Deliver every message due now and exit; with --loop keep delivering until stopped."""
    try:
        worker = worker_from_config(current_app)
    except push.PushConfigError as exc:
        # A broken credential file is an operator's mistake: say which, without a traceback.
        raise click.ClickException(str(exc)) from None
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
