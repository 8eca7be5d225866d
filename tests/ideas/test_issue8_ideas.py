"""Comments live and die with their idea's visibility; a never-public comment vanishes when
deleted; staff answers on ideas out of public view are 409; only others' supports lock an idea;
author-only actions stay the author's, admins included."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models.ideas import Comment
from models.moderation import Flag, QueueEntry
from tests.idea_flow import IDEA


def decide(client, moderator, target_type, target_id, action, reason_code="ok"):
    body = {"target_type": target_type, "target_id": target_id, "action": action, "reason_code": reason_code}
    return client.post("/api/v1/moderation/decisions", json=body, headers=moderator.headers)


def hide_idea(client, flow, idea_id):
    assert decide(client, flow.moderator, "idea", idea_id, "hide", "spam").status_code == 201


def test_comments_under_a_hidden_idea_cannot_be_flagged_appealed_or_deleted(client, make_user, flow):
    idea = flow.published(make_user())
    writer = make_user()
    public = flow.comment(writer, idea["id"], "Ein öffentlicher Kommentar")
    rejected = flow.comment(writer, idea["id"], "Ein abgelehnter Kommentar", approve=False)
    assert decide(client, flow.moderator, "comment", rejected["id"], "reject", "spam").status_code == 201
    hide_idea(client, flow, idea["id"])
    r = client.post("/api/v1/flags", json={"target_type": "comment", "target_id": public["id"], "reason": "spam"}, headers=make_user().headers)
    assert r.status_code == 404
    appeal = {"target_type": "comment", "target_id": rejected["id"], "text": "Der war doch harmlos."}
    assert client.post("/api/v1/moderation/appeals", json=appeal, headers=writer.headers).status_code == 404
    assert client.delete(f"/api/v1/ideas/{idea['id']}/comments/{public['id']}", headers=writer.headers).status_code == 404
    # Moderators still reach it, and once the idea is back so does everyone else.
    assert decide(client, flow.moderator, "idea", idea["id"], "restore").status_code == 201
    r = client.post("/api/v1/flags", json={"target_type": "comment", "target_id": public["id"], "reason": "spam"}, headers=make_user().headers)
    assert r.status_code == 201
    assert client.post("/api/v1/moderation/appeals", json=appeal, headers=writer.headers).status_code == 201


def test_the_ideas_author_still_reaches_comments_under_their_hidden_idea(client, make_user, flow):
    author = make_user()
    idea = flow.published(author)
    comment = flow.comment(make_user(), idea["id"], "Ein Kommentar mit Werbung drin")
    hide_idea(client, flow, idea["id"])
    r = client.post("/api/v1/flags", json={"target_type": "comment", "target_id": comment["id"], "reason": "spam"}, headers=author.headers)
    assert r.status_code == 201


def test_a_pending_comment_deleted_by_its_author_vanishes(client, make_user, flow, session):
    idea = flow.published(make_user())
    writer = make_user()
    comment = flow.comment(writer, idea["id"], "Noch nicht freigegeben", approve=False)
    client.post("/api/v1/flags", json={"target_type": "comment", "target_id": comment["id"], "reason": "spam"}, headers=writer.headers)
    assert client.delete(f"/api/v1/ideas/{idea['id']}/comments/{comment['id']}", headers=writer.headers).status_code == 204
    assert client.get(f"/api/v1/ideas/{idea['id']}/comments").get_json()["items"] == []
    assert client.get(f"/api/v1/ideas/{idea['id']}/comments", headers=writer.headers).get_json()["items"] == []
    assert session.get(Comment, comment["id"]) is None
    assert session.scalar(select(func.count()).select_from(QueueEntry).where(QueueEntry.target_type == "comment")) == 0
    assert session.scalar(select(func.count()).select_from(Flag).where(Flag.target_type == "comment")) == 0
    assert client.get("/api/v1/moderation/queue", headers=flow.moderator.headers).get_json()["items"] == []
    assert client.get(f"/api/v1/ideas/{idea['id']}").get_json()["comment_count"] == 0


def test_a_never_public_comment_takes_its_replies_along(client, make_user, flow, app, monkeypatch, session):
    monkeypatch.setitem(app.config, "PREMODERATE_COMMENTS", False)
    idea = flow.published(make_user())
    writer = make_user()
    # Hidden by the pre-screen from the start: never public.
    r = client.post(f"/api/v1/ideas/{idea['id']}/comments", json={"body": "Du Vollidiot!"}, headers=writer.headers)
    parent = r.get_json()
    assert parent["visibility"] == "hidden"
    reply = client.post(f"/api/v1/ideas/{idea['id']}/comments", json={"body": "Bitte sachlich bleiben.", "parent_id": parent["id"]}, headers=flow.moderator.headers).get_json()
    assert reply["visibility"] == "visible"
    assert client.get(f"/api/v1/ideas/{idea['id']}").get_json()["comment_count"] == 1
    assert client.delete(f"/api/v1/ideas/{idea['id']}/comments/{parent['id']}", headers=writer.headers).status_code == 204
    assert client.get(f"/api/v1/ideas/{idea['id']}/comments", headers=flow.moderator.headers).get_json()["items"] == []
    assert client.get(f"/api/v1/ideas/{idea['id']}").get_json()["comment_count"] == 0
    assert session.scalar(select(func.count()).select_from(Comment)) == 0


def test_a_comment_that_was_public_stays_as_a_deleted_trace(client, make_user, flow):
    idea = flow.published(make_user())
    writer = make_user()
    comment = flow.comment(writer, idea["id"], "Ein fragwürdiger Kommentar")
    for _ in range(3):
        client.post("/api/v1/flags", json={"target_type": "comment", "target_id": comment["id"], "reason": "offensive"}, headers=make_user().headers)
    assert client.get(f"/api/v1/ideas/{idea['id']}").get_json()["comment_count"] == 0  # hidden now
    assert client.delete(f"/api/v1/ideas/{idea['id']}/comments/{comment['id']}", headers=writer.headers).status_code == 204
    items = client.get(f"/api/v1/ideas/{idea['id']}/comments").get_json()["items"]
    assert [(c["id"], c["status"], c["body"]) for c in items] == [(comment["id"], "deleted", "")]


@pytest.mark.parametrize("state", ["pending", "hidden"])
def test_staff_answering_an_idea_out_of_public_view_is_409(client, make_user, flow, state):
    idea = flow.submit(make_user())
    if state == "hidden":
        flow.approve("idea", idea["id"])
        hide_idea(client, flow, idea["id"])
    r = client.post(f"/api/v1/ideas/{idea['id']}/response", json={"status": "under_review", "body": "Wir prüfen das."}, headers=flow.staff.headers)
    assert r.status_code == 409 and r.get_json()["message"]
    assert client.post("/api/v1/ideas/999999/response", json={"status": "under_review", "body": "x"}, headers=flow.staff.headers).status_code == 404


def test_the_authors_own_support_does_not_lock_the_idea(client, make_user, flow):
    author = make_user()
    idea = flow.published(author)
    url = f"/api/v1/ideas/{idea['id']}"
    assert client.put(f"{url}/support", headers=author.headers).status_code == 204
    assert client.get(url).get_json()["support_count"] == 1
    r = client.patch(url, json={"title": "Mehr Bänke am Phoenix-See, bitte"}, headers=author.headers)
    assert r.status_code == 200, r.get_json()
    assert client.put(f"{url}/support", headers=make_user().headers).status_code == 204
    assert client.patch(url, json={"title": "Noch eine Änderung hier"}, headers=author.headers).status_code == 409
    assert client.delete(url, headers=author.headers).status_code == 409
    other = flow.published(author, title="Eine zweite Idee zum Löschen")
    assert client.put(f"/api/v1/ideas/{other['id']}/support", headers=author.headers).status_code == 204
    assert client.delete(f"/api/v1/ideas/{other['id']}", headers=author.headers).status_code == 204


def test_an_admin_who_is_not_the_author_cannot_edit_or_delete(client, make_user, flow):
    admin = make_user("admin")
    idea = flow.submit(make_user())
    url = f"/api/v1/ideas/{idea['id']}"
    assert client.get(url, headers=admin.headers).status_code == 200
    assert client.patch(url, json={"title": "Vom Admin geändert"}, headers=admin.headers).status_code == 403
    assert client.delete(url, headers=admin.headers).status_code == 403
    comment_idea = flow.published(make_user(), **{"title": IDEA["title"] + " II"})
    comment = flow.comment(make_user(), comment_idea["id"])
    assert client.delete(f"/api/v1/ideas/{comment_idea['id']}/comments/{comment['id']}", headers=admin.headers).status_code == 403
