"""The drain worker: claims due outbox rows, delivers them, records the outcome.

Any table with the columns of `models.delivery.Deliverable` can be drained; each is one
`Outbox` (the model and how to deliver one row), so push notifications join the same
worker later as one more `Outbox`, and a Celery task can call `Worker.drain` the same way.

Claiming, so that two workers never send one row twice:
- PostgreSQL: `SELECT ... FOR UPDATE SKIP LOCKED` picks rows no other worker is claiming
  right now, then they are marked with this claim's token, in one short transaction.
- SQLite: one UPDATE marks due, unclaimed rows with the claim's token (writers take turns,
  so no two claims overlap); the rows carrying the token are read back.
A claim lasts `claim_for`; a worker that dies mid-batch leaves rows that become due again
when it ends, so nothing is lost. Each row's outcome is committed on its own, right after
it was sent, so a crash repeats at most the one mail being sent at that moment.
"""
from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from models.base import utcnow
from models.delivery import FAILED, PENDING, SENT
from models.mail import MailMessage

from .mail import Mail, MailGateway

log = logging.getLogger("notifications.worker")


@dataclass(frozen=True)
class Verdict:
    """What became of one row of a batch: sent, to be retried, or given up (with why)."""

    sent: bool = False
    retry: bool = False
    error: str | None = None


SENT_VERDICT = Verdict(sent=True)


@dataclass(frozen=True)
class Outbox:
    name: str
    model: type
    # Sends one claimed row; raises when that failed (the row is retried later).
    deliver: Callable[[Any], None] | None = None
    # Extra column values once a row is done (sent or given up), e.g. to forget its text.
    when_done: dict = field(default_factory=dict)
    # Or: handles a whole claimed batch in the worker's session (one verdict per row, in
    # order); its writes and the rows' outcomes are committed together. For work that is
    # cheaper in bulk: FCM takes 500 messages per call, an event expands with two statements.
    deliver_batch: Callable[[Session, list], list[Verdict]] | None = None
    batch_size: int | None = None
    # Called (in the same transaction) with the rows given up for good.
    on_given_up: Callable[[Session, list], None] | None = None
    # Attempts before a row is given up; the worker's default when None.
    max_attempts: int | None = None


def mail_outbox(gateway: MailGateway) -> Outbox:
    def deliver(row: MailMessage) -> None:
        gateway.send(Mail(to=row.to_address, subject=row.subject, text=row.text))

    # A sent or abandoned mail may hold a still valid link: the database keeps no copy.
    return Outbox("mail", MailMessage, deliver, when_done={"text": ""})


@dataclass
class DrainResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    # The same counts per outbox (mail, events, push ...), for the drain's report.
    per_outbox: dict = field(default_factory=dict)

    def __iadd__(self, other: DrainResult) -> DrainResult:
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        for name, counts in other.per_outbox.items():
            self.per_outbox.setdefault(name, DrainResult()).__iadd__(counts)
        return self

    def count(self, name: str, other: DrainResult) -> None:
        """Add one outbox's outcome to the totals and to that outbox's own counts."""
        self.__iadd__(other)
        self.per_outbox.setdefault(name, DrainResult()).__iadd__(other)

    @property
    def total(self) -> int:
        return self.sent + self.retrying + self.failed


