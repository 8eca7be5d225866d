from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from models.audit import AuditEntry
from tests.notifications.delivered import inbox
from tests.idea_flow import IDEA

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")


def decide(client, moderator, target_type, target_id, action, reason_code="ok", note=None):
    body = {"target_type": target_type, "target_id": target_id, "action": action, "reason_code": reason_code}
    if note is not None:
        body["note"] = note
    return client.post("/api/v1/moderation/decisions", json=body, headers=moderator.headers)


def test_queue_lists_pending_content_oldest_first(client, make_user, flow):
    author = make_user()
    first = flow.submit(author, title="Erste wartende Idee")
    second = flow.submit(author, title="Zweite wartende Idee")
    published = flow.published(author, title="Schon freigegebene Idee")
    comment = flow.comment(make_user(), published["id"], "Ein wartender Kommentar", approve=False)
    r = client.get("/api/v1/moderation/queue", headers=flow.moderator.headers)
    assert r.status_code == 200
    items = r.get_json()["items"]
    assert [(i["target_type"], i["target_id"]) for i in items] == [("idea", first["id"]), ("idea", second["id"]), ("comment", comment["id"])]
    item = items[0]
    assert item["state"] == "pending" and item["flags"] == 0 and item["reasons"] == []
    assert item["author"]["id"] == author.id and item["author"]["display_name"].startswith("User ")
    assert item["excerpt"].startswith("Erste wartende Idee")
    assert TIME.match(item["waiting_since"])
    only_comments = client.get("/api/v1/moderation/queue?type=comment", headers=flow.moderator.headers).get_json()["items"]
    assert [i["target_id"] for i in only_comments] == [comment["id"]]
    assert client.get("/api/v1/moderation/queue?state=flagged", headers=flow.moderator.headers).get_json()["items"] == []
    assert client.get("/api/v1/moderation/queue?state=lost", headers=flow.moderator.headers).status_code == 422
    page = client.get("/api/v1/moderation/queue?limit=2", headers=flow.moderator.headers).get_json()
    rest = client.get(f"/api/v1/moderation/queue?limit=2&cursor={page['next_cursor']}", headers=flow.moderator.headers).get_json()
    assert [i["target_id"] for i in page["items"] + rest["items"]] == [first["id"], second["id"], comment["id"]]


def test_approve_publishes_and_tells_the_author(client, make_user, flow, session):
    author = make_user()
    idea = flow.submit(author)
    r = decide(client, flow.moderator, "idea", idea["id"], "approve", note="Danke!")
    assert r.status_code == 201
    decision = r.get_json()
    assert decision["action"] == "approve" and decision["moderator"]["id"] == flow.moderator.id
    assert decision["note"] == "Danke!" and TIME.match(decision["created_at"])
    public = client.get(f"/api/v1/ideas/{idea['id']}").get_json()
    assert public["status"] == "published" and public["moderation"] is None  # not for the public
    own = client.get(f"/api/v1/ideas/{idea['id']}", headers=author.headers).get_json()
    assert own["moderation"]["reason_code"] == "ok" and own["moderation"]["note"] == "Danke!"
    assert client.get("/api/v1/moderation/queue", headers=flow.moderator.headers).get_json()["items"] == []
    messages = inbox(client.application, "moderation_decision")
    assert [(m.user_id, m.title) for m in messages] == [(author.id, IDEA["title"])]


def test_reject_removes_and_author_sees_the_reason(client, make_user, flow):
    author = make_user()
    idea = flow.submit(author)
    assert decide(client, flow.moderator, "idea", idea["id"], "reject", "off_topic", note="Gehört nicht hierher").status_code == 201
    own = client.get(f"/api/v1/ideas/{idea['id']}", headers=author.headers).get_json()
    assert own["visibility"] == "removed"
    assert own["moderation"] == {"reason_code": "off_topic", "note": "Gehört nicht hierher", "decided_at": own["moderation"]["decided_at"]}
    assert client.get(f"/api/v1/ideas/{idea['id']}", headers=make_user().headers).status_code == 404


