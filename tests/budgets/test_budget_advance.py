"""`flask budgets advance` (cron): scheduled phase changes and the day-before reminder."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from sqlalchemy import select

from models.audit import AuditEntry
from models.budgets import BudgetResult, reminder_due
from models.notifications import Notification
from tests.notifications.delivered import drain

API = "/api/v1"


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def advance(app):
    result = app.test_cli_runner().invoke(args=["budgets", "advance"])
    assert result.exit_code == 0, result.output
    return result.output


def rows(app, model, *where):
    with app.app_context():
        from api.extensions import db

        return db.session.scalars(select(model).where(*where).order_by(model.id if hasattr(model, "id") else model.round_id)).all()


def test_advance_moves_due_rounds_and_reminds_once(client, bud):
    app = client.application
    now = datetime.now(timezone.utc)
    members = [bud.member() for _ in range(2)]
    past, soon, later = iso(now - timedelta(minutes=5)), iso(now + timedelta(hours=12)), iso(now + timedelta(days=3))

    # Phases that end in the past are refused at creation: rounds get there by waiting,
    # which is skipped below by moving their ends directly.
    ready = bud.round(title="Bereit", proposals_end_at=soon, voting_end_at=later, items=[("A", 10)], status="proposals")
    unreviewed = bud.round(title="Ungeprüft", proposals_end_at=soon, status="proposals")
    bud.item(unreviewed["id"], "B", 10, user=members[0])
    closing = bud.round(title="Endet bald", voting_end_at=soon, items=[("C", 10)], status="voting")
    ended = bud.round(title="Vorbei", items=[("D", 10)], status="voting")
    bud.vote(ended["id"], members[0], item_ids=[ended["items"][0]["id"]])
    not_yet = bud.round(title="Später", proposals_end_at=later, items=[("E", 10)], status="proposals")
    draft = bud.round(title="Entwurf", proposals_end_at=soon, items=[("F", 10)])
    # the ends of `ended`, `ready`, `unreviewed` and `draft` have come
    with app.app_context():
        from api.extensions import db
        from models.budgets import BudgetRound

        db.session.get(BudgetRound, ended["id"]).voting_end_at = now - timedelta(seconds=1)
        for waited in (ready, unreviewed, draft):
            db.session.get(BudgetRound, waited["id"]).proposals_end_at = datetime.fromisoformat(past)
        db.session.commit()

    out = advance(app)
    assert f"round {ready['id']}: proposals -> voting" in out
    assert f"round {ended['id']}: voting -> closed" in out
    assert f"round {closing['id']}: reminder sent" in out
    assert f"round {unreviewed['id']}: waiting" in out
    status = {r["id"]: bud.get(r["id"])["status"] for r in (ready, unreviewed, closing, ended, not_yet, draft)}
    assert status == {ready["id"]: "voting", unreviewed["id"]: "proposals", closing["id"]: "voting",
                      ended["id"]: "closed", not_yet["id"]: "proposals", draft["id"]: "draft"}
    [result] = rows(app, BudgetResult)
    assert result.round_id == ended["id"] and result.outcome["ballots"] == 1

    drain(app)
    reminders = rows(app, Notification, Notification.type == "budget_voting_closes_soon")
    assert sorted(m.user_id for m in reminders) == sorted(u.id for u in members)
    assert all(m.title == "Endet bald" and m.data["round_id"] == str(closing["id"]) for m in reminders)
    opened = rows(app, Notification, Notification.type == "budget_voting_opened")
    assert {m.data["round_id"] for m in opened} >= {str(ready["id"])}

    # the scheduler is logged as actor null
    entries = rows(app, AuditEntry, AuditEntry.action == "budget_round.transition", AuditEntry.actor_id.is_(None))
    assert sorted((e.target_id, e.details["from"], e.details["to"]) for e in entries) == sorted(
        [(ready["id"], "proposals", "voting"), (ended["id"], "voting", "closed")])

    # a second run changes nothing and sends no second reminder
    advance(app)
    drain(app)
    assert len(rows(app, Notification, Notification.type == "budget_voting_closes_soon")) == len(members)
    assert len(rows(app, AuditEntry, AuditEntry.action == "budget_round.transition", AuditEntry.actor_id.is_(None))) == 2


def test_reminder_is_a_berlin_day_before():
    # Summer time starts on 29 March 2026: "a day before" 12:00 is 12:00 on the 28th, 23 hours earlier.
    end = datetime(2026, 3, 29, 10, 0, tzinfo=timezone.utc)  # 12:00 CEST
    rnd = SimpleNamespace(voting_end_at=end)
    assert not reminder_due(rnd, datetime(2026, 3, 28, 10, 59, tzinfo=timezone.utc))
    assert reminder_due(rnd, datetime(2026, 3, 28, 11, 0, tzinfo=timezone.utc))  # 12:00 CET
    assert not reminder_due(rnd, end)  # over: closing, not reminding
    assert not reminder_due(SimpleNamespace(voting_end_at=None), end)


def test_advance_with_nothing_to_do(client):
    assert advance(client.application) == ""
