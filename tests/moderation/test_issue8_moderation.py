"""Blocks stop moderators too; nobody touches their own block; only admins block the city's
staff; the queue counts only flags that count; automatic hides describe themselves."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from models import moderation
from models.audit import AuditEntry
from models.errors import Forbidden
from models.users import User
from tests.idea_flow import IDEA


def block_url(user):
    return f"/api/v1/moderation/users/{user.id}/block"


def decide(client, moderator, target_type, target_id, action, reason_code="ok", note=None):
    body = {"target_type": target_type, "target_id": target_id, "action": action, "reason_code": reason_code}
    if note is not None:
        body["note"] = note
    return client.post("/api/v1/moderation/decisions", json=body, headers=moderator.headers)


def test_a_blocked_moderator_can_neither_lift_their_block_nor_moderate(client, make_user, flow):
    other = flow.moderator
    blocked = make_user("moderator")
    idea = flow.submit(make_user())
    assert client.put(block_url(blocked), json={"reason": "Missbrauch"}, headers=other.headers).status_code == 204
    r = client.delete(block_url(blocked), headers=blocked.headers)
    assert r.status_code == 403 and r.get_json()["message"]
    assert decide(client, blocked, "idea", idea["id"], "approve").status_code == 403
    assert client.put(block_url(other), json={"reason": "Rache"}, headers=blocked.headers).status_code == 403
    # Still blocked, still unable; another moderator lifts it.
    assert decide(client, blocked, "idea", idea["id"], "approve").status_code == 403
    assert client.delete(block_url(blocked), headers=other.headers).status_code == 204
    assert decide(client, blocked, "idea", idea["id"], "approve").status_code == 201


def test_the_domain_refuses_a_blocked_moderator_without_http(session, make_user, flow):
    idea = flow.submit(make_user())
    target = make_user()
    handle = make_user("moderator")
    moderator = session.get(User, handle.id)
    moderation.block_user(session, session.get(User, flow.moderator.id), moderator.id, None, "Test")
    session.flush()
    for operation in (
        lambda: moderation.decide(session, moderator, "idea", idea["id"], "approve", "ok", None),
        lambda: moderation.block_user(session, moderator, target.id, None, "x"),
        lambda: moderation.unblock_user(session, moderator, moderator.id),
        lambda: moderation.unblock_user(session, moderator, target.id),
        lambda: moderation.appeal(session, moderator, "idea", idea["id"], "Bitte nochmal ansehen"),
    ):
        with pytest.raises(Forbidden):
            operation()
    session.rollback()


def test_nobody_blocks_or_unblocks_themself(client, make_user):
    for role in ("moderator", "admin"):
        me = make_user(role)
        r = client.put(block_url(me), json={"reason": "Pause"}, headers=me.headers)
        assert r.status_code == 403, role
        assert r.get_json()["message"]
        assert client.delete(block_url(me), headers=me.headers).status_code == 403, role


@pytest.mark.parametrize(
    "actor, target, allowed",
    [
        ("moderator", "resident", True),
        ("moderator", "moderator", True),
        ("moderator", "staff", False),
        ("moderator", "admin", False),
        ("admin", "staff", True),
        ("admin", "admin", True),
        ("admin", "moderator", True),
    ],
)
def test_moderators_block_residents_and_moderators_admins_anyone(client, make_user, actor, target, allowed):
    admin = make_user("admin")
    acting = make_user(actor)
    victim = make_user() if target == "resident" else make_user(target)
    r = client.put(block_url(victim), json={"reason": "Test"}, headers=acting.headers)
    assert r.status_code == (204 if allowed else 403)
    if not allowed:
        # Blocked by an admin, the block is not a moderator's to lift either.
        assert client.put(block_url(victim), json={"reason": "Test"}, headers=admin.headers).status_code == 204
    assert client.delete(block_url(victim), headers=acting.headers).status_code == (204 if allowed else 403)


def test_cli_unblock_lifts_a_block_and_logs_it_without_actor(clean_app, client, make_user, flow, session):
    blocked = make_user("moderator")
    assert client.put(block_url(blocked), json={"reason": "Versehen"}, headers=flow.moderator.headers).status_code == 204
    runner = clean_app.test_cli_runner()
    r = runner.invoke(args=["users", "unblock", "--email", blocked.email.upper()])
    assert r.exit_code == 0, r.output
    assert r.output.strip() == f"user {blocked.id} {blocked.email} unblocked"
    session.expire_all()
    assert session.get(User, blocked.id).blocked_until is None
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "user_unblocked")).one()
    assert entry.actor_id is None and entry.target_id == blocked.id and entry.details == {"via": "cli"}
    again = runner.invoke(args=["users", "unblock", "--email", blocked.email])
    assert again.exit_code == 0 and "was not blocked" in again.output
    unknown = runner.invoke(args=["users", "unblock", "--email", "nobody@example.org"])
    assert unknown.exit_code == 2 and "nobody@example.org" in unknown.output


def test_the_queue_counts_only_flags_that_count(client, make_user, flow):
    author = make_user()
    idea = flow.published(author)

    def flag(user):
        r = client.post("/api/v1/flags", json={"target_type": "idea", "target_id": idea["id"], "reason": "spam"}, headers=user.headers)
        assert r.status_code == 201

    def queued_flags():
        return client.get("/api/v1/moderation/queue?state=flagged", headers=flow.moderator.headers).get_json()["items"][0]["flags"]

    flag(author)
    assert queued_flags() == 0
    flag(make_user())
    assert queued_flags() == 1


def test_after_an_edit_hits_the_prescreen_the_author_reads_why_it_is_hidden(client, make_user, flow):
    author = make_user()
    idea = flow.submit(author)
    assert decide(client, flow.moderator, "idea", idea["id"], "approve", note="Danke, gute Idee!").status_code == 201
    approved = client.get(f"/api/v1/ideas/{idea['id']}", headers=author.headers).get_json()["moderation"]
    r = client.patch(
        f"/api/v1/ideas/{idea['id']}",
        json={"body": "Ruft mich an unter 0231 98765432, dann erkläre ich alles genauer."},
        headers=author.headers,
    )
    assert r.status_code == 200 and r.get_json()["visibility"] == "hidden"
    now = r.get_json()["moderation"]
    assert now["reason_code"] == "personal_data" and now["note"] != "Danke, gute Idee!"
    assert now["decided_at"] >= approved["decided_at"]
    assert client.get(f"/api/v1/ideas/{idea['id']}", headers=author.headers).get_json()["moderation"] == now


def test_after_flags_hide_an_idea_the_author_reads_the_flags_reason(client, make_user, flow):
    author = make_user()
    idea = flow.published(author)
    for _ in range(3):
        client.post("/api/v1/flags", json={"target_type": "idea", "target_id": idea["id"], "reason": "offensive"}, headers=make_user().headers)
    own = client.get(f"/api/v1/ideas/{idea['id']}", headers=author.headers).get_json()
    assert own["visibility"] == "hidden"
    assert own["moderation"]["reason_code"] == "offensive" and "3" in own["moderation"]["note"]


def test_without_premoderation_a_prescreen_hit_explains_itself(client, make_user, app, monkeypatch):
    monkeypatch.setitem(app.config, "PREMODERATE_IDEAS", False)
    author = make_user()
    dirty = client.post("/api/v1/ideas", json={**IDEA, "body": "Ruft an: +49 231 123 4567 und fragt nach dem Chef."}, headers=author.headers).get_json()
    assert dirty["visibility"] == "hidden" and dirty["moderation"]["reason_code"] == "personal_data"


def test_only_the_author_appeals_even_an_admin_may_not(client, make_user, flow):
    author = make_user()
    admin = make_user("admin")
    idea = flow.submit(author)
    assert decide(client, flow.moderator, "idea", idea["id"], "reject", "spam").status_code == 201
    body = {"target_type": "idea", "target_id": idea["id"], "text": "Das ist keine Werbung."}
    assert client.post("/api/v1/moderation/appeals", json=body, headers=admin.headers).status_code == 404
    assert client.post("/api/v1/moderation/appeals", json=body, headers=author.headers).status_code == 201