@pytest.mark.parametrize(
    "setup, action, reason, expected",
    [
        ("published", "approve", "ok", 409),
        ("pending", "restore", "ok", 409),
        ("published", "restore", "ok", 409),
        ("published", "hide", "spam", 201),
        ("hidden", "hide", "spam", 409),
        ("hidden", "restore", "ok", 201),
        ("removed", "reject", "spam", 409),
        ("pending", "approve", "spam", 422),
        ("published", "hide", "ok", 422),
        ("published", "explode", "ok", 422),
    ],
)
def test_decision_state_rules(client, make_user, flow, setup, action, reason, expected):
    idea = flow.submit(make_user())
    if setup in ("published", "hidden"):
        flow.approve("idea", idea["id"])
    if setup == "hidden":
        assert decide(client, flow.moderator, "idea", idea["id"], "hide", "spam").status_code == 201
    if setup == "removed":
        assert decide(client, flow.moderator, "idea", idea["id"], "reject", "spam").status_code == 201
    assert decide(client, flow.moderator, "idea", idea["id"], action, reason).status_code == expected


def test_three_distinct_flaggers_hide_content_and_the_author_does_not_count(client, make_user, flow, session):
    author = make_user()
    idea = flow.published(author)

    def flag(user, reason="spam"):
        return client.post("/api/v1/flags", json={"target_type": "idea", "target_id": idea["id"], "reason": reason}, headers=user.headers)

    r = flag(author)
    assert r.status_code == 201 and isinstance(r.get_json()["id"], int)
    a, b, c = make_user(), make_user(), make_user()
    assert flag(a).status_code == 201
    assert flag(a).status_code == 409
    assert flag(b, "offensive").status_code == 201
    assert client.get(f"/api/v1/ideas/{idea['id']}").status_code == 200  # two that count, plus the author's
    assert flag(c).status_code == 201
    assert client.get(f"/api/v1/ideas/{idea['id']}").status_code == 404
    own = client.get(f"/api/v1/ideas/{idea['id']}", headers=author.headers).get_json()
    assert own["visibility"] == "hidden"
    queue = client.get("/api/v1/moderation/queue?state=flagged", headers=flow.moderator.headers).get_json()["items"]
    # Three flags that count; the author's own is kept but not counted.
    assert queue[0]["flags"] == 3 and set(queue[0]["reasons"]) == {"spam", "offensive"}
    log = client.get(f"/api/v1/moderation/log?target_type=idea&target_id={idea['id']}", headers=flow.moderator.headers).get_json()["items"]
    automatic = [e for e in log if e["moderator"] is None]
    assert automatic and automatic[0]["action"] == "hide" and automatic[0]["snapshot"]["visibility"] == "visible"


def test_flag_validation(client, make_user, flow):
    user = make_user()
    pending = flow.submit(make_user())
    r = client.post("/api/v1/flags", json={"target_type": "idea", "target_id": pending["id"], "reason": "spam"}, headers=user.headers)
    assert r.status_code == 404
    # Reports can be flagged since they exist; one that does not is not found.
    r = client.post("/api/v1/flags", json={"target_type": "report", "target_id": 1, "reason": "spam"}, headers=user.headers)
    assert r.status_code == 404
    r = client.post("/api/v1/flags", json={"target_type": "poll", "target_id": 1, "reason": "spam"}, headers=user.headers)
    assert r.status_code == 422 and "target_type" in r.get_json()["errors"]
    r = client.post("/api/v1/flags", json={"target_type": "idea", "target_id": 1, "reason": "boring"}, headers=user.headers)
    assert r.status_code == 422 and "reason" in r.get_json()["errors"]
    assert client.post("/api/v1/flags", json={"target_type": "idea", "target_id": 1, "reason": "spam"}).status_code == 401


