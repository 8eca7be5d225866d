"""The console's budget pages over HTTP: a whole round from creation to published results, reviews,
phase moves the domain refuses, the results' explanations and the Pabulib download.

Members and their ballots are arranged through the API (tests/budgets/conftest.py's helpers);
everything staff do happens through the console's forms.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from api.extensions import db
from models.audit import AuditEntry
from models.budgets import BERLIN, BudgetItem, BudgetRound
from tests.budgets.conftest import Budgets
from tests.console.test_console_http import CSRF, csrf_token, login
from voting import from_pabulib_rule, parse_pabulib, tally, texts

API = "/api/v1"
LIST = "/console/budgets"


@pytest.fixture
def bud(client, make_user):
    return Budgets(client, make_user)


@pytest.fixture
def database(clean_app):
    """A session for one look at the database, in an app context of its own.

    Not the `session` fixture: its app context would stay open around the requests, and they
    would share one session (expire_on_commit=False), where a round's items can be stale.
    """

    @contextmanager
    def look():
        with clean_app.app_context():
            yield db.session

    return look


def wall(moment: datetime) -> str:
    """What a browser's datetime-local input sends for `moment` on Dortmund's clock."""
    return moment.astimezone(BERLIN).strftime("%Y-%m-%dT%H:%M")


def create_form(token: str, **overrides) -> dict:
    form = {"csrf_token": token, "body": "jugendparlament", "title": "Jugendbudget Hörde 2027", "budget": "100",
            "ballot_type": "approval", "min_items": "", "max_items": "3", "max_cost": "", "points": "", "rule": "greedy",
            "proposals_end_at": "", "voting_end_at": ""}
    form.update(overrides)
    return form


def page_of(client, path: str) -> str:
    r = client.get(path)
    assert r.status_code == 200, (path, r.status_code)
    return r.get_data(as_text=True)


def round_count(database) -> int:
    with database() as session:
        return session.scalar(select(func.count()).select_from(BudgetRound))


def test_a_whole_round_through_the_console(client, bud, database):
    members = [bud.member() for _ in range(5)]
    assert login(client, bud.staff).status_code == 302
    listing = page_of(client, LIST)
    assert "Jugendparlament Dortmund" in listing and "Seniorenbeirat der Stadt Dortmund" in listing
    token = CSRF.search(listing).group(1)

    # 1. Create: whole euros, the ballot's limits, the rule and two times on Dortmund's clock.
    soon = (datetime.now(timezone.utc) + timedelta(days=10)).replace(second=0, microsecond=0)
    later = soon + timedelta(days=10)
    r = client.post(LIST, data=create_form(token, proposals_end_at=wall(soon), voting_end_at=wall(later)))
    assert r.status_code == 302, r.get_data(as_text=True)
    rid = int(re.fullmatch(r"/console/budgets/rounds/(\d+)", r.headers["Location"]).group(1))
    api_view = bud.get(rid)
    assert (api_view["status"], api_view["body"], api_view["title"], api_view["budget"], api_view["rule"]) == (
        "draft", "jugendparlament", "Jugendbudget Hörde 2027", 100, "greedy")
    assert api_view["ballot"] == {"type": "approval", "min_items": 1, "max_items": 3, "max_cost": None, "points": None}
    # Entered in Europe/Berlin, stored and answered in UTC.
    assert api_view["proposals_end_at"] == soon.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    assert api_view["voting_end_at"] == later.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    assert "Jugendbudget Hörde 2027" in page_of(client, LIST)

    # 2. Proposals: staff add an item here, members propose through the app.
    path = f"/console/budgets/rounds/{rid}"
    r = client.post(f"{path}/transition", data={"csrf_token": token, "to": "proposals"})
    assert (r.status_code, r.headers["Location"]) == (302, path)
    r = client.post(f"{path}/items", data={"csrf_token": token, "title": "Skatepark", "description": "Am Phoenix-See", "cost": "60"})
    assert (r.status_code, r.headers["Location"]) == (302, f"{path}#items")
    a = bud.get(rid)["items"][0]
    assert (a["title"], a["cost"], a["feasible"]) == ("Skatepark", 60, True)
    b = bud.item(rid, "Bänke", 30, user=members[0])
    c = bud.item(rid, "Graffiti-Wand", 30, user=members[1])
    d = bud.item(rid, "Schwimmbad", 90, user=members[2])
    html = page_of(client, path)
    assert html.count("Noch nicht geprüft") >= 3 and "Vorschlagsphase" in html

    # A move the domain refuses: the API's 409 and its words, nothing changed.
    r = client.post(f"{path}/transition", data={"csrf_token": token, "to": "voting"})
    assert r.status_code == 409 and "nicht geprüft" in r.get_data(as_text=True) and 'role="alert"' in r.get_data(as_text=True)
    r = client.post(f"{path}/transition", data={"csrf_token": token, "to": "published"})
    assert r.status_code == 409 and "„proposals“ kann nicht nach „published“" in r.get_data(as_text=True)
    assert bud.get(rid)["status"] == "proposals"

    # 3. Reviews, exactly as PATCH /rounds/{id}/items/{item_id}: a "no" needs a reason.
    r = client.post(f"{path}/items/{d['id']}/review", data={"csrf_token": token, "feasible": "false", "reason": "  "})
    assert r.status_code == 422 and "Bitte begründe" in r.get_data(as_text=True)
    r = client.post(f"{path}/items/{d['id']}/review", data={"csrf_token": token, "reason": "egal"})
    assert r.status_code == 422 and "Pflichtfeld fehlt" in r.get_data(as_text=True)
    assert bud.get(rid)["items"][3]["feasible"] is None
    for item, feasible, reason in ((b, "true", ""), (c, "true", ""), (d, "false", "Zu teuer im Unterhalt")):
        r = client.post(f"{path}/items/{item['id']}/review", data={"csrf_token": token, "feasible": feasible, "reason": reason})
        assert r.status_code == 302, r.get_data(as_text=True)
    items = bud.get(rid)["items"]
    assert [(i["feasible"], i["feasibility_reason"]) for i in items] == [
        (True, None), (True, None), (True, None), (False, "Zu teuer im Unterhalt")]
    html = page_of(client, path)
    assert "Nicht umsetzbar" in html and "Zu teuer im Unterhalt" in html
    with database() as session:
        audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "budget_item.feasibility")).all()
        assert len(audited) == 3 and {e.actor_id for e in audited} == {bud.staff.id}

    # 4. Voting; results are not there yet (the API's 403 for staff).
    assert client.post(f"{path}/transition", data={"csrf_token": token, "to": "voting"}).status_code == 302
    for user, chosen in zip(members, [[a, b], [a], [a, c], [b, c], [b]]):
        bud.vote(rid, user, item_ids=[i["id"] for i in chosen])
    r = client.get(f"{path}/results")
    assert r.status_code == 403 and "erst, wenn die Abstimmung beendet ist" in r.get_data(as_text=True)
    r = client.post(f"{path}/items/{b['id']}/review", data={"csrf_token": token, "feasible": "false", "reason": "Zu spät"})
    assert r.status_code == 409 and "(„voting“)" in r.get_data(as_text=True)
    assert bud.get(rid)["items"][1]["feasible"] is True
    assert "Prüfung speichern" not in page_of(client, path)

    # 5. Closing counts; staff see the result before it is published.
    assert client.post(f"{path}/transition", data={"csrf_token": token, "to": "closed"}).status_code == 302
    html = page_of(client, f"{path}/results")
    assert "Noch nicht veröffentlicht" in html
    assert client.post(f"{path}/transition", data={"csrf_token": token, "to": "published"}).status_code == 302
    assert bud.get(rid)["status"] == "published"

    # 6. The result with each item's explanation, as GET /rounds/{id}/results gives it.
    api_result = client.get(f"{API}/rounds/{rid}/results", headers={"Accept-Language": "de"}).get_json()
    assert api_result["selected"] == [a["id"], b["id"]]
    html = page_of(client, f"{path}/results")
    assert "Noch nicht veröffentlicht" not in html
    for item in api_result["items"]:
        row = re.search(rf'<tr data-explanation="{item["explanation"]["code"]}"><th scope="row">{re.escape(item["title"])}</th>(.*?)</tr>',
                        html, re.S)
        assert row, item
        assert item["explanation"]["text"] in row.group(1)
        assert ("<td>Ja</td>" if item["selected"] else "<td>Nein</td>") in row.group(1)
    assert "Zu teuer im Unterhalt" in html  # why the not feasible item was not on the ballot
    selected_list = html.split('<ul class="selected">', 1)[1].split("</ul>", 1)[0]
    assert "Skatepark" in selected_list and "Bänke" in selected_list and "Graffiti" not in selected_list
    english = page_of(client, f"{path}/results?lang=en")
    assert texts("did_not_fit", "en") in english and "Results: Jugendbudget" in english

    # 7. The Pabulib file: the API's export, as a download, read back by voting/.
    r = client.get(f"{path}/pabulib")
    assert r.status_code == 200 and r.mimetype == "text/plain"
    assert r.headers["Content-Disposition"] == f'attachment; filename="jugendparlament-{rid}.pb"'
    text = r.get_data(as_text=True)
    assert text == client.get(f"{API}/rounds/{rid}/pabulib").get_data(as_text=True)
    parsed = parse_pabulib(text)
    assert parsed.published_selection() == [str(i) for i in api_result["selected"]]
    rule, completion = from_pabulib_rule(parsed.meta["rule"])
    assert list(tally(parsed.election, rule, completion).selected) == [str(i) for i in api_result["selected"]]
    assert len(parsed.election.projects) == 3  # the infeasible one was never on the ballot


def test_a_draft_may_open_the_vote_at_once_and_a_finished_round_moves_no_further(client, bud, database):
    rnd = bud.round(items=[("Bolzplatz", 40)])
    login(client, bud.staff)
    path = f"/console/budgets/rounds/{rnd['id']}"
    html = page_of(client, path)
    token = CSRF.search(html).group(1)
    assert 'value="proposals"' in html and 'value="voting"' in html
    assert client.post(f"{path}/transition", data={"csrf_token": token, "to": "voting"}).status_code == 302
    html = page_of(client, path)
    assert 'name="to" value="closed"' in html and "Projekt hinzufügen" not in html
    # A stale button (the page was open in two tabs): the API's 409, nothing changed.
    r = client.post(f"{path}/transition", data={"csrf_token": token, "to": "voting"})
    assert r.status_code == 409 and "„voting“ kann nicht nach „voting“" in r.get_data(as_text=True)
    r = client.post(f"{path}/transition", data={"csrf_token": token, "to": "nonsense"})
    assert r.status_code == 422
    r = client.post(f"{path}/items", data={"csrf_token": token, "title": "Zu spät", "cost": "5"})
    assert r.status_code == 409
    assert bud.get(rnd["id"])["status"] == "voting" and len(bud.get(rnd["id"])["items"]) == 1
    for to in ("closed", "published"):
        assert client.post(f"{path}/transition", data={"csrf_token": token, "to": to}).status_code == 302
    html = page_of(client, path)
    assert 'name="to"' not in html and "Die Runde ist abgeschlossen." in html
    # Nobody voted: nothing selected, each item says why.
    html = page_of(client, f"{path}/results")
    assert "Kein Projekt wurde ausgewählt." in html and texts("no_support_left", "de") in html
    with database() as session:
        moves = session.scalars(select(AuditEntry).where(AuditEntry.action == "budget_round.transition")).all()
        assert [(m.actor_id, m.details["to"]) for m in moves][-3:] == [(bud.staff.id, to) for to in ("voting", "closed", "published")]


def test_the_create_form_refuses_what_the_api_refuses_and_keeps_the_entries(client, bud, database):
    login(client, bud.staff)
    token = csrf_token(client, LIST)
    past = datetime.now(timezone.utc) - timedelta(hours=2)
    soon = datetime.now(timezone.utc) + timedelta(days=3)
    cases = [
        (dict(budget="0"), "Muss zwischen 1 und"),
        (dict(budget="12.50"), "Keine gültige ganze Zahl"),
        (dict(title=""), "Muss zwischen 1 und 200 Zeichen lang sein"),
        (dict(ballot_type="cumulative"), "Punktzahl"),
        (dict(points="10"), "Punkte gibt es nur bei"),
        (dict(min_items="3", max_items="2"), "max_items darf nicht kleiner"),
        (dict(rule="lottery"), "Erlaubt sind"),
        (dict(body="stadtrat"), "Bitte ein Gremium wählen"),
        (dict(proposals_end_at=wall(past)), "in der Vergangenheit"),
        (dict(proposals_end_at=wall(soon), voting_end_at=wall(soon - timedelta(days=1))), "nach dem Ende der Vorschlagsphase"),
        (dict(voting_end_at="morgen"), "Kein gültiger Zeitpunkt"),
        (dict(voting_end_at="0001-01-01T00:30"), "zwischen den Jahren 2000 und 2999"),
        # 02:30 on the last Sunday of March 2027 never happens in Dortmund (words: console/views/forms.py).
        (dict(voting_end_at="2027-03-28T02:30"), 'id="voting_end_at-error"'),
    ]
    for overrides, words in cases:
        r = client.post(LIST, data=create_form(token, **overrides))
        html = r.get_data(as_text=True)
        assert r.status_code == 422 and words in html, (overrides, html[html.find('role="alert"'):][:400])
        assert 'aria-invalid="true"' in html and 'class="error-summary"' in html, overrides
        assert 'value="Jugendbudget Hörde 2027"' in html or overrides.get("title") == "", overrides
    assert round_count(database) == 0
    # Cumulative with points, every limit given, the Seniorenbeirat: fine.
    r = client.post(LIST, data=create_form(token, body="seniorenbeirat", ballot_type="cumulative", points="10", min_items="0",
                                           max_items="4", max_cost="80", rule="mes"))
    assert r.status_code == 302
    rnd = bud.get(int(r.headers["Location"].rsplit("/", 1)[1]))
    assert rnd["body"] == "seniorenbeirat" and rnd["rule"] == "mes"
    assert rnd["ballot"] == {"type": "cumulative", "min_items": 0, "max_items": 4, "max_cost": 80, "points": 10}
    html = page_of(client, LIST)
    assert html.count("Jugendbudget Hörde 2027") == 1  # listed once, under the Seniorenbeirat


def test_residents_and_moderators_are_refused_and_a_forged_token_changes_nothing(client, bud, make_user, database):
    rnd = bud.round(status="proposals")
    member = bud.member()
    item = bud.item(rnd["id"], "Tischtennisplatte", 20, user=member)
    path = f"/console/budgets/rounds/{rnd['id']}"
    r = client.get(LIST)
    assert r.status_code == 302 and r.headers["Location"].startswith("/console/login")
    assert login(client, make_user()).status_code == 403
    assert client.get(path).status_code == 302
    moderator = make_user("moderator")
    login(client, moderator)
    assert client.get(LIST).status_code == 403 and client.get(path).status_code == 403
    token = csrf_token(client, "/console/moderation")
    r = client.post(f"{path}/transition", data={"csrf_token": token, "to": "voting"})
    assert r.status_code == 403
    assert "/console/budgets" not in page_of(client, "/console/moderation")  # no link to pages that refuse
    client.post("/console/logout", data={"csrf_token": token})

    login(client, bud.staff)
    assert '/console/budgets"' in page_of(client, "/console/reports")
    for forged in (None, "forged-token"):
        data = {"feasible": "false", "reason": "Nein"}
        if forged:
            data["csrf_token"] = forged
        r = client.post(f"{path}/items/{item['id']}/review", data=data)
        assert r.status_code == 400 and "nichts geändert" in r.get_data(as_text=True)
        r = client.post(LIST, data={**create_form("x"), "csrf_token": forged} if forged else {k: v for k, v in create_form("x").items() if k != "csrf_token"})
        assert r.status_code == 400
        r = client.post(f"{path}/transition", data={"to": "voting", **({"csrf_token": forged} if forged else {})})
        assert r.status_code == 400
    with database() as session:
        assert session.get(BudgetItem, item["id"]).feasible is None
    assert round_count(database) == 1 and bud.get(rnd["id"])["status"] == "proposals"
    # An unknown round is the console's 404 page.
    r = client.get("/console/budgets/rounds/999999")
    assert r.status_code == 404 and "Nicht gefunden" in r.get_data(as_text=True)


def test_budget_pages_have_no_inline_script_or_style_and_a_label_for_every_input(client, bud, make_user):
    rnd = bud.round(status="proposals", items=[("Bolzplatz", 40)])
    bud.item(rnd["id"], "Bank", 10, user=bud.member())
    closed = bud.round(status="closed", items=[("Spielplatz", 50)])
    login(client, bud.staff)
    for path in (LIST, f"/console/budgets/rounds/{rnd['id']}", f"/console/budgets/rounds/{closed['id']}",
                 f"/console/budgets/rounds/{closed['id']}/results", f"{LIST}?lang=en"):
        html = page_of(client, path)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert " style=" not in html and "<style" not in html, path
        assert html.count("<h1") == 1, path
        levels = [int(n) for n in re.findall(r"<h([1-6])", html)]
        assert all(b - a <= 1 for a, b in zip(levels, levels[1:])), (path, levels)
        labelled = set(re.findall(r'<label for="([^"]+)"', html))
        for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
            if 'type="hidden"' in tag:
                continue
            found = re.search(r'\bid="([^"]+)"', tag)
            assert found and found.group(1) in labelled, (path, tag)
        ids = re.findall(r'\bid="([^"]+)"', html)
        assert len(ids) == len(set(ids)), path
        for table in re.findall(r"<table>.*?</table>", html, re.S):
            assert "<caption>" in table and 'scope="col"' in table, path
        for form in re.findall(r"<form method=\"post\".*?</form>", html, re.S):
            assert 'name="csrf_token"' in form, path
