"""Devices (`/devices`) and notification preferences (`/me/preferences`) over HTTP."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from models.notifications import Device, NotificationPreferences
from tests.conftest import UserHandle, run_in_parallel

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
TOKEN = "fcm-token-" + "a" * 150
DEFAULTS = {
    "push": {"idea_updates": True, "report_updates": True, "budget": True, "district_news": False},
    "districts": [],
    "quiet_hours": None,
}
PREFERENCES = {
    "push": {"idea_updates": False, "report_updates": True, "budget": False, "district_news": True},
    "districts": ["mengede", "hombruch"],
    "quiet_hours": {"start": "22:00", "end": "07:00"},
}


def register(client, user, token=TOKEN, platform="android", **extra):
    headers = {**user.headers, **extra.pop("headers", {})}
    return client.post("/api/v1/devices", json={"token": token, "platform": platform, **extra}, headers=headers)


def listed(client, user) -> list[dict]:
    r = client.get("/api/v1/devices", headers=user.headers)
    assert r.status_code == 200
    return r.get_json()["items"]


def second_login(clean_app, user) -> UserHandle:
    """The same account logged in on another phone: a login session of its own."""
    return UserHandle(clean_app, user.id, user.email, user.password)


def test_register_list_and_delete(client, make_user):
    user = make_user()
    r = register(client, user, locale="en")
    assert r.status_code == 201, r.get_json()
    device = r.get_json()
    assert set(device) == {"id", "platform", "locale", "created_at"}
    assert device["platform"] == "android" and device["locale"] == "en" and TIME.match(device["created_at"])
    assert r.headers["Location"] == f"/api/v1/devices/{device['id']}"
    assert client.get(r.headers["Location"], headers=user.headers).get_json() == device

    # Several phones per user.
    other = register(client, user, token="second-token", platform="ios").get_json()
    assert [d["id"] for d in listed(client, user)] == [device["id"], other["id"]]

    assert client.delete(f"/api/v1/devices/{device['id']}", headers=user.headers).status_code == 204
    assert listed(client, user) == [other]
    # Gone for its former owner too: deleting again is 404.
    assert client.delete(f"/api/v1/devices/{device['id']}", headers=user.headers).status_code == 404
    assert client.get(f"/api/v1/devices/{device['id']}", headers=user.headers).status_code == 404


def test_registering_the_same_token_again_updates_that_device(client, make_user, session):
    user = make_user()
    first = register(client, user, locale="de").get_json()
    again = register(client, user, platform="web", locale="en")
    assert again.status_code == 201
    assert again.get_json()["id"] == first["id"]
    assert listed(client, user) == [{**first, "platform": "web", "locale": "en"}]
    assert session.scalar(select(func.count()).select_from(Device)) == 1


def test_a_known_token_moves_to_the_caller(client, make_user, session):
    """A shared phone or a reinstall: the token speaks for whoever registered it last."""
    alice, bob = make_user(), make_user()
    device = register(client, alice).get_json()
    moved = register(client, bob)
    assert moved.status_code == 201 and moved.get_json()["id"] == device["id"]
    assert listed(client, alice) == []
    assert [d["id"] for d in listed(client, bob)] == [device["id"]]
    # Alice cannot take it away from Bob any more.
    assert client.delete(f"/api/v1/devices/{device['id']}", headers=alice.headers).status_code == 404
    row = session.get(Device, device["id"])
    assert row.user_id == bob.id


def test_others_devices_and_unknown_ids_are_404(client, make_user):
    owner, stranger = make_user(), make_user()
    device = register(client, owner).get_json()
    for url in (f"/api/v1/devices/{device['id']}", "/api/v1/devices/999999"):
        for method in (client.get, client.delete):
            r = method(url, headers=stranger.headers)
            assert r.status_code == 404 and r.get_json()["code"] == 404
    assert [d["id"] for d in listed(client, owner)] == [device["id"]]


def test_the_token_never_appears_in_any_answer(client, make_user):
    user = make_user()
    token = "secret-token-" + "z" * 64
    answers = [register(client, user, token=token), register(client, user, token=token, headers={"Idempotency-Key": "k1"})]
    answers.append(register(client, user, token=token, headers={"Idempotency-Key": "k1"}))
    device_id = answers[0].get_json()["id"]
    answers += [
        client.get("/api/v1/devices", headers=user.headers),
        client.get(f"/api/v1/devices/{device_id}", headers=user.headers),
        client.get("/api/v1/me", headers=user.headers),
        client.delete(f"/api/v1/devices/{device_id}", headers=user.headers),
    ]
    for r in answers:
        assert r.status_code < 300
        assert token not in r.get_data(as_text=True)
        assert "token" not in (r.get_json(silent=True) or {})


def test_a_repeated_idempotency_key_replays_the_first_answer(client, make_user):
    user = make_user()
    first = register(client, user, headers={"Idempotency-Key": "phone-1"})
    repeat = register(client, user, headers={"Idempotency-Key": "phone-1"})
    assert first.status_code == repeat.status_code == 201
    assert repeat.headers["Idempotent-Replayed"] == "true" and repeat.get_json() == first.get_json()
    assert register(client, user, token="another", headers={"Idempotency-Key": "phone-1"}).status_code == 422


def test_logout_detaches_only_that_sessions_devices(client, clean_app, make_user, session):
    user = make_user()
    other_login = second_login(clean_app, user)
    kept = register(client, other_login, token="tablet").get_json()
    gone = register(client, user, token="shared-phone").get_json()

    assert client.post("/api/v1/auth/logout", headers=user.headers).status_code == 204

    assert [d["id"] for d in listed(client, other_login)] == [kept["id"]]
    detached = session.get(Device, gone["id"])
    assert detached.user_id is None and detached.auth_session_id is None and detached.topics_due is True
    assert session.get(Device, kept["id"]).user_id == user.id
    # Whoever logs in next on that phone registers the token again and owns it.
    stranger = make_user()
    assert register(client, stranger, token="shared-phone").get_json()["id"] == gone["id"]
    assert [d["id"] for d in listed(client, stranger)] == [gone["id"]]


def test_locale_defaults_to_the_request_language(client, make_user):
    user = make_user()
    english = register(client, user, token="t-en", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert english.get_json()["locale"] == "en"
    assert register(client, user, token="t-de").get_json()["locale"] == "de"
    # An explicit locale wins over the header.
    assert register(client, user, token="t-x", locale="de", headers={"Accept-Language": "en"}).get_json()["locale"] == "de"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"token": "", "platform": "android"}, "token"),
        ({"token": "   ", "platform": "android"}, "token"),
        ({"token": "x" * 4097, "platform": "android"}, "token"),
        ({"token": "a\u0000b", "platform": "android"}, "token"),
        ({"token": 12345, "platform": "android"}, "token"),
        ({"token": None, "platform": "android"}, "token"),
        ({"platform": "android"}, "token"),
        ({"token": "t", "platform": "symbian"}, "platform"),
        ({"token": "t", "platform": ["ios"]}, "platform"),
        ({"token": "t"}, "platform"),
        ({"token": "t", "platform": "ios", "locale": "fr"}, "locale"),
        ({"token": "t", "platform": "ios", "locale": 1}, "locale"),
        ({"token": "t", "platform": "ios", "user_id": 1}, "user_id"),
    ],
)
def test_bad_registrations_are_422_naming_the_field(client, make_user, session, body, field):
    r = client.post("/api/v1/devices", json=body, headers=make_user().headers)
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["errors"], r.get_json()
    assert session.scalar(select(func.count()).select_from(Device)) == 0


def test_the_longest_token_is_accepted(client, make_user):
    user = make_user()
    assert register(client, user, token="x" * 4096).status_code == 201
    # Tokens are told apart in full, not by a prefix.
    assert register(client, user, token="x" * 4095 + "y").status_code == 201
    assert len(listed(client, user)) == 2


def test_a_body_that_is_not_an_object_is_422(client, make_user):
    r = client.post("/api/v1/devices", data=json.dumps(["token"]), content_type="application/json", headers=make_user().headers)
    assert r.status_code == 422


@pytest.mark.parametrize(
    "method, url",
    [
        ("post", "/api/v1/devices"),
        ("get", "/api/v1/devices"),
        ("get", "/api/v1/devices/1"),
        ("delete", "/api/v1/devices/1"),
        ("get", "/api/v1/me/preferences"),
        ("put", "/api/v1/me/preferences"),
    ],
)
def test_a_login_is_needed(client, method, url):
    r = getattr(client, method)(url, json={"token": "t", "platform": "ios"} if method != "get" else None)
    assert r.status_code == 401 and r.get_json()["code"] == 401


def test_blocked_users_may_still_register_devices_and_choose_notifications(client, make_user):
    user, moderator = make_user(), make_user("moderator")
    assert client.put(f"/api/v1/moderation/users/{user.id}/block", json={"reason": "Spam"}, headers=moderator.headers).status_code == 204
    device = register(client, user)
    assert device.status_code == 201
    assert client.put("/api/v1/me/preferences", json=PREFERENCES, headers=user.headers).status_code == 200
    assert client.delete(f"/api/v1/devices/{device.get_json()['id']}", headers=user.headers).status_code == 204


# --- preferences -----------------------------------------------------------------------------


def test_new_accounts_have_the_default_preferences(client, make_user):
    r = client.get("/api/v1/me/preferences", headers=make_user().headers)
    assert r.status_code == 200 and r.get_json() == DEFAULTS


def test_preferences_round_trip(client, make_user, session):
    user, other = make_user(), make_user()
    r = client.put("/api/v1/me/preferences", json=PREFERENCES, headers=user.headers)
    assert r.status_code == 200
    stored = {**PREFERENCES, "districts": ["hombruch", "mengede"]}
    assert r.get_json() == stored
    assert client.get("/api/v1/me/preferences", headers=user.headers).get_json() == stored
    # Someone else's stay as they were.
    assert client.get("/api/v1/me/preferences", headers=other.headers).get_json() == DEFAULTS

    # The whole document each time: quiet hours off, districts emptied, duplicates folded.
    again = {"push": DEFAULTS["push"], "districts": ["mengede", "mengede"], "quiet_hours": None}
    assert client.put("/api/v1/me/preferences", json=again, headers=user.headers).get_json() == {**again, "districts": ["mengede"]}
    assert session.scalar(select(func.count()).select_from(NotificationPreferences)) == 1


def test_changed_preferences_mark_the_callers_devices_for_new_topics(client, make_user, session):
    user = make_user()
    device_id = register(client, user).get_json()["id"]
    session.get(Device, device_id).topics_due = False
    session.commit()
    assert client.put("/api/v1/me/preferences", json=PREFERENCES, headers=user.headers).status_code == 200
    session.expire_all()
    assert session.get(Device, device_id).topics_due is True


@pytest.mark.parametrize(
    "change, field",
    [
        ({"push": None}, "push"),
        ({"push": True}, "push"),
        ({"push": {"idea_updates": True, "report_updates": True, "budget": True}}, "push.district_news"),
        ({"push": {**DEFAULTS["push"], "idea_updates": "yes"}}, "push.idea_updates"),
        ({"push": {**DEFAULTS["push"], "budget": 1}}, "push.budget"),
        ({"push": {**DEFAULTS["push"], "report_updates": None}}, "push.report_updates"),
        ({"push": {**DEFAULTS["push"], "weather": True}}, "push.weather"),
        ({"districts": "mengede"}, "districts"),
        ({"districts": None}, "districts"),
        ({"districts": ["berlin-mitte"]}, "districts"),
        ({"districts": ["mengede", "atlantis"]}, "districts"),
        ({"districts": ["mengede"] * 13}, "districts"),
        ({"districts": [7]}, "districts.0"),
        ({"quiet_hours": "22:00-07:00"}, "quiet_hours"),
        ({"quiet_hours": {"start": "22:00"}}, "quiet_hours.end"),
        ({"quiet_hours": {"start": "24:00", "end": "07:00"}}, "quiet_hours.start"),
        ({"quiet_hours": {"start": "22:00", "end": "7:00"}}, "quiet_hours.end"),
        ({"quiet_hours": {"start": "22:60", "end": "07:00"}}, "quiet_hours.start"),
        ({"quiet_hours": {"start": "22:00:00", "end": "07:00"}}, "quiet_hours.start"),
        ({"quiet_hours": {"start": 2200, "end": "07:00"}}, "quiet_hours.start"),
        ({"quiet_hours": {"start": "22:00", "end": "07:00", "tz": "UTC"}}, "quiet_hours.tz"),
        ({"quiet_hours": {"start": "22:00", "end": "22:00"}}, "quiet_hours"),
        ({"language": "de"}, "language"),
    ],
)
def test_bad_preferences_are_422_naming_the_field(client, make_user, change, field):
    user = make_user()
    r = client.put("/api/v1/me/preferences", json={**PREFERENCES, **change}, headers=user.headers)
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["errors"], r.get_json()
    # Nothing stored: the defaults still hold.
    assert client.get("/api/v1/me/preferences", headers=user.headers).get_json() == DEFAULTS


@pytest.mark.parametrize("missing", ["push", "districts", "quiet_hours"])
def test_put_takes_the_whole_document(client, make_user, missing):
    body = {k: v for k, v in PREFERENCES.items() if k != missing}
    r = client.put("/api/v1/me/preferences", json=body, headers=make_user().headers)
    assert r.status_code == 422 and missing in r.get_json()["errors"]


def test_preference_errors_speak_german_and_english(client, make_user):
    user = make_user()
    bad = {**PREFERENCES, "quiet_hours": {"start": "25:00", "end": "07:00"}}
    german = client.put("/api/v1/me/preferences", json=bad, headers=user.headers).get_json()
    english = client.put("/api/v1/me/preferences", json=bad, headers={**user.headers, "Accept-Language": "en"}).get_json()
    assert german["errors"]["quiet_hours.start"] == ["Bitte eine Uhrzeit als HH:MM angeben (00:00 bis 23:59)."]
    assert english["errors"]["quiet_hours.start"] == ["Please give a time of day as HH:MM (00:00 to 23:59)."]
    same = {**PREFERENCES, "quiet_hours": {"start": "07:00", "end": "07:00"}}
    assert "Ruhezeit" in client.put("/api/v1/me/preferences", json=same, headers=user.headers).get_json()["errors"]["quiet_hours"][0]
    unknown = client.put("/api/v1/me/preferences", json={**PREFERENCES, "districts": ["atlantis"]}, headers={**user.headers, "Accept-Language": "en"})
    assert unknown.get_json()["errors"]["districts"] == ["Unknown district."]


def test_quiet_hours_edges_are_accepted(client, make_user):
    user = make_user()
    for start, end in (("00:00", "23:59"), ("23:59", "00:00"), ("08:30", "12:15")):
        body = {**PREFERENCES, "quiet_hours": {"start": start, "end": end}}
        r = client.put("/api/v1/me/preferences", json=body, headers=user.headers)
        assert r.status_code == 200 and r.get_json()["quiet_hours"] == {"start": start, "end": end}


def test_parallel_first_saves_of_preferences_store_one_row(clean_app, make_user, session):
    """Two phones saving at once: the later save wins, neither is refused (a PUT is no duplicate)."""
    user = make_user()
    clients = [clean_app.test_client() for _ in range(6)]
    bodies = [{**PREFERENCES, "districts": [district]} for district in ("mengede", "hombruch", "aplerbeck", "brackel", "eving", "huckarde")]
    statuses = run_in_parallel(6, lambda i: clients[i].put("/api/v1/me/preferences", json=bodies[i], headers=user.headers).status_code)
    assert statuses == [200] * 6
    assert session.scalar(select(func.count()).select_from(NotificationPreferences)) == 1
    assert clients[0].get("/api/v1/me/preferences", headers=user.headers).get_json() in bodies


def test_parallel_registrations_of_one_token_leave_one_device(clean_app, make_user, session):
    """The same token sent at once (start-up and token refresh, or two accounts on one phone)."""
    users = [make_user() for _ in range(6)]
    clients = [clean_app.test_client() for _ in range(6)]
    statuses = run_in_parallel(6, lambda i: register(clients[i], users[i], token="contested").status_code)
    assert statuses == [201] * 6
    assert session.scalar(select(func.count()).select_from(Device)) == 1
    owner = session.scalar(select(Device.user_id))
    assert sum(len(listed(clients[0], u)) for u in users) == 1 and owner in {u.id for u in users}