def test_flagging_a_comment_hides_it_and_updates_the_count(client, make_user, flow):
    idea = flow.published(make_user())
    comment = flow.comment(make_user(), idea["id"], "Ein fragwürdiger Kommentar")
    assert client.get(f"/api/v1/ideas/{idea['id']}").get_json()["comment_count"] == 1
    for _ in range(3):
        r = client.post("/api/v1/flags", json={"target_type": "comment", "target_id": comment["id"], "reason": "offensive"}, headers=make_user().headers)
        assert r.status_code == 201
    assert client.get(f"/api/v1/ideas/{idea['id']}").get_json()["comment_count"] == 0
    assert client.get(f"/api/v1/ideas/{idea['id']}/comments").get_json()["items"] == []
    assert decide(client, flow.moderator, "comment", comment["id"], "restore").status_code == 201
    assert client.get(f"/api/v1/ideas/{idea['id']}").get_json()["comment_count"] == 1


def test_prescreen_flags_new_content_with_reasons(client, make_user, flow):
    author = make_user()
    r = client.post(
        "/api/v1/ideas",
        json={**IDEA, "body": "Schreibt mir an max.mustermann@example.org, IBAN DE89 3704 0044 0532 0130 00."},
        headers=author.headers,
    )
    assert r.status_code == 201
    queue = client.get("/api/v1/moderation/queue?state=flagged", headers=flow.moderator.headers).get_json()["items"]
    assert queue[0]["target_id"] == r.get_json()["id"] and queue[0]["reasons"] == ["prescreen:personal_data"]
    comment = client.post(f"/api/v1/ideas/{flow.published(make_user())['id']}/comments", json={"body": "Du Vollidiot!"}, headers=author.headers)
    assert comment.status_code == 201
    flagged = client.get("/api/v1/moderation/queue?type=comment&state=flagged", headers=flow.moderator.headers).get_json()["items"]
    assert flagged[0]["reasons"] == ["prescreen:offensive"]


def test_without_premoderation_a_prescreen_hit_is_hidden_automatically(client, make_user, flow, app, monkeypatch):
    monkeypatch.setitem(app.config, "PREMODERATE_IDEAS", False)
    author = make_user()
    clean = client.post("/api/v1/ideas", json=IDEA, headers=author.headers).get_json()
    assert clean["status"] == "published" and clean["visibility"] == "visible"
    dirty = client.post("/api/v1/ideas", json={**IDEA, "body": "Ruft an: +49 231 123 4567 und fragt nach dem Chef."}, headers=author.headers).get_json()
    assert dirty["status"] == "published" and dirty["visibility"] == "hidden"
    log = client.get(f"/api/v1/moderation/log?target_type=idea&target_id={dirty['id']}", headers=flow.moderator.headers).get_json()["items"]
    assert log[0]["moderator"] is None and log[0]["reason_code"] == "personal_data"


def test_log_is_newest_first_with_snapshots(client, make_user, flow):
    idea = flow.submit(make_user())
    decide(client, flow.moderator, "idea", idea["id"], "approve")
    decide(client, flow.moderator, "idea", idea["id"], "hide", "spam", note="Werbung")
    log = client.get("/api/v1/moderation/log", headers=flow.moderator.headers).get_json()
    assert [e["action"] for e in log["items"]] == ["hide", "approve"]
    assert log["items"][1]["snapshot"]["status"] == "pending"
    assert log["items"][0]["snapshot"]["status"] == "published"
    assert log["items"][0]["note"] == "Werbung"


