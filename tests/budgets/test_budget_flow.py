"""A whole round through the HTTP API, and the Pabulib export read back by pabutools."""
from __future__ import annotations

import pytest

from sqlalchemy import select

from models.audit import AuditEntry
from models.budgets import Ballot
from tests.notifications.delivered import inbox

API = "/api/v1"


def pabutools_selection(text: str, rule: str) -> list[str]:
    """What pabutools picks from our file under the round's rule (ties: PROJECTS order)."""
    from pabutools.election import AbstractApprovalProfile, Additive_Cardinal_Sat, Cost_Sat, Instance
    from pabutools.election.pabulib import parse_pabulib_from_string
    from pabutools.rules import greedy_utilitarian_welfare
    from pabutools.rules.budgetallocation import BudgetAllocation
    from pabutools.rules.mes.mes_rule import method_of_equal_shares_scheme
    from pabutools.fractions import frac
    from pabutools.tiebreaking import TieBreakingRule

    instance, profile = parse_pabulib_from_string(text)
    order = {}
    for line in text.split("PROJECTS\n", 1)[1].split("VOTES\n", 1)[0].splitlines()[1:]:
        order[line.split(";", 1)[0]] = len(order)
    tie = TieBreakingRule(lambda inst, prof, proj: order[proj.name])
    approval = isinstance(profile, AbstractApprovalProfile)
    sat = Cost_Sat if approval else Additive_Cardinal_Sat
    voted = {p.name for p in instance if any((p in b) if approval else b.get(p, 0) > 0 for b in profile)}

    if rule in ("greedy", "greedy-no-skip"):
        only_voted = Instance((p for p in instance if p.name in voted), budget_limit=instance.budget_limit)
        if rule == "greedy":
            chosen = greedy_utilitarian_welfare(only_voted, profile, sat_class=sat, tie_breaking=tie)
            return sorted((p.name for p in chosen), key=order.__getitem__)
        # greedy-no-skip: rank by score, stop at the first that does not fit
        score = {p.name: sum((1 if p in b else 0) if approval else b.get(p, 0) for b in profile) for p in only_voted}
        chosen, left = [], instance.budget_limit
        for p in sorted(only_voted, key=lambda p: (-score[p.name], order[p.name])):
            if p.cost > left:
                break
            chosen.append(p.name)
            left -= p.cost
        return sorted(chosen, key=order.__getitem__)

    assert rule == "equalshares/add1"
    n = profile.num_ballots()

    def mes(extra):
        chosen = method_of_equal_shares_scheme(
            instance, profile, profile.as_sat_profile(sat), frac(int(instance.budget_limit), n) + extra,
            BudgetAllocation(), tie, binary_sat=approval,
        )
        return sorted((p.name for p in chosen), key=order.__getitem__)

    costs = {p.name: p.cost for p in instance}
    outcome, extra = mes(0), 0
    while set(outcome) != voted:
        extra += 1
        nxt = mes(extra)
        if sum(costs[p] for p in nxt) > instance.budget_limit:
            break
        outcome = nxt
    return outcome


