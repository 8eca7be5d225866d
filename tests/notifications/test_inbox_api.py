"""The in-app inbox (`/me/notifications`) over HTTP.

The fan-out worker fills the inbox; here items are written straight into the database.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from models.base import utcnow
from models.notifications import Notification

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
INBOX = "/api/v1/me/notifications"


@pytest.fixture
def deliver(session):
    """Put items into a user's inbox, as the worker would; returns their ids, oldest first."""

    def put(user, count: int = 1, type: str = "idea_status_changed", data: dict | None = None, read: bool = False) -> list[int]:  # noqa: A002
        start = utcnow() - timedelta(hours=1)
        rows = [
            Notification(
                user_id=user.id, type=type, object_type="idea", object_id=100 + i, title=f"Idee {i}",
                data={"idea_id": str(100 + i), "status": "accepted", **(data or {})},
                created_at=start + timedelta(seconds=i), read_at=utcnow() if read else None,
            )
            for i in range(count)
        ]
        session.add_all(rows)
        session.commit()
        return [r.id for r in rows]

    return put


def unread(client, user) -> int:
    r = client.get(f"{INBOX}/unread-count", headers=user.headers)
    assert r.status_code == 200
    return r.get_json()["unread"]


def test_the_inbox_shows_the_callers_items_newest_first(client, make_user, deliver):
    alice, bob = make_user(), make_user()
    ids = deliver(alice, 3)
    deliver(bob, 2)
    r = client.get(INBOX, headers=alice.headers)
    assert r.status_code == 200
    page = r.get_json()
    assert page["next_cursor"] is None
    assert [n["id"] for n in page["items"]] == ids[::-1]
    newest = page["items"][0]
    assert set(newest) >= {"id", "type", "title", "body", "data", "read", "created_at"}
    assert newest["type"] == "idea_status_changed" and newest["title"] == "Idee 2"
    assert newest["object_type"] == "idea" and newest["object_id"] == 102
    assert newest["data"] == {"idea_id": "102", "status": "accepted"}
    assert newest["read"] is False and TIME.match(newest["created_at"])
    assert newest["body"] == "Der Status einer Idee, der du folgst, hat sich geändert."


def test_an_empty_inbox(client, make_user):
    user = make_user()
    assert client.get(INBOX, headers=user.headers).get_json() == {"items": [], "next_cursor": None}
    assert unread(client, user) == 0


def test_the_body_speaks_the_callers_language(client, make_user, deliver):
    user = make_user()
    deliver(user, type="moderation_decision", data={"action": "approve"})
    german = client.get(INBOX, headers=user.headers).get_json()["items"][0]
    english = client.get(INBOX, headers={**user.headers, "Accept-Language": "en"}).get_json()["items"][0]
    assert german["body"] == "Dein Beitrag wurde freigeschaltet."
    assert english["body"] == "Your contribution has been published."
    assert german["title"] == english["title"] == "Idee 0"


def test_paging_yields_every_item_exactly_once_while_new_ones_arrive(client, make_user, deliver):
    user = make_user()
    ids = deliver(user, 7)
    deliver(make_user(), 3)
    seen, cursor, pages = [], None, 0
    while True:
        query = f"?limit=3&cursor={cursor}" if cursor else "?limit=3"
        page = client.get(INBOX + query, headers=user.headers).get_json()
        seen += [n["id"] for n in page["items"]]
        pages += 1
        if pages == 1:
            # Newer items arrive while the user scrolls: they belong on top, not in later pages.
            deliver(user, 2)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids[::-1] and pages == 3


@pytest.mark.parametrize("query", ["?limit=0", "?limit=101", "?limit=x", "?cursor=nonsense", "?cursor=WyJpZGVhcyIsWzFdXQ"])
def test_bad_limits_and_cursors_are_422(client, make_user, query):
    r = client.get(INBOX + query, headers=make_user().headers)
    assert r.status_code == 422


def test_mark_read_and_the_unread_count(client, make_user, deliver):
    user = make_user()
    first, second, third = deliver(user, 3)
    deliver(user, 1, read=True)
    assert unread(client, user) == 3
    assert client.post(f"{INBOX}/{second}/read", headers=user.headers).status_code == 204
    # Repeating changes nothing.
    assert client.post(f"{INBOX}/{second}/read", headers=user.headers).status_code == 204
    assert unread(client, user) == 2
    reads = {n["id"]: n["read"] for n in client.get(INBOX, headers=user.headers).get_json()["items"]}
    assert reads[second] is True and reads[first] is False and reads[third] is False


def test_read_all_marks_only_the_callers_items(client, make_user, deliver):
    alice, bob = make_user(), make_user()
    deliver(alice, 4)
    deliver(bob, 2)
    assert client.post(f"{INBOX}/read-all", headers=alice.headers).status_code == 204
    assert unread(client, alice) == 0 and unread(client, bob) == 2
    assert all(n["read"] for n in client.get(INBOX, headers=alice.headers).get_json()["items"])
    # Nothing left to read is fine too.
    assert client.post(f"{INBOX}/read-all", headers=alice.headers).status_code == 204


def test_others_notifications_are_404(client, make_user, deliver):
    alice, bob = make_user(), make_user()
    (theirs,) = deliver(bob)
    for notification_id in (theirs, 999999, 2**31 + 5):
        r = client.post(f"{INBOX}/{notification_id}/read", headers=alice.headers)
        assert r.status_code == 404 and r.get_json()["code"] == 404
    # Bob's item stays unread.
    assert unread(client, bob) == 1


def test_blocked_users_may_still_read_their_inbox(client, make_user, deliver):
    user, moderator = make_user(), make_user("moderator")
    (item,) = deliver(user)
    assert client.put(f"/api/v1/moderation/users/{user.id}/block", json={"reason": "Spam"}, headers=moderator.headers).status_code == 204
    assert client.get(INBOX, headers=user.headers).status_code == 200
    assert client.post(f"{INBOX}/{item}/read", headers=user.headers).status_code == 204
    assert client.post(f"{INBOX}/read-all", headers=user.headers).status_code == 204
    assert unread(client, user) == 0


@pytest.mark.parametrize(
    "method, url",
    [("get", INBOX), ("get", f"{INBOX}/unread-count"), ("post", f"{INBOX}/1/read"), ("post", f"{INBOX}/read-all")],
)
def test_a_login_is_needed(client, method, url):
    r = getattr(client, method)(url)
    assert r.status_code == 401 and r.get_json()["code"] == 401