class Worker:
    def __init__(
        self,
        session_factory: Callable[[], Session],
        outboxes: list[Outbox],
        *,
        max_attempts: int = 5,
        claim_for: timedelta = timedelta(minutes=5),
        batch_size: int = 20,
        retry_after: timedelta = timedelta(seconds=30),
        longest_wait: timedelta = timedelta(hours=1),
        clock: Callable[[], datetime] = utcnow,
        chores: list[Callable[[Session], Any]] = (),
    ):
        self.session_factory = session_factory
        self.outboxes = outboxes
        # Run at the start of every pass (FCM topic subscriptions, say), before the outboxes.
        self.chores = list(chores)
        self.max_attempts = max_attempts
        self.claim_for = claim_for
        self.batch_size = batch_size
        self.retry_after = retry_after
        self.longest_wait = longest_wait
        self.clock = clock

    # --- one pass -----------------------------------------------------------------------------

    def drain(self, stop: threading.Event | None = None) -> DrainResult:
        """Deliver every row that is due now; rows that come due later wait for the next pass."""
        cutoff = self.clock()
        result = DrainResult()
        session = self.session_factory()
        try:
            for chore in self.chores:
                chore(session)
            for outbox in self.outboxes:
                while stop is None or not stop.is_set():
                    token = secrets.token_hex(16)
                    rows = self._claim(session, outbox.model, cutoff, token, outbox.batch_size or self.batch_size)
                    if not rows:
                        break
                    if outbox.deliver_batch is not None:
                        result.count(outbox.name, self._deliver_batch(session, outbox, rows, token))
                        continue
                    for row in rows:
                        if stop is not None and stop.is_set():
                            # Unsent rows of this claim become due again when it ends.
                            break
                        result.count(outbox.name, self._deliver(session, outbox, row, token))
        finally:
            session.close()
        return result

    def run(self, stop: threading.Event, interval: float = 2.0, on_pass: Callable[[DrainResult], None] | None = None) -> None:
        """Drain again and again until `stop` is set (SIGTERM, Ctrl-C); finishes the mail in hand."""
        while not stop.is_set():
            try:
                result = self.drain(stop)
            except Exception:  # a lost database, say: keep the worker alive, try again shortly
                log.exception("drain pass failed")
                result = DrainResult()
            if on_pass is not None and result.total:
                on_pass(result)
            stop.wait(interval)

    # --- claiming -----------------------------------------------------------------------------

    def _claim(self, session: Session, model: type, cutoff: datetime, token: str, batch_size: int | None = None) -> list:
        batch_size = batch_size or self.batch_size
        now = self.clock()
        due = and_(
            model.status == PENDING,
            model.next_attempt_at <= cutoff,
            or_(model.claimed_until.is_(None), model.claimed_until < now),
        )
        oldest_first = (model.next_attempt_at, model.id)
        claim = {"claim_token": token, "claimed_until": now + self.claim_for, "attempts": model.attempts + 1}
        try:
            if session.get_bind().dialect.name == "postgresql":
                ids = session.scalars(
                    select(model.id).where(due).order_by(*oldest_first).limit(batch_size).with_for_update(skip_locked=True)
                ).all()
                if not ids:
                    session.rollback()
                    return []
                session.execute(
                    update(model).where(model.id.in_(ids)).values(**claim), execution_options={"synchronize_session": False}
                )
            else:
                # SQLite: the write transaction (BEGIN IMMEDIATE) is the lock; `due` is
                # checked again on the rows themselves for databases that would let two
                # such updates run at once.
                batch = select(model.id).where(due).order_by(*oldest_first).limit(batch_size)
                session.execute(
                    update(model).where(model.id.in_(batch.scalar_subquery()), due).values(**claim),
                    execution_options={"synchronize_session": False},
                )
            rows = session.scalars(
                select(model).where(model.claim_token == token).order_by(*oldest_first).execution_options(populate_existing=True)
            ).all()
            session.commit()
            return list(rows)
        except BaseException:
            session.rollback()
            raise

    def _backoff(self, attempts: int) -> timedelta:
        """Exponential: retry_after, twice that, four times ... at most longest_wait."""
        return min(self.retry_after * 2 ** (attempts - 1), self.longest_wait)

    # --- a batch ------------------------------------------------------------------------------

    def _deliver_batch(self, session: Session, outbox: Outbox, rows: list, token: str) -> DrainResult:
        now = self.clock()
        verdicts: dict[int, Verdict] = {}
        live = []
        for row in rows:
            if row.attempts > (outbox.max_attempts or self.max_attempts):
                verdicts[row.id] = Verdict(error="gave up: no outcome after the last attempt")
            elif row.discard_after is not None and row.discard_after < now:
                verdicts[row.id] = Verdict(error="expired before it could be delivered")
            else:
                live.append(row)
        if live:
            try:
                for row, verdict in zip(live, outbox.deliver_batch(session, live)):
                    verdicts[row.id] = verdict
            except Exception as exc:  # the whole batch failed (database, gateway): retry it
                session.rollback()
                log.exception("%s batch failed", outbox.name)
                error = f"{type(exc).__name__}: {exc}"[:500]
                verdicts.update({row.id: Verdict(retry=True, error=error) for row in live})
        return self._record_batch(session, outbox, rows, token, verdicts, now)

    def _record_batch(self, session: Session, outbox: Outbox, rows: list, token: str, verdicts: dict, now: datetime) -> DrainResult:
        """Every row's outcome in one transaction with the batch's own writes."""
        model = outbox.model
        result = DrainResult()
        sent = [r.id for r in rows if verdicts[r.id].sent]
        given_up = []
        try:
            if sent:
                for start in range(0, len(sent), 500):
                    session.execute(
                        update(model)
                        .where(model.id.in_(sent[start:start + 500]), model.claim_token == token)
                        .values(status=SENT, sent_at=now, last_error=None, claim_token=None, claimed_until=None, **outbox.when_done),
                        execution_options={"synchronize_session": False},
                    )
                result.sent += len(sent)
            for row in rows:
                verdict = verdicts[row.id]
                if verdict.sent:
                    continue
                if verdict.retry and row.attempts < (outbox.max_attempts or self.max_attempts):
                    wait = self._backoff(row.attempts)
                    values = {"next_attempt_at": now + wait, "last_error": verdict.error}
                    result.retrying += 1
                else:
                    values = {"status": FAILED, "last_error": verdict.error, **outbox.when_done}
                    given_up.append(row)
                    result.failed += 1
                session.execute(
                    update(model).where(model.id == row.id, model.claim_token == token)
                    .values(claim_token=None, claimed_until=None, **values),
                    execution_options={"synchronize_session": False},
                )
            if given_up and outbox.on_given_up is not None:
                outbox.on_given_up(session, given_up)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        return result

    # --- one row ------------------------------------------------------------------------------

    def _deliver(self, session: Session, outbox: Outbox, row, token: str) -> DrainResult:
        now = self.clock()
        max_attempts = outbox.max_attempts or self.max_attempts
        if row.attempts > max_attempts:
            # Claimed that often without an outcome: the worker died while sending it.
            return self._finish(session, outbox, row, token, FAILED, "gave up: no outcome after the last attempt")
        if row.discard_after is not None and row.discard_after < now:
            return self._finish(session, outbox, row, token, FAILED, "expired before it could be delivered")
        try:
            outbox.deliver(row)
        except Exception as exc:  # any gateway failure: retry later, give up at the limit
            error = f"{type(exc).__name__}: {exc}"[:500]
            if row.attempts >= max_attempts:
                log.warning("%s %s given up after %d attempts: %s", outbox.name, row.id, row.attempts, error)
                return self._finish(session, outbox, row, token, FAILED, error)
            wait = self._backoff(row.attempts)
            self._update(session, outbox.model, row, token, next_attempt_at=now + wait, last_error=error)
            return DrainResult(retrying=1)
        return self._finish(session, outbox, row, token, SENT, None)

    def _finish(self, session: Session, outbox: Outbox, row, token: str, status: str, error: str | None) -> DrainResult:
        values = {"status": status, "last_error": error, **outbox.when_done}
        if status == SENT:
            values["sent_at"] = self.clock()
        self._update(session, outbox.model, row, token, **values)
        return DrainResult(sent=1) if status == SENT else DrainResult(failed=1)

    def _update(self, session: Session, model: type, row, token: str, **values) -> None:
        try:
            result = session.execute(
                update(model)
                .where(model.id == row.id, model.claim_token == token)
                .values(claim_token=None, claimed_until=None, **values),
                execution_options={"synchronize_session": False},
            )
            session.commit()
        except BaseException:
            session.rollback()
            raise
        if result.rowcount == 0:
            # Our claim ran out (the send took longer than `claim_for`) and another worker
            # took the row over: it decides the outcome now.
            log.warning("claim on %s %s expired before its outcome was recorded", model.__tablename__, row.id)