def test_whole_round_approval_greedy(client, bud, session):
    members = [bud.member() for _ in range(5)]
    outsider = bud.make_user()
    rnd = bud.round(budget=100, ballot={"type": "approval", "max_items": 3}, rule="greedy")
    assert rnd["status"] == "draft" and rnd["body"] == "jugendparlament"
    assert rnd["ballot"] == {"type": "approval", "min_items": 1, "max_items": 3, "max_cost": None, "points": None}
    rid = rnd["id"]

    bud.transition(rid, "proposals")
    a = bud.item(rid, "Skatepark", 60)
    assert a["feasible"] is True
    b = bud.item(rid, "Bänke", 30, user=members[0])
    c = bud.item(rid, "Graffiti-Wand", 30, user=members[1])
    d = bud.item(rid, "Schwimmbad", 90, user=members[2])
    assert b["feasible"] is None and c["feasible"] is None

    bud.transition(rid, "voting", expect=409)  # unreviewed proposals
    for item, ok in ((b, True), (c, True), (d, False)):
        r = client.patch(f"{API}/rounds/{rid}/items/{item['id']}", headers=bud.staff.headers,
                         json={"feasible": ok, "reason": None if ok else "Zu teuer im Unterhalt"})
        assert r.status_code == 200 and r.get_json()["feasible"] is ok
    opened = bud.transition(rid, "voting")
    assert opened["status"] == "voting"
    assert [i["feasibility_reason"] for i in opened["items"]] == [None, None, None, "Zu teuer im Unterhalt"]

    ballots = [[a, b], [a], [a, c], [b, c], [b]]
    receipts = {}
    for user, chosen in zip(members, ballots):
        got = bud.vote(rid, user, item_ids=[i["id"] for i in chosen])
        assert got["item_ids"] == sorted(i["id"] for i in chosen) and len(got["receipt"]) == 64
        receipts[user.id] = got["receipt"]
    bud.vote(rid, outsider, expect=403, item_ids=[a["id"]])
    bud.vote(rid, members[0], expect=422, item_ids=[d["id"]])  # not feasible

    assert client.get(f"{API}/rounds/{rid}/results", headers=bud.staff.headers).status_code == 403
    bud.transition(rid, "closed")
    staff_view = client.get(f"{API}/rounds/{rid}/results", headers=bud.staff.headers).get_json()
    assert "receipts" not in staff_view
    assert client.get(f"{API}/rounds/{rid}/results", headers=members[0].headers).status_code == 404
    bud.transition(rid, "published")

    res = client.get(f"{API}/rounds/{rid}/results", headers={"Accept-Language": "en"}).get_json()
    # scores: a=3, b=3, c=2; a (60) then b (30) fit, c (30) does not
    assert res["selected"] == [a["id"], b["id"]]
    assert (res["rule"], res["budget"], res["total_cost"], res["ballots"], res["eligible_voters"]) == ("greedy", 100, 90, 5, 5)
    by_id = {i["id"]: i for i in res["items"]}
    assert [i["id"] for i in res["items"]] == [a["id"], b["id"], c["id"], d["id"]]
    assert (by_id[a["id"]]["votes"], by_id[b["id"]]["votes"], by_id[c["id"]]["votes"]) == (3, 3, 2)
    assert by_id[c["id"]]["explanation"]["code"] == "did_not_fit"
    assert by_id[d["id"]]["explanation"]["code"] == "not_feasible"
    assert by_id[a["id"]]["explanation"] == {"code": "selected", "text": "This project will be carried out."}
    assert sorted(res["receipts"]) == sorted(receipts.values())
    de = client.get(f"{API}/rounds/{rid}/results").get_json()
    assert de["items"][0]["explanation"]["text"] == "Dieses Projekt wird umgesetzt."

    export = client.get(f"{API}/rounds/{rid}/pabulib")
    assert export.status_code == 200 and export.mimetype == "text/plain"
    text = export.get_data(as_text=True)
    projects = text.split("PROJECTS\n", 1)[1].split("VOTES\n", 1)[0].splitlines()[1:]
    assert [p.split(";")[0] for p in projects] == [str(a["id"]), str(b["id"]), str(c["id"])]  # infeasible d not on the ballot
    assert "User" not in text and "@" not in text  # voters are anonymous
    assert [int(x) for x in pabutools_selection(text, "greedy")] == res["selected"]

    # events: voting opened and results published, to every member, without names
    with client.application.app_context():
        from api.extensions import db

        rows = inbox(client.application)
        types = sorted({(m.type, m.user_id) for m in rows})
        assert types == sorted({(t, u.id) for t in ("budget_voting_opened", "budget_results_published") for u in members})
        assert all(m.title == "Jugendbudget 2026" and m.data == {"round_id": str(rid), "body": "jugendparlament"} for m in rows)
        # no names, no item texts: the data routes, the texts are fixed (notifications.render)
        assert not any("User" in str(m.data) or "Skatepark" in str(m.data) for m in rows)
        transitions = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "budget_round.transition").order_by(AuditEntry.id)
        ).all()
        assert [(e.details["from"], e.details["to"], e.actor_id) for e in transitions] == [
            ("draft", "proposals", bud.staff.id), ("proposals", "voting", bud.staff.id),
            ("voting", "closed", bud.staff.id), ("closed", "published", bud.staff.id)]
        decisions = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "budget_item.feasibility")).all()
        assert {(e.target_id, e.details["feasible"]) for e in decisions} == {(b["id"], True), (c["id"], True), (d["id"], False)}
        assert db.session.scalar(select(Ballot).limit(1)) is not None


