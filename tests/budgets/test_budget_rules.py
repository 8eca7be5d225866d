"""Who may do what, in which phase, and in which order the answers come (403 → 409 → 422)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from models.audit import AuditEntry
from models.budgets import Ballot, BudgetItem, BudgetRound, berlin_today

API = "/api/v1"


def count(client, model):
    with client.application.app_context():
        from api.extensions import db

        return db.session.scalar(select(func.count()).select_from(model))


def audit(client, action):
    with client.application.app_context():
        from api.extensions import db

        return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all()


# --- members -----------------------------------------------------------------------------------


def test_members_admin_only_and_audited(client, bud):
    user = bud.member()
    r = client.get(f"{API}/bodies/jugendparlament/members", headers=bud.admin.headers)
    assert r.status_code == 200
    [m] = r.get_json()["items"]
    assert m["user"] == {"id": user.id, "display_name": m["user"]["display_name"]} and "email" not in m["user"]
    assert m["term_start"] <= berlin_today().isoformat() <= m["term_end"]
    assert client.get(f"{API}/bodies/jugendparlament/members", headers=bud.staff.headers).status_code == 403
    assert client.get(f"{API}/bodies/jugendparlament/members").status_code == 401
    assert client.get(f"{API}/bodies/nope/members", headers=bud.admin.headers).status_code == 404
    # staff may not change memberships; 403 comes before the body is validated
    assert client.put(f"{API}/bodies/jugendparlament/members/{user.id}", json={}, headers=bud.staff.headers).status_code == 403
    bad = client.put(f"{API}/bodies/jugendparlament/members/{user.id}", headers=bud.admin.headers,
                     json={"term_start": "2026-05-02", "term_end": "2026-05-01"})
    assert bad.status_code == 422 and "term_end" in bad.get_json()["errors"]
    same_day = client.put(f"{API}/bodies/jugendparlament/members/{user.id}", headers=bud.admin.headers,
                          json={"term_start": "2026-05-01", "term_end": "2026-05-01"})
    assert same_day.status_code == 204
    assert client.put(f"{API}/bodies/jugendparlament/members/999999", headers=bud.admin.headers,
                      json={"term_start": "2026-05-01", "term_end": "2026-05-01"}).status_code == 404
    assert client.delete(f"{API}/bodies/jugendparlament/members/{user.id}", headers=bud.admin.headers).status_code == 204
    assert client.delete(f"{API}/bodies/jugendparlament/members/{user.id}", headers=bud.admin.headers).status_code == 204
    assert client.get(f"{API}/bodies/jugendparlament/members", headers=bud.admin.headers).get_json()["items"] == []
    entries = audit(client, "body_membership.set") + audit(client, "body_membership.removed")
    assert [(e.action, e.actor_id, e.details["user_id"]) for e in entries] == [
        ("body_membership.set", bud.admin.id, user.id), ("body_membership.set", bud.admin.id, user.id),
        ("body_membership.removed", bud.admin.id, user.id)]


def test_term_boundaries_are_inclusive(client, bud):
    today = berlin_today()
    rnd = bud.round(items=[("A", 10)], status="voting")
    item = rnd["items"][0]["id"]
    ends_today = bud.member(start=today - timedelta(days=5), end=today)
    starts_today = bud.member(start=today, end=today + timedelta(days=5))
    ended = bud.member(start=today - timedelta(days=5), end=today - timedelta(days=1))
    future = bud.member(start=today + timedelta(days=1), end=today + timedelta(days=5))
    other_body = bud.member(slug="seniorenbeirat")
    for user in (ends_today, starts_today):
        bud.vote(rnd["id"], user, item_ids=[item])
    for user in (ended, future, other_body):
        bud.vote(rnd["id"], user, expect=403, item_ids=[item])


def test_membership_day_is_reckoned_in_berlin(client, bud, monkeypatch):
    import models.budgets as budgets

    # 22:30 UTC on 31 March is already 1 April in Dortmund (summer time, UTC+2).
    late = datetime(2026, 3, 31, 22, 30, tzinfo=timezone.utc)
    assert budgets.berlin_today(late).isoformat() == "2026-04-01"
    assert budgets.berlin_today(datetime(2026, 1, 1, 0, 30, tzinfo=timezone.utc)).isoformat() == "2026-01-01"
    rnd = bud.round(items=[("A", 10)], status="voting")
    april = bud.member(start=berlin_today().replace(year=2026, month=4, day=1), end=berlin_today().replace(year=2026, month=4, day=30))
    march = bud.member(start=berlin_today().replace(year=2026, month=3, day=1), end=berlin_today().replace(year=2026, month=3, day=31))
    monkeypatch.setattr(budgets, "utcnow", lambda: late)
    bud.vote(rnd["id"], april, item_ids=[rnd["items"][0]["id"]])
    bud.vote(rnd["id"], march, expect=403, item_ids=[rnd["items"][0]["id"]])


# --- rounds ------------------------------------------------------------------------------------


def test_drafts_are_only_for_staff(client, bud):
    member = bud.member()
    draft = bud.round()
    visible = bud.round(status="proposals")
    assert client.get(f"{API}/rounds/{draft['id']}").status_code == 404
    assert client.get(f"{API}/rounds/{draft['id']}", headers=member.headers).status_code == 404
    assert client.get(f"{API}/rounds/{draft['id']}", headers=bud.staff.headers).status_code == 200
    assert client.get(f"{API}/rounds/{visible['id']}").status_code == 200
    listed = client.get(f"{API}/bodies/jugendparlament/rounds").get_json()
    assert [r["id"] for r in listed["items"]] == [visible["id"]] and listed["next_cursor"] is None
    staff_list = client.get(f"{API}/bodies/jugendparlament/rounds", headers=bud.staff.headers).get_json()
    assert [r["id"] for r in staff_list["items"]] == [visible["id"], draft["id"]]
    # members cannot propose into a draft they cannot see
    r = client.post(f"{API}/rounds/{draft['id']}/items", json={"title": "x", "cost": 1}, headers=member.headers)
    assert r.status_code == 404
    assert client.get(f"{API}/rounds/{draft['id']}/results").status_code == 404


def test_round_list_pages_through_every_round(client, bud):
    ids = [bud.round(status="proposals", title=f"Runde {i}")["id"] for i in range(5)]
    seen, cursor = [], None
    while True:
        url = f"{API}/bodies/jugendparlament/rounds?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url).get_json()
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ids, reverse=True)
    assert client.get(f"{API}/bodies/jugendparlament/rounds?cursor=garbage").status_code == 422
    assert client.get(f"{API}/bodies/jugendparlament/rounds?limit=0").status_code == 422
    assert client.get(f"{API}/bodies/nowhere/rounds").status_code == 404
    assert client.get(f"{API}/bodies/seniorenbeirat/rounds").get_json() == {"items": [], "next_cursor": None}


@pytest.mark.parametrize(
    "change,field",
    [
        ({"budget": 0}, "budget"),
        ({"budget": 10.5}, "budget"),
        ({"budget": "100"}, "budget"),
        ({"rule": "random"}, "rule"),
        ({"ballot": {"type": "ranked"}}, "ballot.type"),
        ({"ballot": {"type": "cumulative"}}, "ballot.points"),
        ({"ballot": {"type": "cumulative", "points": 0}}, "ballot.points"),
        ({"ballot": {"type": "approval", "points": 3}}, "ballot.points"),
        ({"ballot": {"type": "approval", "min_items": 3, "max_items": 2}}, "ballot.max_items"),
        ({"voting_end_at": "2026-05-01T12:00:00"}, "voting_end_at"),
        ({"proposals_end_at": "2027-05-02T12:00:00+02:00", "voting_end_at": "2027-05-01T12:00:00+02:00"}, "voting_end_at"),
        ({"title": ""}, "title"),
    ],
)
def test_round_validation(client, bud, change, field):
    body = {"title": "Runde", "budget": 100, "ballot": {"type": "approval"}, "rule": "greedy", **change}
    r = client.post(f"{API}/bodies/jugendparlament/rounds", json=body, headers=bud.staff.headers)
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["errors"], r.get_json()


def test_creating_rounds_needs_staff_before_validation(client, bud):
    resident = bud.make_user()
    assert client.post(f"{API}/bodies/jugendparlament/rounds", json={}).status_code == 401
    assert client.post(f"{API}/bodies/jugendparlament/rounds", json={}, headers=resident.headers).status_code == 403
    r = client.post(f"{API}/bodies/jugendparlament/rounds", headers=bud.staff.headers, json={
        "title": "Runde", "budget": 5000, "ballot": {"type": "cumulative", "points": 10, "max_items": 4, "max_cost": 3000},
        "rule": "mes", "proposals_end_at": "2027-05-01T12:00:00+02:00", "voting_end_at": "2027-06-01T12:00:00Z"})
    assert r.status_code == 201
    body = r.get_json()
    assert r.headers["Location"] == f"/api/v1/rounds/{body['id']}"
    assert body["proposals_end_at"] == "2027-05-01T10:00:00+00:00" and body["voting_end_at"] == "2027-06-01T12:00:00+00:00"
    assert body["ballot"] == {"type": "cumulative", "min_items": 1, "max_items": 4, "max_cost": 3000, "points": 10}
    assert body["items"] == [] and body["status"] == "draft"
    assert client.get(f"{API}/rounds/{body['id']}", headers=bud.staff.headers).get_json() == body


def test_idempotent_creation_of_rounds_and_items(client, bud):
    member = bud.member()
    body = {"title": "Runde", "budget": 100, "ballot": {"type": "approval"}, "rule": "greedy"}
    headers = {**bud.staff.headers, "Idempotency-Key": "round-1"}
    first = client.post(f"{API}/bodies/jugendparlament/rounds", json=body, headers=headers)
    again = client.post(f"{API}/bodies/jugendparlament/rounds", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json() and first.headers["Location"] == again.headers["Location"]
    assert count(client, BudgetRound) == 1
    other = client.post(f"{API}/bodies/jugendparlament/rounds", json={**body, "budget": 5}, headers=headers)
    assert other.status_code == 422
    rid = first.get_json()["id"]
    bud.transition(rid, "proposals")
    item = {"title": "Bänke", "description": "", "cost": 20}
    h = {**member.headers, "Idempotency-Key": "item-1"}
    one = client.post(f"{API}/rounds/{rid}/items", json=item, headers=h)
    two = client.post(f"{API}/rounds/{rid}/items", json=item, headers=h)
    assert one.status_code == two.status_code == 201 and one.get_json() == two.get_json()
    assert count(client, BudgetItem) == 1


def test_transitions(client, bud):
    rnd = bud.round()
    rid = rnd["id"]
    for to in ("closed", "published", "draft", "nonsense"):
        r = client.post(f"{API}/rounds/{rid}/transition", json={"to": to}, headers=bud.staff.headers)
        assert r.status_code == (422 if to == "nonsense" else 409), (to, r.get_json())
    bud.transition(rid, "voting", expect=409)  # no feasible item
    strict = bud.round(ballot={"type": "approval", "min_items": 2}, items=[("A", 10)])
    r = client.post(f"{API}/rounds/{strict['id']}/transition", json={"to": "voting"}, headers=bud.staff.headers)
    assert r.status_code == 409 and "mindestens 2" in r.get_json()["message"]
    assert "umsetzbar" in client.post(f"{API}/rounds/{rid}/transition", json={"to": "voting"},
                                      headers=bud.staff.headers).get_json()["message"]
    resident = bud.make_user()
    assert client.post(f"{API}/rounds/{rid}/transition", json={"to": "x"}, headers=resident.headers).status_code == 403
    bud.item(rid, "A", 10)
    bud.transition(rid, "voting")
    bud.transition(rid, "proposals", expect=409)
    bud.transition(rid, "voting", expect=409)
    bud.transition(rid, "closed")
    bud.transition(rid, "voting", expect=409)
    bud.transition(rid, "published")
    bud.transition(rid, "closed", expect=409)
    assert [(e.details["from"], e.details["to"]) for e in audit(client, "budget_round.transition")] == [
        ("draft", "voting"), ("voting", "closed"), ("closed", "published")]


def test_a_round_with_no_ballots_closes(client, bud):
    rnd = bud.round(items=[("A", 10)], status="published")
    res = client.get(f"{API}/rounds/{rnd['id']}/results").get_json()
    assert res["ballots"] == 0 and res["selected"] == [] and res["receipts"] == []
    assert res["items"][0]["explanation"]["code"] == "no_support_left"


# --- items -------------------------------------------------------------------------------------


def test_who_adds_items_when(client, bud):
    member, outsider = bud.member(), bud.make_user()
    rnd = bud.round()
    rid = rnd["id"]
    item = {"title": "Bänke", "description": "Am Phoenix-See", "cost": 20}
    assert client.post(f"{API}/rounds/{rid}/items", json=item).status_code == 401
    assert bud.item(rid, "Staff im Entwurf", 10)["feasible"] is True
    bud.transition(rid, "proposals")
    r = client.post(f"{API}/rounds/{rid}/items", json=item, headers=member.headers)
    assert r.status_code == 201 and r.get_json()["feasible"] is None
    assert r.headers["Location"] == f"/api/v1/rounds/{rid}/items/{r.get_json()['id']}"
    # not a member: 403 before the body is looked at
    assert client.post(f"{API}/rounds/{rid}/items", json={"cost": "x"}, headers=outsider.headers).status_code == 403
    for bad, field in (({**item, "cost": 0}, "cost"), ({**item, "cost": 101}, "cost"), ({**item, "cost": 1.5}, "cost"),
                       ({"cost": 5}, "title")):
        r = client.post(f"{API}/rounds/{rid}/items", json=bad, headers=member.headers)
        assert r.status_code == 422 and field in r.get_json()["errors"], r.get_json()
    # review, then voting: no more items from anyone (409 before validation)
    proposal = [i for i in bud.get(rid)["items"] if i["feasible"] is None][0]
    r = client.patch(f"{API}/rounds/{rid}/items/{proposal['id']}", json={"feasible": False}, headers=bud.staff.headers)
    assert r.status_code == 422 and "reason" in r.get_json()["errors"]
    assert client.patch(f"{API}/rounds/{rid}/items/{proposal['id']}", json={"feasible": True},
                        headers=member.headers).status_code == 403
    assert client.patch(f"{API}/rounds/{rid}/items/999999", json={"feasible": True},
                        headers=bud.staff.headers).status_code == 404
    r = client.patch(f"{API}/rounds/{rid}/items/{proposal['id']}", json={"feasible": False, "reason": "Privatgrund"},
                     headers=bud.staff.headers)
    assert r.status_code == 200 and r.get_json()["feasibility_reason"] == "Privatgrund"
    bud.transition(rid, "voting")
    assert client.post(f"{API}/rounds/{rid}/items", json={}, headers=member.headers).status_code == 409
    assert client.post(f"{API}/rounds/{rid}/items", json={}, headers=bud.staff.headers).status_code == 409
    assert client.patch(f"{API}/rounds/{rid}/items/{proposal['id']}", json={},
                        headers=bud.staff.headers).status_code == 409
    [entry] = audit(client, "budget_item.feasibility")
    assert entry.actor_id == bud.staff.id and entry.details == {
        "round_id": rid, "feasible": False, "reason": "Privatgrund"}


def test_members_propose_only_during_proposals(client, bud):
    member = bud.member()
    rnd = bud.round(items=[("A", 10)], status="voting")
    r = client.post(f"{API}/rounds/{rnd['id']}/items", json={"title": "x", "cost": 1}, headers=member.headers)
    assert r.status_code == 409


# --- ballots -----------------------------------------------------------------------------------


def test_ballot_checks_come_in_order(client, bud, session):
    member, outsider = bud.member(), bud.make_user()
    rnd = bud.round(status="proposals", items=[("A", 10)])
    rid = rnd["id"]
    # not a member: 403 whatever the phase and whatever the body
    assert client.put(f"{API}/rounds/{rid}/ballot", json={"item_ids": "x"}, headers=outsider.headers).status_code == 403
    # member, wrong phase: 409 before the body is validated
    assert client.put(f"{API}/rounds/{rid}/ballot", json={"item_ids": "x"}, headers=member.headers).status_code == 409
    bud.transition(rid, "voting")
    assert client.put(f"{API}/rounds/{rid}/ballot", json={"item_ids": "x"}, headers=member.headers).status_code == 422
    assert client.put(f"{API}/rounds/{rid}/ballot", json={"item_ids": "x"}, headers=outsider.headers).status_code == 403
    # blocked members may read but not vote
    from models.users import User

    user = session.get(User, member.id)
    user.blocked_until = datetime.now(timezone.utc) + timedelta(days=1)
    session.commit()
    r = client.put(f"{API}/rounds/{rid}/ballot", json={"item_ids": [rnd["items"][0]["id"]]}, headers=member.headers)
    assert r.status_code == 403
    assert client.put(f"{API}/rounds/{rid}/ballot", json={"item_ids": [rnd["items"][0]["id"]]}).status_code == 401
    bud.transition(rid, "closed")
    assert client.put(f"{API}/rounds/{rid}/ballot", json={}, headers=outsider.headers).status_code == 403


def test_approval_ballot_content(client, bud):
    member = bud.member()
    rnd = bud.round(budget=100, ballot={"type": "approval", "min_items": 2, "max_items": 3, "max_cost": 60},
                    items=[("A", 10), ("B", 20), ("C", 30), ("D", 40)], status="proposals")
    rid = rnd["id"]
    a, b, c, d = (i["id"] for i in rnd["items"])
    x = bud.item(rid, "X", 5, user=member)
    client.patch(f"{API}/rounds/{rid}/items/{x['id']}", json={"feasible": False, "reason": "nein"}, headers=bud.staff.headers)
    other = bud.round(items=[("Z", 5)])
    bud.transition(rid, "voting")
    cases = [
        ([a], "mindestens 2"),
        ([a, b, c, d], "höchstens 3"),
        ([a, a], "nur einmal"),
        ([a, x["id"]], "nicht umsetzbar"),
        ([a, other["items"][0]["id"]], "gehört nicht"),
        ([a, 999999], "gehört nicht"),
        ([b, d], "kostet 60 €"),  # 60 is allowed ...
    ]
    for ids, text in cases[:-1]:
        r = client.put(f"{API}/rounds/{rid}/ballot", json={"item_ids": ids}, headers=member.headers)
        assert r.status_code == 422, ids
        assert text in r.get_json()["errors"]["item_ids"][0], r.get_json()
    r = client.put(f"{API}/rounds/{rid}/ballot", json={"item_ids": [c, d]}, headers=member.headers)
    assert r.status_code == 422 and "70 €" in r.get_json()["errors"]["item_ids"][0]
    r = client.put(f"{API}/rounds/{rid}/ballot", json={"item_ids": [c, d]},
                   headers={**member.headers, "Accept-Language": "en"})
    assert "at most 60 €" in r.get_json()["errors"]["item_ids"][0]
    r = client.put(f"{API}/rounds/{rid}/ballot", json={"points": {str(a): 1}}, headers=member.headers)
    assert r.status_code == 422 and "item_ids" in r.get_json()["errors"]
    assert client.get(f"{API}/rounds/{rid}/ballot", headers=member.headers).status_code == 404
    first = bud.vote(rid, member, item_ids=[d, b])
    assert first["item_ids"] == [b, d] and first["round_id"] == rid and first["cast_at"].endswith("+00:00")
    again = bud.vote(rid, member, item_ids=[d, b])
    assert again["receipt"] != first["receipt"]  # a new salt every time
    mine = client.get(f"{API}/rounds/{rid}/ballot", headers=member.headers).get_json()
    assert mine == again
    assert count(client, Ballot) == 1
    # nobody else reads it, not even staff
    assert client.get(f"{API}/rounds/{rid}/ballot", headers=bud.staff.headers).status_code == 404


def test_cumulative_ballot_content(client, bud):
    member = bud.member()
    rnd = bud.round(budget=100, ballot={"type": "cumulative", "points": 5, "max_items": 2},
                    items=[("A", 10), ("B", 20), ("C", 30)], status="voting")
    rid = rnd["id"]
    a, b, c = (str(i["id"]) for i in rnd["items"])
    for points, text in (
        ({a: 3, b: 1}, "genau 5 Punkte verteilen, nicht 4"),
        ({a: 3, b: 3}, "genau 5 Punkte verteilen, nicht 6"),
        ({a: 6, b: -1}, "negativ"),
        ({a: 1, b: 2, c: 2}, "höchstens 2"),
        ({"abc": 5}, "gehört nicht"),
        ({f" {a}": 5}, "gehört nicht"),
    ):
        r = client.put(f"{API}/rounds/{rid}/ballot", json={"points": points}, headers=member.headers)
        assert r.status_code == 422 and text in r.get_json()["errors"]["points"][0], (points, r.get_json())
    assert client.put(f"{API}/rounds/{rid}/ballot", json={"points": {a: 2.5, b: 2.5}}, headers=member.headers).status_code == 422
    assert client.put(f"{API}/rounds/{rid}/ballot", json={"item_ids": [int(a)]}, headers=member.headers).status_code == 422
    got = bud.vote(rid, member, points={a: 5, b: 0})
    assert got["points"] == {a: 5} and "item_ids" not in got


def test_parallel_ballots_of_one_member_leave_one(client, bud, run_in_parallel):
    member = bud.member()
    rnd = bud.round(items=[("A", 10), ("B", 20), ("C", 30)], status="voting")
    ids = [i["id"] for i in rnd["items"]]
    app = client.application

    def cast(i):
        return app.test_client().put(f"{API}/rounds/{rnd['id']}/ballot", json={"item_ids": [ids[i % 3]]},
                                     headers=member.headers).status_code

    assert run_in_parallel(8, cast) == [200] * 8
    assert count(client, Ballot) == 1
    mine = client.get(f"{API}/rounds/{rnd['id']}/ballot", headers=member.headers).get_json()
    assert len(mine["item_ids"]) == 1


def test_ballots_racing_the_close_are_counted_exactly_when_accepted(client, bud, run_in_parallel):
    """Ballots cast while staff close the round: every ballot answered 200 is counted, every
    other one was refused with 409; nothing in between (the ballot statement checks the
    phase itself and, on PostgreSQL, share-locks the round that closing locks for update)."""
    members = [bud.member() for _ in range(7)]
    rnd = bud.round(items=[("A", 10), ("B", 20)], status="voting")
    a = rnd["items"][0]["id"]
    bud.vote(rnd["id"], members[0], item_ids=[a])  # this worker now knows the form
    app = client.application

    def act(i):
        c = app.test_client()
        if i == len(members):
            return c.post(f"{API}/rounds/{rnd['id']}/transition", json={"to": "closed"}, headers=bud.staff.headers)
        return c.put(f"{API}/rounds/{rnd['id']}/ballot", json={"item_ids": [a]}, headers=members[i].headers)

    answers = run_in_parallel(len(members) + 1, act)
    assert answers[-1].status_code == 200
    accepted = {r.get_json()["receipt"] for r in answers[:-1] if r.status_code == 200}
    assert all(r.status_code in (200, 409) for r in answers[:-1])
    bud.transition(rnd["id"], "published")
    published = client.get(f"{API}/rounds/{rnd['id']}/results").get_json()
    refused = sum(1 for r in answers[:-1] if r.status_code == 409)
    assert published["ballots"] == len(published["receipts"]) == count(client, Ballot)
    # members[0]'s first ballot counts unless its replacement was accepted.
    assert accepted <= set(published["receipts"])
    assert len(published["receipts"]) in (len(accepted), len(accepted) + 1)
    assert refused + len(accepted) == len(members)


# --- results access ----------------------------------------------------------------------------


def test_results_access_by_phase_and_role(client, bud):
    member = bud.member()
    rnd = bud.round(items=[("A", 10)], status="proposals")
    rid = rnd["id"]
    for phase in ("proposals", "voting", "closed", "published"):
        if phase != "proposals":
            bud.transition(rid, phase)
        if phase == "voting":
            bud.vote(rid, member, item_ids=[rnd["items"][0]["id"]])
        expected = {
            "proposals": (403, 404, 404), "voting": (403, 404, 404),
            "closed": (200, 404, 404), "published": (200, 200, 200),
        }[phase]
        for path in ("results", "pabulib"):
            got = (
                client.get(f"{API}/rounds/{rid}/{path}", headers=bud.staff.headers).status_code,
                client.get(f"{API}/rounds/{rid}/{path}", headers=member.headers).status_code,
                client.get(f"{API}/rounds/{rid}/{path}").status_code,
            )
            assert got == expected, (phase, path, got)
    mine = client.get(f"{API}/rounds/{rid}/ballot", headers=member.headers).get_json()
    res = client.get(f"{API}/rounds/{rid}/results").get_json()
    assert res["receipts"] == [mine["receipt"]] and res["selected"] == [rnd["items"][0]["id"]]
    assert client.get(f"{API}/rounds/999999/results").status_code == 404


def _known_form(client, round_id):
    import models.budgets as budgets

    with client.application.app_context():
        from api.extensions import db

        return budgets.known_voting_form(db.session, round_id)


def _cast_directly(client, user_id, round_id, data):
    import models.budgets as budgets
    from models.users import User

    with client.application.app_context():
        from api.extensions import db

        try:
            return budgets.cast_ballot(db.session, db.session.get(User, user_id), round_id, data)
        finally:
            db.session.commit()


def test_ballot_written_after_the_round_closed_changes_nothing(client, bud):
    """A worker that knows the round's form does not read the round before a ballot: the ballot
    statement checks the phase itself, so a round closed meanwhile gets 409 and no ballot."""
    import models.budgets as budgets

    member = bud.member()
    rnd = bud.round(items=[("A", 10), ("B", 20)], status="voting")
    a, b = (i["id"] for i in rnd["items"])
    first = bud.vote(rnd["id"], member, item_ids=[a])
    assert _known_form(client, rnd["id"]) is not None

    replaced = _cast_directly(client, member.id, rnd["id"], {"item_ids": [b]})
    assert replaced["item_ids"] == [b] and replaced["receipt"] != first["receipt"]
    mine = client.get(f"{API}/rounds/{rnd['id']}/ballot", headers=member.headers).get_json()
    assert mine["receipt"] == replaced["receipt"] and count(client, Ballot) == 1

    bud.transition(rnd["id"], "closed")
    assert _known_form(client, rnd["id"]) is not None
    with pytest.raises(budgets.Conflict) as closed:
        _cast_directly(client, member.id, rnd["id"], {"item_ids": [a]})
    assert closed.value.message_key == "budget_wrong_phase"
    # Over HTTP the same, and a bad ballot hears about the phase first, too.
    assert bud.vote(rnd["id"], member, expect=409, item_ids=[a])["code"] == 409
    assert bud.vote(rnd["id"], member, expect=409, item_ids=[999999])["code"] == 409
    assert bud.vote(rnd["id"], member, expect=409, item_ids="nope")["code"] == 409
    mine = client.get(f"{API}/rounds/{rnd['id']}/ballot", headers=member.headers).get_json()
    assert mine["item_ids"] == [b] and mine["receipt"] == replaced["receipt"] and count(client, Ballot) == 1


def test_ballot_of_a_member_whose_term_ended_meanwhile_is_refused(client, bud):
    member, other = bud.member(), bud.member()
    rnd = bud.round(items=[("A", 10)], status="voting")
    a = rnd["items"][0]["id"]
    bud.vote(rnd["id"], other, item_ids=[a])
    assert _known_form(client, rnd["id"]) is not None
    r = client.delete(f"{API}/bodies/jugendparlament/members/{member.id}", headers=bud.admin.headers)
    assert r.status_code == 204, r.get_json()
    import models.budgets as budgets

    with pytest.raises(budgets.Forbidden):
        _cast_directly(client, member.id, rnd["id"], {"item_ids": [a]})
    # 403 over HTTP whatever the ballot says.
    for body in ({"item_ids": [a]}, {"item_ids": [a, a]}, {"item_ids": ["x"]}, {"points": {}}):
        r = client.put(f"{API}/rounds/{rnd['id']}/ballot", json=body, headers=member.headers)
        assert r.status_code == 403, (body, r.get_json())
    assert count(client, Ballot) == 1
