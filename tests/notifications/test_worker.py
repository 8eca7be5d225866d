"""The drain worker: due rows only, retries with backoff, giving up, lost claims, racing workers."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.extensions import db as database
from models.base import utcnow
from models.delivery import FAILED, PENDING, SENT
from models.mail import MailMessage, queue_mail
from notifications.mail import Mail
from notifications.worker import Worker, mail_outbox
from tests.conftest import run_in_parallel
from tests.notifications.mailbox import Mailbox, mailbox  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parents[2]


class Recorder:
    """A gateway that records what it sent, optionally failing or taking its time."""

    def __init__(self, fail: bool = False, delay: float = 0.0):
        self.fail = fail
        self.delay = delay
        self.sent: list[Mail] = []
        self._lock = threading.Lock()

    def send(self, mail: Mail) -> None:
        if self.delay:
            time.sleep(self.delay)
        if self.fail:
            raise ConnectionRefusedError("mail server down")
        with self._lock:
            self.sent.append(mail)


class Clock:
    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


def queue(app, n: int = 1, **extra) -> list[int]:
    with app.app_context():
        mails = [queue_mail(database.session, f"r{i}@example.org", f"Betreff {i}", f"Text {i}", "test", **extra) for i in range(n)]
        database.session.commit()
        ids = [m.id for m in mails]
        database.session.remove()
    return ids


def rows(app) -> dict[int, MailMessage]:
    with app.app_context():
        found = {m.id: m for m in database.session.scalars(select(MailMessage))}
        database.session.remove()
    return found


def worker(gateway, **options) -> Worker:
    engine = database.engine
    return Worker(lambda: Session(bind=engine, expire_on_commit=False), [mail_outbox(gateway)], **options)


def test_a_drain_sends_everything_due_and_records_it(clean_app, mailbox: Mailbox):
    ids = queue(clean_app, 3)
    result = clean_app.test_cli_runner().invoke(args=["notifications", "drain"])
    assert result.exit_code == 0 and "mail: 3 sent, 0 to retry, 0 given up\n" in result.output
    from notifications.mail import MemoryMailGateway

    assert sorted(m.to for m in MemoryMailGateway.sent) == ["r0@example.org", "r1@example.org", "r2@example.org"]
    done = rows(clean_app)
    assert all(done[i].status == SENT and done[i].sent_at is not None and done[i].text == "" for i in ids)
    assert all(done[i].claim_token is None and done[i].attempts == 1 for i in ids)
    # Nothing twice.
    assert mailbox.drain() == []


def test_rows_due_later_wait(clean_app):
    (later,) = queue(clean_app)
    with clean_app.app_context():
        database.session.get(MailMessage, later).next_attempt_at = utcnow() + timedelta(minutes=1)
        database.session.commit()
        database.session.remove()
    gateway = Recorder()
    assert worker(gateway).drain().total == 0
    assert rows(clean_app)[later].status == PENDING


def test_failures_back_off_exponentially_then_give_up(clean_app):
    (mail_id,) = queue(clean_app)
    clock = Clock()
    failing = worker(Recorder(fail=True), max_attempts=3, clock=clock)

    assert failing.drain().retrying == 1
    row = rows(clean_app)[mail_id]
    assert row.status == PENDING and row.attempts == 1 and "mail server down" in row.last_error
    assert row.next_attempt_at == clock.now + timedelta(seconds=30)
    assert failing.drain().total == 0  # not due yet

    clock.advance(seconds=30)
    assert failing.drain().retrying == 1
    row = rows(clean_app)[mail_id]
    assert row.attempts == 2 and row.next_attempt_at == clock.now + timedelta(seconds=60)

    clock.advance(seconds=60)
    assert failing.drain().failed == 1
    row = rows(clean_app)[mail_id]
    assert row.status == FAILED and row.attempts == 3 and row.text == "" and "ConnectionRefusedError" in row.last_error
    clock.advance(hours=5)
    assert failing.drain().total == 0


def test_max_attempts_comes_from_the_setting(clean_app, mailbox, monkeypatch):
    from notifications.cli import worker_from_config

    monkeypatch.setitem(clean_app.config, "MAIL_MAX_ATTEMPTS", 7)
    assert worker_from_config(clean_app).max_attempts == 7


def test_a_crashed_workers_claim_expires_and_the_mail_is_sent_once(clean_app):
    (mail_id,) = queue(clean_app)
    clock = Clock()
    crashed = worker(Recorder(), clock=clock)
    session = crashed.session_factory()
    assert [r.id for r in crashed._claim(session, MailMessage, clock.now, "a" * 32)] == [mail_id]
    session.close()  # ... and the worker died before sending

    survivor = Recorder()
    assert worker(survivor, clock=clock).drain().total == 0
    clock.advance(minutes=5, seconds=1)
    assert worker(survivor, clock=clock).drain().sent == 1
    assert [m.to for m in survivor.sent] == ["r0@example.org"]
    assert rows(clean_app)[mail_id].attempts == 2


def test_a_mail_whose_worker_kept_dying_is_given_up(clean_app):
    (mail_id,) = queue(clean_app)
    clock = Clock()
    w = worker(Recorder(), max_attempts=2, clock=clock)
    for _ in range(2):
        session = w.session_factory()
        assert w._claim(session, MailMessage, clock.now, os.urandom(16).hex())
        session.close()
        clock.advance(minutes=6)
    gateway = Recorder()
    assert worker(gateway, max_attempts=2, clock=clock).drain().failed == 1
    assert gateway.sent == [] and rows(clean_app)[mail_id].status == FAILED


def test_a_mail_past_its_use_is_not_sent(clean_app):
    (mail_id,) = queue(clean_app, discard_after=utcnow() - timedelta(seconds=1))
    gateway = Recorder()
    assert worker(gateway).drain().failed == 1
    assert gateway.sent == []
    assert "expired" in rows(clean_app)[mail_id].last_error


def test_parallel_drains_send_every_mail_exactly_once(clean_app):
    ids = queue(clean_app, 60)
    gateway = Recorder(delay=0.002)
    results = run_in_parallel(4, lambda i: worker(gateway, batch_size=5).drain())
    assert sum(r.sent for r in results) == 60
    assert sorted(m.to for m in gateway.sent) == sorted(f"r{i}@example.org" for i in range(60))
    done = rows(clean_app)
    assert all(done[i].status == SENT and done[i].attempts == 1 for i in ids)


def test_parallel_drains_through_the_command_line(clean_app, mailbox):
    queue(clean_app, 30)
    from notifications.mail import MemoryMailGateway

    def drain(i):
        with clean_app.app_context():
            return clean_app.test_cli_runner().invoke(args=["notifications", "drain"]).exit_code

    assert run_in_parallel(3, drain) == [0, 0, 0]
    assert sorted(m.to for m in MemoryMailGateway.sent) == sorted(f"r{i}@example.org" for i in range(30))


def test_drain_loop_keeps_delivering_and_stops_on_sigterm(clean_app, tmp_path):
    log_file = tmp_path / "mail.jsonl"
    queue(clean_app)
    env = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": clean_app.config["DATABASE_URL"],
        "MAIL_BACKEND": "log",
        "MAIL_LOG_FILE": str(log_file),
        "REQUEST_LOG": "0",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "notifications", "drain", "--loop", "--interval", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        def lines(count: int) -> list[dict]:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                found = log_file.read_text().splitlines() if log_file.exists() else []
                if len(found) >= count:
                    return [json.loads(line) for line in found]
                time.sleep(0.1)
            raise AssertionError(f"no {count} mails in the log; stderr: {process.stderr.read() if process.poll() is not None else ''}")

        assert [m["to"] for m in lines(1)] == ["r0@example.org"]
        queue(clean_app)  # a mail queued while it runs is picked up by a later poll
        assert len(lines(2)) == 2
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert out.strip().endswith("stopped")