def test_whole_round_cumulative_mes(client, bud):
    members = [bud.member() for _ in range(6)]
    rnd = bud.round(budget=100, ballot={"type": "cumulative", "points": 5}, rule="mes",
                    items=[("Skatepark", 60), ("Bänke", 30), ("Wand", 30), ("Kino", 50)])
    rid = rnd["id"]
    a, b, c, d = (i["id"] for i in rnd["items"])
    bud.transition(rid, "voting")
    votes = [{a: 5}, {a: 4, b: 1}, {a: 3, d: 2}, {b: 5}, {c: 2, b: 3}, {d: 5}]
    for user, pts in zip(members, votes):
        got = bud.vote(rid, user, points={str(k): v for k, v in pts.items()})
        assert got["points"] == {str(k): v for k, v in sorted(pts.items())}
    bud.transition(rid, "closed")
    bud.transition(rid, "published")
    res = client.get(f"{API}/rounds/{rid}/results").get_json()
    assert res["rule"] == "mes" and res["ballots"] == 6
    by_id = {i["id"]: i for i in res["items"]}
    assert by_id[a]["score"] == 12 and by_id[a]["votes"] == 3
    assert res["total_cost"] == sum(by_id[i]["cost"] for i in res["selected"]) <= 100
    text = client.get(f"{API}/rounds/{rid}/pabulib").get_data(as_text=True)
    assert "rule;equalshares/add1" in text and "vote_type;cumulative" in text
    assert [int(x) for x in pabutools_selection(text, "equalshares/add1")] == res["selected"]
    for item in res["items"]:
        assert item["explanation"]["code"] in ("selected", "no_support_left", "did_not_fit")
        assert (item["explanation"]["code"] == "selected") == item["selected"]


def test_greedy_no_skip_export_matches(client, bud):
    members = [bud.member() for _ in range(4)]
    rnd = bud.round(budget=70, rule="greedy_no_skip", items=[("A", 60), ("B", 30), ("C", 30)], status="voting")
    a, b, c = (i["id"] for i in rnd["items"])
    for user, chosen in zip(members, [[a, b, c], [a, b, c], [a, c], [c]]):
        bud.vote(rnd["id"], user, item_ids=chosen)
    bud.transition(rnd["id"], "closed")
    res = client.get(f"{API}/rounds/{rnd['id']}/results", headers=bud.staff.headers).get_json()
    assert res["selected"] == [c]  # c (score 4) then a (60) does not fit: stop
    assert {i["id"]: i["explanation"]["code"] for i in res["items"]} == {a: "did_not_fit", b: "did_not_fit", c: "selected"}
    text = client.get(f"{API}/rounds/{rnd['id']}/pabulib", headers=bud.staff.headers).get_data(as_text=True)
    assert [int(x) for x in pabutools_selection(text, "greedy-no-skip")] == res["selected"]


@pytest.mark.parametrize("ballot", [{"type": "cumulative", "points": 3}, {"type": "approval"}])
def test_export_leaves_out_items_nobody_voted_for(client, bud, ballot):
    """API.md: items nobody voted for are never funded, and pabutools must read the export
    to exactly `selected`; its greedy would fund an unvoted item that fits, so it is left out."""
    members = [bud.member() for _ in range(2)]
    rnd = bud.round(budget=1000, ballot=ballot, rule="greedy",
                    items=[("Eins", 400), ("Zwei", 300), ("Vier", 100)], status="voting")
    one, two, unvoted = (i["id"] for i in rnd["items"])
    for user, chosen in zip(members, ([one, two], [one])):
        if ballot["type"] == "approval":
            bud.vote(rnd["id"], user, item_ids=chosen)
        else:
            bud.vote(rnd["id"], user, points={str(chosen[0]): 3})
    bud.transition(rnd["id"], "closed")
    res = client.get(f"{API}/rounds/{rnd['id']}/results", headers=bud.staff.headers).get_json()
    assert unvoted not in res["selected"] and one in res["selected"]
    text = client.get(f"{API}/rounds/{rnd['id']}/pabulib", headers=bud.staff.headers).get_data(as_text=True)
    assert "Vier" not in text
    assert [int(x) for x in pabutools_selection(text, "greedy")] == res["selected"]


def test_export_survives_awkward_titles(client, bud):
    from voting import parse_pabulib

    member = bud.member()
    rnd = bud.round(title='Runde; "2026"\nzwei', items=[('Bänke; "neu"\nam See', 10), ("VOTES", 20)], status="voting")
    a, b = (i["id"] for i in rnd["items"])
    bud.vote(rnd["id"], member, item_ids=[a, b])
    bud.transition(rnd["id"], "closed")
    text = client.get(f"{API}/rounds/{rnd['id']}/pabulib", headers=bud.staff.headers).get_data(as_text=True)
    parsed = parse_pabulib(text)
    assert [p.name for p in parsed.election.projects] == ['Bänke; "neu" am See', "VOTES"]
    assert parsed.published_selection() == [str(a), str(b)]
    assert [int(x) for x in pabutools_selection(text, "greedy")] == [a, b]
