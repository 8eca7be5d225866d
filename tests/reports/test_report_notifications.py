"""Reports, issue 10: who hears about a report, through the outbox and the worker, never inside the request."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

from models.notifications import Notification
from models.outbox import NotificationEvent
from tests.notifications.delivered import drain, inbox
from tests.reports import helpers
from tests.reports.helpers import ALTER_MARKT, LITTER, PHOENIX_SEE, UNSAFE

API = "/api/v1"
CATEGORY_TITLE = "Wilde Müllkippe"  # illegal_dumping, the push title: no user-written text


def file_report(client, user, point=ALTER_MARKT, **overrides):
    base = UNSAFE if overrides.get("kind") == "unsafe_place" else LITTER
    return helpers.file_report(client, user, base=base, lat=point[0], lon=point[1], **overrides)


def advance(client, staff, report_id, status, note="Das Team ist informiert.", **extra):
    r = client.post(f"{API}/reports/{report_id}/updates", json={"status": status, "note": note, **extra}, headers=staff.headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def decide(client, moderator, report_id, action):
    r = client.post(
        f"{API}/moderation/decisions",
        json={"target_type": "report", "target_id": report_id, "action": action, "reason_code": "ok" if action in ("approve", "restore") else "spam"},
        headers=moderator.headers,
    )
    assert r.status_code == 201, r.get_json()


def device(client, user, token, locale="de"):
    r = client.post(f"{API}/devices", json={"token": token, "platform": "android", "locale": locale}, headers=user.headers)
    assert r.status_code == 201, r.get_json()


def recipients(app, type_, report_id=None, drain_first=True):
    items = inbox(app, type_, drain_first=drain_first)
    return sorted(i.user_id for i in items if report_id is None or i.object_id == report_id)


def count(session, model, *where):
    session.rollback()
    return session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def push():
    """The process-wide memory push gateway (PUSH_BACKEND=memory in tests), emptied around a test."""
    from notifications.push import memory_gateway

    memory_gateway.reset()
    yield memory_gateway
    memory_gateway.reset()


def test_a_status_update_reaches_reporter_and_followers_after_the_request(client, app, session, people, make_user, push):
    report = file_report(client, people.reporter)
    follower = make_user()
    assert client.put(f"{API}/reports/{report['id']}/follow", headers=follower.headers).status_code == 204
    # The staff member follows too, and still does not hear about their own update.
    assert client.put(f"{API}/reports/{report['id']}/follow", headers=people.staff.headers).status_code == 204
    device(client, people.reporter, "token-reporter")
    device(client, follower, "token-follower", "en")
    device(client, people.staff, "token-staff")
    advance(client, people.staff, report["id"], "acknowledged", "Herr Müller aus der Kolonne kommt morgen.")
    # Nothing delivered inside the request: one event, no inbox items, no pushes.
    assert count(session, NotificationEvent, NotificationEvent.type == "report_status_changed") == 1
    assert count(session, Notification) == 0 and push.sent == []
    assert recipients(app, "report_status_changed") == sorted([people.reporter.id, follower.id])
    sent = {m.token: m for m in push.sent}
    assert set(sent) == {"token-reporter", "token-follower"}
    de, en = sent["token-reporter"], sent["token-follower"]
    assert de.title == en.title == CATEGORY_TITLE
    assert de.body == "Es gibt Neues zu einer Meldung, der du folgst." and en.body == "There is news about a report you follow."
    assert de.data["type"] == "report_status_changed" and de.data["object_type"] == "report"
    assert de.data["report_id"] == str(report["id"]) and de.data["status"] == "acknowledged"
    assert de.collapse_key == f"report-{report['id']}" and de.channel == "report_updates"
    # No names and no user-written text go to the phone.
    assert "Müller" not in str(de) and "Sperrmüll" not in str(de)
    mine = client.get(f"{API}/me/notifications", headers=people.reporter.headers).get_json()["items"]
    assert [(i["type"], i["title"], i["data"]["report_id"]) for i in mine] == [("report_status_changed", CATEGORY_TITLE, str(report["id"]))]
    assert client.get(f"{API}/me/notifications", headers=people.staff.headers).get_json()["items"] == []


def test_every_update_is_told_and_a_note_has_its_own_type(client, app, people, make_user):
    report = file_report(client, people.reporter)
    for status in ("acknowledged", "in_progress", "in_progress", "resolved"):
        advance(client, people.staff, report["id"], status)
    assert recipients(app, "report_status_changed") == [people.reporter.id] * 3
    assert recipients(app, "report_update", drain_first=False) == [people.reporter.id]
    # A second staff member's update reaches the first one only if they follow.
    other = make_user("staff")
    follower_staff = people.staff
    assert client.put(f"{API}/reports/{report['id']}/follow", headers=follower_staff.headers).status_code == 204
    advance(client, other, report["id"], "resolved", "Nachtrag.")
    assert recipients(app, "report_update") == sorted([people.reporter.id, people.reporter.id, follower_staff.id])


def test_a_confirmer_follows_and_a_repeated_confirm_notifies_nobody_twice(client, app, session, people, make_user):
    report = file_report(client, people.reporter)
    neighbour = make_user()
    for _ in range(3):
        assert client.post(f"{API}/reports/{report['id']}/confirm", headers=neighbour.headers).status_code == 204
    # "Me too" tells nobody anything by itself.
    assert count(session, NotificationEvent) == 0
    advance(client, people.staff, report["id"], "in_progress")
    assert recipients(app, "report_status_changed") == sorted([people.reporter.id, neighbour.id])
    # Unfollowing after a confirm is respected.
    assert client.delete(f"{API}/reports/{report['id']}/follow", headers=neighbour.headers).status_code == 204
    assert client.post(f"{API}/reports/{report['id']}/confirm", headers=neighbour.headers).status_code == 204
    advance(client, people.staff, report["id"], "resolved")
    items = inbox(app, "report_status_changed")
    assert sorted(i.user_id for i in items if i.data.get("status") == "resolved") == [people.reporter.id]


def test_a_reopening_tells_the_followers_but_not_the_reporter(client, app, people, make_user):
    report = file_report(client, people.reporter)
    follower = make_user()
    client.put(f"{API}/reports/{report['id']}/follow", headers=follower.headers)
    advance(client, people.staff, report["id"], "resolved")
    assert client.post(f"{API}/reports/{report['id']}/reopen", json={}, headers=people.reporter.headers).status_code == 200
    assert recipients(app, "report_reopened") == [follower.id]


def test_updates_of_a_report_hidden_before_delivery_are_dropped(client, app, people, make_user, push):
    report = file_report(client, people.reporter)
    device(client, people.reporter, "token-hidden")
    advance(client, people.staff, report["id"], "acknowledged")
    decide(client, people.moderator, report["id"], "hide")
    drain(app)
    assert recipients(app, "report_status_changed", drain_first=False) == []
    # The reporter hears the moderation decision itself.
    assert [m.data["type"] for m in push.sent if m.token == "token-hidden"] == ["moderation_decision"]


# ---------------------------------------------------------------------------------------
# "Did it help?"
# ---------------------------------------------------------------------------------------


def feedback_event(session, report_id):
    session.rollback()
    return session.scalars(
        select(NotificationEvent).where(NotificationEvent.type == "report_feedback_request", NotificationEvent.object_id == report_id)
        .order_by(NotificationEvent.id)
    ).all()


def make_due(session, report_id):
    session.execute(
        update(NotificationEvent)
        .where(NotificationEvent.type == "report_feedback_request", NotificationEvent.object_id == report_id)
        .values(next_attempt_at=datetime.now(timezone.utc) - timedelta(seconds=1))
    )
    session.commit()


def test_did_it_help_is_asked_after_the_configured_delay(client, app, session, people, make_user, push):
    report = file_report(client, people.reporter)
    follower = make_user()
    client.put(f"{API}/reports/{report['id']}/follow", headers=follower.headers)
    device(client, people.reporter, "token-ask")
    device(client, follower, "token-follower")
    advance(client, people.staff, report["id"], "resolved")
    events = feedback_event(session, report["id"])
    assert len(events) == 1
    delay = timedelta(hours=app.config["REPORT_FEEDBACK_DELAY_HOURS"])
    assert delay > timedelta(0)
    resolved_at = datetime.fromisoformat(client.get(f"{API}/reports/{report['id']}").get_json()["resolved_at"])
    assert events[0].next_attempt_at == resolved_at + delay
    assert events[0].audience == {"kind": "users", "ids": [people.reporter.id]}
    # Drained at once: the status change goes out, the question waits.
    assert recipients(app, "report_feedback_request") == []
    assert [m.data["type"] for m in push.sent if m.token == "token-ask"] == ["report_status_changed"]
    make_due(session, report["id"])
    assert recipients(app, "report_feedback_request") == [people.reporter.id]
    asked = [m for m in push.sent if m.data["type"] == "report_feedback_request"]
    assert [m.token for m in asked] == ["token-ask"]
    assert asked[0].body == "Deine Meldung wurde erledigt. Hat es geholfen?" and asked[0].data["report_id"] == str(report["id"])
    # Asked once: further drains send nothing more.
    drain(app)
    assert len([m for m in push.sent if m.data["type"] == "report_feedback_request"]) == 1


def test_with_no_delay_the_question_comes_with_the_next_drain(client, app, session, people, monkeypatch):
    monkeypatch.setitem(app.config, "REPORT_FEEDBACK_DELAY_HOURS", 0)
    report = file_report(client, people.reporter)
    advance(client, people.staff, report["id"], "resolved")
    assert recipients(app, "report_feedback_request") == [people.reporter.id]


def test_a_reopened_report_is_not_asked_about(client, app, session, people):
    report = file_report(client, people.reporter)
    advance(client, people.staff, report["id"], "resolved")
    assert client.post(f"{API}/reports/{report['id']}/reopen", json={}, headers=people.reporter.headers).status_code == 200
    make_due(session, report["id"])
    assert recipients(app, "report_feedback_request") == []
    assert feedback_event(session, report["id"])[0].status != "pending"


def test_an_answered_report_is_not_asked_about(client, app, session, people):
    report = file_report(client, people.reporter)
    advance(client, people.staff, report["id"], "resolved")
    r = client.post(f"{API}/reports/{report['id']}/feedback", json={"helped": True}, headers=people.reporter.headers)
    assert r.status_code == 201
    make_due(session, report["id"])
    assert recipients(app, "report_feedback_request") == []


def test_resolved_again_after_a_reopening_asks_once_for_the_latest_resolution(client, app, session, people, push):
    report = file_report(client, people.reporter)
    device(client, people.reporter, "token-twice")
    advance(client, people.staff, report["id"], "resolved")
    # The first resolution was five minutes ago (resolution times are whole seconds).
    from models.reports import Report

    first = feedback_event(session, report["id"])[0]
    earlier = session.get(Report, report["id"]).resolved_at - timedelta(minutes=5)
    first.data = {**first.data, "resolved_at": earlier.isoformat()}
    session.execute(update(Report).where(Report.id == report["id"]).values(resolved_at=earlier))
    session.commit()
    client.post(f"{API}/reports/{report['id']}/reopen", json={}, headers=people.reporter.headers)
    advance(client, people.staff, report["id"], "resolved", "Jetzt aber wirklich.")
    assert len(feedback_event(session, report["id"])) == 2
    make_due(session, report["id"])
    assert recipients(app, "report_feedback_request") == [people.reporter.id]
    assert len([m for m in push.sent if m.data["type"] == "report_feedback_request"]) == 1


def test_a_quick_resolve_reopen_resolve_asks_only_once(client, app, session, people, monkeypatch):
    import models.reports

    report = file_report(client, people.reporter)
    # All within one second (the clock of the report service stands still).
    moment = datetime.now(timezone.utc).replace(microsecond=0)
    monkeypatch.setattr(models.reports, "utcnow", lambda: moment)
    advance(client, people.staff, report["id"], "resolved")
    assert client.post(f"{API}/reports/{report['id']}/reopen", json={}, headers=people.reporter.headers).status_code == 200
    advance(client, people.staff, report["id"], "resolved")
    events = feedback_event(session, report["id"])
    assert len(events) == 2 and events[0].data["resolved_at"] == events[1].data["resolved_at"]
    make_due(session, report["id"])
    assert recipients(app, "report_feedback_request") == [people.reporter.id]


def test_a_report_hidden_before_the_question_is_due_is_not_asked_about(client, app, session, people):
    report = file_report(client, people.reporter)
    advance(client, people.staff, report["id"], "resolved")
    decide(client, people.moderator, report["id"], "hide")
    make_due(session, report["id"])
    assert recipients(app, "report_feedback_request") == []


# ---------------------------------------------------------------------------------------
# Moderation decisions on reports
# ---------------------------------------------------------------------------------------


def test_moderation_decisions_on_a_report_tell_the_reporter(client, app, session, people, make_user, push):
    pending = file_report(client, people.reporter, PHOENIX_SEE, kind="unsafe_place")
    device(client, people.reporter, "token-mod", "en")
    decide(client, people.moderator, pending["id"], "approve")
    decide(client, people.moderator, pending["id"], "hide")
    decide(client, people.moderator, pending["id"], "restore")
    litter = file_report(client, people.reporter)
    decide(client, people.moderator, litter["id"], "reject")
    drain(app)
    items = inbox(app, "moderation_decision", drain_first=False)
    assert [(i.user_id, i.object_type, i.object_id, i.data["action"]) for i in items] == [
        (people.reporter.id, "report", pending["id"], "approve"),
        (people.reporter.id, "report", pending["id"], "hide"),
        (people.reporter.id, "report", pending["id"], "restore"),
        (people.reporter.id, "report", litter["id"], "reject"),
    ]
    # One drain sends them as one batch, in no promised order.
    bodies = sorted(m.body for m in push.sent if m.token == "token-mod")
    assert bodies == sorted([
        "Your contribution has been published.", "Your contribution has been hidden for now.",
        "Your contribution is visible again.", "Your contribution was rejected by moderation.",
    ])
    # Moderation of reports is the reporter's report news (channel and preference).
    assert {m.channel for m in push.sent if m.token == "token-mod"} == {"report_updates"}
    assert all(m.data["report_id"] in (str(pending["id"]), str(litter["id"])) for m in push.sent)


def test_flags_hiding_a_report_tell_the_reporter(client, app, people, make_user):
    report = file_report(client, people.reporter)
    for _ in range(app.config["FLAG_HIDE_THRESHOLD"]):
        r = client.post(f"{API}/flags", json={"target_type": "report", "target_id": report["id"], "reason": "offensive"}, headers=make_user().headers)
        assert r.status_code == 201
    items = inbox(app, "moderation_decision")
    assert [(i.user_id, i.object_id, i.data["action"]) for i in items] == [(people.reporter.id, report["id"], "hide")]


def test_report_pushes_follow_the_report_updates_preference(client, app, people, push):
    report = file_report(client, people.reporter)
    device(client, people.reporter, "token-off")
    prefs = {"push": {"idea_updates": True, "report_updates": False, "budget": True, "district_news": False}, "districts": [], "quiet_hours": None}
    assert client.put(f"{API}/me/preferences", json=prefs, headers=people.reporter.headers).status_code == 200
    advance(client, people.staff, report["id"], "acknowledged")
    assert recipients(app, "report_status_changed") == [people.reporter.id]  # the inbox still has it
    assert [m for m in push.sent if m.token == "token-off"] == []
