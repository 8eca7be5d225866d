"""District news: FCM topics per district and locale, inbox items for subscribers, topic upkeep."""
from __future__ import annotations

from sqlalchemy import func, select

from models.notifications import Device
from tests.notifications.delivered import drain, inbox

API = "/api/v1"


def subscribe(client, user, districts, locale="de", token=None, news=True, quiet=None):
    token = token or f"tok-{user.id}-{locale}"
    assert client.post(f"{API}/devices", json={"token": token, "platform": "android", "locale": locale}, headers=user.headers).status_code == 201
    prefs = {"push": {"idea_updates": True, "report_updates": True, "budget": True, "district_news": news}, "districts": districts, "quiet_hours": quiet}
    assert client.put(f"{API}/me/preferences", json=prefs, headers=user.headers).status_code == 200
    return token


def post_news(client, staff, district):
    r = client.post(f"{API}/news", json={"title": "Wochenmarkt verlegt", "body": "Ab Samstag auf dem Friedensplatz.", "kind": "news", "district": district}, headers=staff.headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_district_news_goes_to_its_topics_once_per_locale_and_to_subscribers_inboxes(client, app, make_user, push):
    staff = make_user("staff")
    hoerde_de, eving_en, nobody = make_user(), make_user(), make_user()
    t1 = subscribe(client, hoerde_de, ["hoerde"], "de", quiet={"start": "00:00", "end": "23:59"})
    t2 = subscribe(client, eving_en, ["eving"], "en")
    subscribe(client, nobody, [], "de", news=False)
    drain(app)
    assert push.subscribers("news-hoerde-de") == {t1} and push.subscribers("news-dortmund-de") == {t1}
    assert push.subscribers("news-eving-en") == {t2} and push.subscribers("news-dortmund-en") == {t2}

    item = post_news(client, staff, "hoerde")
    drain(app)
    # One call per locale, whatever the audience; quiet hours do not hold broadcasts back.
    assert sorted((m.topic, m.body) for m in push.topic_sent) == [
        ("news-hoerde-de", "Neues aus deinem Stadtbezirk."), ("news-hoerde-en", "News from your district.")]
    assert all(m.title == "Wochenmarkt verlegt" and m.data["object_id"] == str(item["id"]) for m in push.topic_sent)
    assert push.sent == []  # no personal pushes for a broadcast
    assert [i.user_id for i in inbox(app, "district_news", drain_first=False)] == [hoerde_de.id]

    push.reset()
    post_news(client, staff, None)
    drain(app)
    assert sorted(m.topic for m in push.topic_sent) == ["news-dortmund-de", "news-dortmund-en"]
    assert sorted(i.user_id for i in inbox(app, "district_news", drain_first=False))[-2:] == sorted([hoerde_de.id, eving_en.id])


def test_withdrawn_news_is_not_pushed(client, app, make_user, push):
    staff = make_user("staff")
    subscribe(client, make_user(), ["hoerde"])
    item = post_news(client, staff, "hoerde")
    assert client.delete(f"{API}/news/{item['id']}", headers=staff.headers).status_code == 204
    drain(app)
    assert push.topic_sent == [] and inbox(app, "district_news", drain_first=False) == []


def test_topics_follow_preferences_and_logout(client, app, make_user, push, session):
    user = make_user()
    token = subscribe(client, user, ["hoerde", "eving"])
    drain(app)
    assert token in push.subscribers("news-eving-de")
    prefs = {"push": {"idea_updates": True, "report_updates": True, "budget": True, "district_news": True}, "districts": ["hoerde"], "quiet_hours": None}
    client.put(f"{API}/me/preferences", json=prefs, headers=user.headers)
    drain(app)
    assert token not in push.subscribers("news-eving-de") and token in push.subscribers("news-hoerde-de")
    assert client.post(f"{API}/auth/logout", headers=user.headers).status_code == 204
    drain(app)
    assert all(token not in push.subscribers(t) for t in ("news-hoerde-de", "news-dortmund-de"))
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Device).where(Device.token == token)) == 0


def test_topic_subscriptions_go_in_batches_of_at_most_1000(app, make_user, push, session, monkeypatch):
    from models.notifications import NotificationPreferences, token_digest
    from models.users import User

    base = 70_000
    session.add_all(User(id=base + i, email=f"n{i}@example.org", email_key=f"n{i}@example.org", display_name=f"N {i}") for i in range(2500))
    session.flush()
    session.add_all(NotificationPreferences(user_id=base + i, district_news=True, districts=["mengede"]) for i in range(2500))
    session.add_all(Device(user_id=base + i, token=f"t{i}", token_digest=token_digest(f"t{i}"), platform="ios", locale="de", topics=[], topics_due=True) for i in range(2500))
    session.commit()
    calls = []
    real = push.subscribe
    monkeypatch.setattr(push, "subscribe", lambda tokens, topic: calls.append((topic, len(tokens))) or real(tokens, topic))
    drain(app)
    by_topic = {}
    for topic, size in calls:
        by_topic.setdefault(topic, []).append(size)
    assert by_topic == {"news-mengede-de": [1000, 1000, 500], "news-dortmund-de": [1000, 1000, 500]}


def test_a_password_reset_detaches_every_phone_of_the_account(client, app, make_user, session):
    """Whoever held the account (and its phones) stops hearing its news once it is reset."""
    from models.users import revoke_sessions

    user = make_user()
    assert client.post(f"{API}/devices", json={"token": "old-phone", "platform": "ios"}, headers=user.headers).status_code == 201
    session.rollback()
    revoke_sessions(session, user.id)
    session.commit()
    assert session.scalar(select(Device.user_id).where(Device.token == "old-phone")) is None