def test_appeal_once_per_decision_joins_the_queue(client, make_user, flow):
    author = make_user()
    idea = flow.submit(author)
    decide(client, flow.moderator, "idea", idea["id"], "reject", "spam")
    body = {"target_type": "idea", "target_id": idea["id"], "text": "Das ist keine Werbung, sondern ein Vorschlag."}
    assert client.post("/api/v1/moderation/appeals", json=body, headers=make_user().headers).status_code == 404
    r = client.post("/api/v1/moderation/appeals", json=body, headers=author.headers)
    assert r.status_code == 201 and r.get_json()["text"] == body["text"]
    assert client.post("/api/v1/moderation/appeals", json=body, headers=author.headers).status_code == 409
    queue = client.get("/api/v1/moderation/queue?state=appeal", headers=flow.moderator.headers).get_json()["items"]
    assert queue[0]["target_id"] == idea["id"] and queue[0]["appeal"]["text"] == body["text"]
    # Upholding the appeal: the rejected (still pending) idea is approved after all.
    assert decide(client, flow.moderator, "idea", idea["id"], "approve").status_code == 201
    assert client.get(f"/api/v1/ideas/{idea['id']}").status_code == 200
    # Nothing left to appeal after an approval.
    assert client.post("/api/v1/moderation/appeals", json=body, headers=author.headers).status_code == 409


def test_block_validation_and_audit(client, make_user, flow, session):
    user = make_user()
    url = f"/api/v1/moderation/users/{user.id}/block"
    assert client.put(url, json={"reason": "x", "until": "2020-01-01T00:00:00+00:00"}, headers=flow.moderator.headers).status_code == 422
    assert client.put(url, json={"reason": "x", "until": "2999-01-01T00:00:00"}, headers=flow.moderator.headers).status_code == 422
    assert client.put(url, json={"until": "2999-01-01T00:00:00+01:00"}, headers=flow.moderator.headers).status_code == 422
    assert client.put("/api/v1/moderation/users/999999/block", json={"reason": "x"}, headers=flow.moderator.headers).status_code == 404
    assert client.put(url, json={"reason": "Spam", "until": "2999-01-01T00:00:00+01:00"}, headers=flow.moderator.headers).status_code == 204
    assert session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "user_blocked")) == 1


ROUTES = [
    ("get", "/api/v1/moderation/queue", None),
    ("get", "/api/v1/moderation/log", None),
    ("post", "/api/v1/moderation/decisions", {"target_type": "idea", "target_id": 999999, "action": "approve", "reason_code": "ok"}),
    ("put", "/api/v1/moderation/users/{user}/block", {"reason": "Test"}),
    ("delete", "/api/v1/moderation/users/{user}/block", None),
]


@pytest.mark.parametrize("role, allowed", [(None, False), ("resident", False), ("staff", False), ("moderator", True), ("admin", True)])
def test_every_moderation_route_with_every_role(client, make_user, role, allowed):
    target = make_user()
    caller = make_user(role) if role not in (None, "resident") else (make_user() if role == "resident" else None)
    for method, path, body in ROUTES:
        url = path.format(user=target.id)
        headers = caller.headers if caller else {}
        r = getattr(client, method)(url, json=body, headers=headers)
        if caller is None:
            assert r.status_code == 401, (role, url)
        elif not allowed:
            assert r.status_code == 403, (role, url)
        else:
            assert r.status_code in (200, 204, 404), (role, url, r.get_json())
    # Invalid bodies still answer 401/403 first for those who may not moderate.
    r = client.post("/api/v1/moderation/decisions", json={"nonsense": True}, headers=caller.headers if caller else {})
    assert r.status_code == (401 if caller is None else 403 if not allowed else 422)


def test_queue_excerpt_follows_edits_of_waiting_content(client, make_user, flow):
    author = make_user()
    idea = flow.submit(author)
    client.patch(f"/api/v1/ideas/{idea['id']}", json={"title": "Ein ganz neuer Titel"}, headers=author.headers)
    item = client.get("/api/v1/moderation/queue", headers=flow.moderator.headers).get_json()["items"][0]
    assert item["excerpt"].startswith("Ein ganz neuer Titel: ")
