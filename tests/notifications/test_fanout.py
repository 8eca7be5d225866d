"""Who hears what, and how: events expanded by the worker into inbox items and pushes."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from models.notifications import Device, Notification, PushDelivery
from models.outbox import NotificationEvent
from tests.conftest import run_in_parallel
from tests.notifications.delivered import drain, inbox

API = "/api/v1"


def device(client, user, token, locale="de", platform="android"):
    r = client.post(f"{API}/devices", json={"token": token, "platform": platform, "locale": locale}, headers=user.headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def answer(client, flow, idea_id, status="under_review", text="Wir prüfen das."):
    r = client.post(f"{API}/ideas/{idea_id}/response", json={"status": status, "body": text}, headers=flow.staff.headers)
    assert r.status_code == 200, r.get_json()


def test_a_followers_phone_hears_the_city_answer(client, app, make_user, flow, push):
    author = make_user()
    idea = flow.published(author)
    follower = make_user()
    assert client.put(f"{API}/ideas/{idea['id']}/follow", headers=follower.headers).status_code == 204
    device(client, follower, "token-follower-de", "de")
    device(client, follower, "token-follower-en", "en", platform="ios")
    answer(client, flow, idea["id"])
    assert push.sent == []  # nothing leaves inside the request
    drain(app)
    sent = {m.token: m for m in push.sent}
    assert set(sent) == {"token-follower-de", "token-follower-en"}
    de, en = sent["token-follower-de"], sent["token-follower-en"]
    assert de.title == en.title == idea["title"]
    assert de.body == "Die Stadt hat auf eine Idee geantwortet, der du folgst."
    assert en.body == "The city has answered an idea you follow."
    assert de.collapse_key == f"idea-{idea['id']}" and de.channel == "idea_updates" and de.thread_id == de.collapse_key
    assert de.data["type"] == "idea_response" and de.data["object_type"] == "idea" and de.data["object_id"] == str(idea["id"])
    assert all(isinstance(v, str) for v in de.data.values())
    # No names and no user-written text beyond the title.
    assert "Wir prüfen das" not in str(de) and "User" not in de.body
    items = inbox(app, "idea_response", drain_first=False)
    assert sorted(i.user_id for i in items) == sorted([author.id, follower.id])  # the author follows their idea
    mine = client.get(f"{API}/me/notifications", headers=follower.headers).get_json()["items"]
    assert [i["type"] for i in mine] == ["idea_response"] and mine[0]["title"] == idea["title"]
    assert de.data["notification_id"] == str(next(i.id for i in items if i.user_id == follower.id))


def test_pushes_switched_off_still_reach_the_inbox(client, app, make_user, flow, push):
    idea = flow.published(make_user())
    follower = make_user()
    client.put(f"{API}/ideas/{idea['id']}/follow", headers=follower.headers)
    device(client, follower, "token-quiet")
    prefs = {"push": {"idea_updates": False, "report_updates": True, "budget": True, "district_news": False}, "districts": [], "quiet_hours": None}
    assert client.put(f"{API}/me/preferences", json=prefs, headers=follower.headers).status_code == 200
    answer(client, flow, idea["id"])
    drain(app)
    assert [m.token for m in push.sent] == []
    assert [i.user_id for i in inbox(app, "idea_response", drain_first=False) if i.user_id == follower.id] == [follower.id]


def test_ten_updates_of_one_idea_share_a_collapse_key_and_stay_ten_inbox_items(client, app, make_user, flow, push):
    author = make_user()
    idea = flow.published(author)
    device(client, author, "token-author")
    for i in range(5):
        answer(client, flow, idea["id"], "under_review", f"Stand {i}")
    for i in range(5):
        flow.comment(make_user(), idea["id"])
    drain(app)
    updates = [m for m in push.sent if m.token == "token-author" and m.data["type"] in ("idea_response", "idea_comment")]
    assert {m.collapse_key for m in updates} == {f"idea-{idea['id']}"}
    assert len(updates) == 10
    assert client.get(f"{API}/me/notifications/unread-count", headers=author.headers).get_json()["unread"] >= 10


def test_no_fan_out_in_the_request(client, app, make_user, flow, session):
    """One event row, and the same statements, whether an idea has 2,000 followers or none."""
    from api.extensions import db
    from models.ideas import Follow

    quiet_idea = flow.published(make_user())
    busy_idea = flow.published(make_user())
    followers = [make_user() for _ in range(3)]
    many = 2000
    first_id = followers[-1].id + 1000
    from models.users import User

    session.add_all(User(id=first_id + i, email=f"f{i}@example.org", email_key=f"f{i}@example.org", display_name=f"F {i}") for i in range(many))
    session.flush()
    session.add_all(Follow(idea_id=busy_idea["id"], user_id=first_id + i) for i in range(many))
    session.commit()

    def statements_of(idea_id):
        count = {"n": 0}

        def counter(*_args, **_kwargs):
            count["n"] += 1

        sa_event.listen(db.engine, "before_cursor_execute", counter)
        try:
            answer(client, flow, idea_id)
        finally:
            sa_event.remove(db.engine, "before_cursor_execute", counter)
        return count["n"]

    assert statements_of(quiet_idea["id"]) == statements_of(busy_idea["id"])
    events = session.scalars(select(NotificationEvent).where(NotificationEvent.type == "idea_response")).all()
    assert len(events) == 2
    assert session.scalar(select(func.count()).select_from(Notification).where(Notification.type == "idea_response")) == 0
    drain(app)
    responses = select(func.count()).select_from(Notification).where(Notification.object_id == busy_idea["id"], Notification.type == "idea_response")
    assert session.scalar(responses) == many + 1


def test_an_object_hidden_before_sending_is_dropped_and_leaves_the_inbox(client, app, make_user, flow, push):
    from notifications.fanout import event_outbox, push_outbox
    from notifications.worker import Worker
    from api.extensions import db
    from sqlalchemy.orm import Session

    author = make_user()
    idea = flow.published(author)
    follower = make_user()
    client.put(f"{API}/ideas/{idea['id']}/follow", headers=follower.headers)
    client.put(f"{API}/ideas/{idea['id']}/follow", headers=make_user().headers)  # no phone
    device(client, follower, "token-hidden")
    answer(client, flow, idea["id"])
    with app.app_context():
        # Expanded, but not yet sent ...
        Worker(lambda: Session(bind=db.engine), [event_outbox()]).drain()
    assert client.get(f"{API}/me/notifications/unread-count", headers=follower.headers).get_json()["unread"] == 1
    # ... when a moderator hides the idea.
    r = client.post(f"{API}/moderation/decisions", json={"target_type": "idea", "target_id": idea["id"], "action": "hide", "reason_code": "spam"}, headers=flow.moderator.headers)
    assert r.status_code == 201
    with app.app_context():
        Worker(lambda: Session(bind=db.engine), [push_outbox(push)]).drain()
    assert [m for m in push.sent if m.token == "token-hidden"] == []
    assert client.get(f"{API}/me/notifications/unread-count", headers=follower.headers).get_json()["unread"] == 0
    # Nor does the item stay with a follower who has no phone.
    assert not [i for i in inbox(app, "idea_response", drain_first=False) if i.object_id == idea["id"]]
    # An event recorded before the hide but expanded after it is dropped altogether.
    hidden_comment_idea = flow.published(make_user())
    client.put(f"{API}/ideas/{hidden_comment_idea['id']}/follow", headers=follower.headers)
    answer(client, flow, hidden_comment_idea["id"])
    client.post(f"{API}/moderation/decisions", json={"target_type": "idea", "target_id": hidden_comment_idea["id"], "action": "hide", "reason_code": "spam"}, headers=flow.moderator.headers)
    drain(app)
    assert not [i for i in inbox(app, "idea_response", drain_first=False) if i.object_id == hidden_comment_idea["id"]]


def test_the_author_hears_a_moderation_decision_on_hidden_content(client, app, make_user, flow, push):
    author = make_user()
    idea = flow.published(author)
    device(client, author, "token-author-mod")
    client.post(f"{API}/moderation/decisions", json={"target_type": "idea", "target_id": idea["id"], "action": "hide", "reason_code": "spam"}, headers=flow.moderator.headers)
    drain(app)
    hidden = [m for m in push.sent if m.token == "token-author-mod" and m.data["type"] == "moderation_decision"]
    assert [m.body for m in hidden][-1] == "Dein Beitrag wurde vorläufig ausgeblendet."


def test_a_token_fcm_calls_dead_is_never_sent_to_again(client, app, make_user, flow, push, session):
    author = make_user()
    idea = flow.published(author)
    device(client, author, "token-dead")
    push.mark_invalid("token-dead")
    answer(client, flow, idea["id"])
    drain(app)
    assert session.scalar(select(func.count()).select_from(Device).where(Device.token == "token-dead")) == 0
    push.reset()
    answer(client, flow, idea["id"], "accepted", "Angenommen")
    drain(app)
    assert [m for m in push.sent if m.token == "token-dead"] == []


def test_failed_sends_retry_with_backoff_then_give_up_and_stay_in_the_inbox(client, app, make_user, flow, push, session, monkeypatch):
    monkeypatch.setitem(app.config, "PUSH_MAX_ATTEMPTS", 3)
    author = make_user()
    idea = flow.published(author)
    device(client, author, "token-flaky")
    push.fail(100)
    answer(client, flow, idea["id"])
    drain(app)

    def latest():
        session.rollback()
        return session.scalar(select(PushDelivery).where(PushDelivery.device_id.is_not(None)).order_by(PushDelivery.id.desc()))

    delivery = latest()
    assert delivery.status == "pending" and delivery.attempts == 1 and delivery.last_error
    assert delivery.next_attempt_at > datetime.now(timezone.utc)
    for _ in range(3):
        session.execute(PushDelivery.__table__.update().values(next_attempt_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
        session.commit()
        drain(app)
    delivery = latest()
    assert delivery.status == "failed" and delivery.attempts == 3
    assert session.get(Notification, delivery.notification_id, populate_existing=True).push_failed is True
    assert client.get(f"{API}/me/notifications", headers=author.headers).get_json()["items"]


@pytest.mark.parametrize(
    "window, moment, waits_until",
    [
        (("22:00", "07:00"), "2026-12-01T23:30:00+01:00", "2026-12-02T07:00:00+01:00"),  # crosses midnight
        (("22:00", "07:00"), "2026-12-02T06:59:00+01:00", "2026-12-02T07:00:00+01:00"),
        (("12:00", "14:00"), "2026-07-01T13:00:00+02:00", "2026-07-01T14:00:00+02:00"),
        (("22:00", "07:00"), "2026-12-01T21:59:00+01:00", None),
        (("12:00", "14:00"), "2026-07-01T14:00:00+02:00", None),
    ],
)
def test_quiet_hours_hold_pushes_until_they_end(client, app, make_user, flow, push, session, monkeypatch, window, moment, waits_until):
    import notifications.fanout as fanout

    author = make_user()
    idea = flow.published(author)
    device(client, author, "token-night")
    prefs = {"push": {"idea_updates": True, "report_updates": True, "budget": True, "district_news": False}, "districts": [],
             "quiet_hours": {"start": window[0], "end": window[1]}}
    assert client.put(f"{API}/me/preferences", json=prefs, headers=author.headers).status_code == 200
    answer(client, flow, idea["id"])
    now = datetime.fromisoformat(moment).astimezone(timezone.utc)
    monkeypatch.setattr(fanout, "utcnow", lambda: now)
    with app.app_context():
        from api.extensions import db
        from sqlalchemy.orm import Session

        from notifications.fanout import event_outbox
        from notifications.worker import Worker

        Worker(lambda: Session(bind=db.engine), [event_outbox()], clock=lambda: now + timedelta(days=400)).drain()
    delivery = session.scalar(select(PushDelivery).where(PushDelivery.device_id.is_not(None)))
    if waits_until is None:
        assert delivery.next_attempt_at <= now
    else:
        assert delivery.next_attempt_at == datetime.fromisoformat(waits_until).astimezone(timezone.utc)


def test_two_drains_at_once_send_each_push_once(client, app, make_user, flow, push, session):
    from models.ideas import Follow
    from models.users import User

    ideas = [flow.published(make_user()) for _ in range(3)]
    base = 50_000
    session.add_all(User(id=base + i, email=f"p{i}@example.org", email_key=f"p{i}@example.org", display_name=f"P {i}") for i in range(60))
    session.flush()
    session.add_all(Device(user_id=base + i, token=f"tok-{i}", token_digest=f"{i:064d}", platform="android", locale="de", topics=[], topics_due=False) for i in range(60))
    session.add_all(Follow(idea_id=idea["id"], user_id=base + i) for idea in ideas for i in range(60))
    session.commit()
    for idea in ideas:
        for status in ("under_review", "accepted"):
            answer(client, flow, idea["id"], status)
    results = run_in_parallel(2, lambda i: drain(app))
    tally = Counter((m.token, m.data["notification_id"]) for m in push.sent)
    assert tally and max(tally.values()) == 1
    assert len(tally) == 60 * 3 * 2
    assert sum(r.per_outbox.get("push").sent for r in results if r.per_outbox.get("push")) == len(push.sent)


def test_a_broken_credential_file_stops_drain_with_a_message(app, tmp_path, monkeypatch):
    bad = tmp_path / "service-account.json"
    bad.write_text("{not json")
    monkeypatch.setitem(app.config, "PUSH_BACKEND", "fcm")
    monkeypatch.setitem(app.config, "GOOGLE_APPLICATION_CREDENTIALS", str(bad))
    result = app.test_cli_runner().invoke(args=["notifications", "drain"])
    assert result.exit_code != 0
    assert "Traceback" not in result.output and "credential" in result.output.lower()
