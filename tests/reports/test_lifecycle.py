"""Reports, issue 10: the city's timeline, reopening, "did it help?", "me too", follows, flags, the staff queue."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from tests.conftest import run_in_parallel
from tests.reports import helpers
from tests.reports.helpers import ALTER_MARKT, LITTER, PHOENIX_SEE, UNSAFE

API = "/api/v1"

CITY_CENTRE = ALTER_MARKT
HOERDE = PHOENIX_SEE


def file_report(client, user, point=CITY_CENTRE, **overrides):
    """File a report at `point` (litter unless `kind` says otherwise)."""
    base = UNSAFE if overrides.get("kind") == "unsafe_place" else LITTER
    return helpers.file_report(client, user, base=base, lat=point[0], lon=point[1], **overrides)


def moderate(client, moderator, report_id, action, reason_code=None):
    reason_code = reason_code or ("ok" if action in ("approve", "restore") else "spam")
    r = client.post(
        f"{API}/moderation/decisions",
        json={"target_type": "report", "target_id": report_id, "action": action, "reason_code": reason_code},
        headers=moderator.headers,
    )
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def update_report(client, staff, report_id, status, note="Wir kümmern uns.", **extra):
    return client.post(f"{API}/reports/{report_id}/updates", json={"status": status, "note": note, **extra}, headers=staff.headers)


def advance(client, staff, report_id, status, note="Wir kümmern uns.", **extra):
    r = update_report(client, staff, report_id, status, note, **extra)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def get(client, report_id, user=None):
    r = client.get(f"{API}/reports/{report_id}", headers=user.headers if user else {})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def set_column(session, report_id, **values):
    from models.reports import Report

    session.execute(update(Report).where(Report.id == report_id).values(**values))
    session.commit()


# ---------------------------------------------------------------------------------------
# Staff updates
# ---------------------------------------------------------------------------------------


def test_the_city_walks_a_report_to_resolved_on_a_public_timeline(client, people):
    report = file_report(client, people.reporter)
    assert report["status"] == "open" and report["updates"] == []
    notes = {"acknowledged": "Gesehen.", "in_progress": "Das Team ist unterwegs.", "resolved": "Abgeholt."}
    for status, note in notes.items():
        answer = advance(client, people.staff, report["id"], status, note)
        assert answer["id"] == report["id"] and answer["status"] == status
    public = get(client, report["id"])
    assert public["status"] == "resolved"
    assert [(u["status"], u["note"]) for u in public["updates"]] == list(notes.items())
    for u in public["updates"]:
        assert datetime.fromisoformat(u["created_at"]).tzinfo is not None and u["created_at"].endswith("+00:00")
    assert public["resolved_at"] is not None


def test_staff_may_skip_forward_and_the_same_status_is_a_note(client, people):
    report = file_report(client, people.reporter)
    answer = advance(client, people.staff, report["id"], "open", "Wir haben es gesehen.")
    assert answer["status"] == "open" and [u["status"] for u in answer["updates"]] == ["open"]
    answer = advance(client, people.staff, report["id"], "resolved", "Erledigt.")
    assert answer["status"] == "resolved"
    answer = advance(client, people.staff, report["id"], "resolved", "Nachtrag: auch der Glascontainer wurde geleert.")
    assert answer["status"] == "resolved"
    assert [(u["status"], u["note"]) for u in answer["updates"]] == [
        ("open", "Wir haben es gesehen."), ("resolved", "Erledigt."), ("resolved", "Nachtrag: auch der Glascontainer wurde geleert."),
    ]


@pytest.mark.parametrize(
    "path, backwards",
    [
        (["acknowledged"], "open"),
        (["in_progress"], "open"),
        (["in_progress"], "acknowledged"),
        (["resolved"], "in_progress"),
        (["resolved"], "open"),
        (["resolved"], "acknowledged"),
    ],
)
def test_going_backwards_is_409(client, people, path, backwards):
    report = file_report(client, people.reporter)
    for status in path:
        advance(client, people.staff, report["id"], status)
    r = update_report(client, people.staff, report["id"], backwards)
    assert r.status_code == 409, r.get_json()
    after = get(client, report["id"])
    assert after["status"] == path[-1] and len(after["updates"]) == len(path)


@pytest.mark.parametrize("final", ["duplicate", "rejected"])
def test_duplicate_and_rejected_are_final(client, people, final):
    original = file_report(client, people.staff, HOERDE)  # staff are residents too
    report = file_report(client, people.reporter)
    extra = {"duplicate_of": original["id"]} if final == "duplicate" else {}
    answer = advance(client, people.staff, report["id"], final, "Schließen.", **extra)
    assert answer["status"] == final
    if final == "duplicate":
        assert answer["duplicate_of"] == original["id"]
    for status in ("open", "acknowledged", "in_progress", "resolved", "rejected" if final == "duplicate" else "duplicate"):
        more = {"duplicate_of": original["id"]} if status == "duplicate" else {}
        r = update_report(client, people.staff, report["id"], status, **more)
        assert r.status_code == 409, (status, r.get_json())
    assert get(client, report["id"])["status"] == final


def test_duplicate_needs_another_public_report(client, people, make_user):
    report = file_report(client, people.reporter)
    pending = file_report(client, make_user(), HOERDE, kind="unsafe_place")
    assert pending["status"] == "pending"
    hidden = file_report(client, make_user(), HOERDE)
    moderate(client, people.moderator, hidden["id"], "hide")
    for extra in ({}, {"duplicate_of": None}, {"duplicate_of": report["id"]}, {"duplicate_of": pending["id"]},
                  {"duplicate_of": hidden["id"]}, {"duplicate_of": 999_999}):
        r = update_report(client, people.staff, report["id"], "duplicate", **extra)
        assert r.status_code == 422, (extra, r.get_json())
        assert "duplicate_of" in r.get_json()["errors"], r.get_json()
    assert get(client, report["id"])["status"] == "open"
    original = file_report(client, make_user(), HOERDE)
    assert advance(client, people.staff, report["id"], "duplicate", duplicate_of=original["id"])["duplicate_of"] == original["id"]


def test_only_staff_post_updates_whatever_their_department(client, people, make_user, session):
    from models.users import User

    report = file_report(client, people.reporter)  # illegal_dumping: EDG's
    assert report["department"] == "edg"
    for outsider in (people.reporter, make_user(), people.moderator):
        r = update_report(client, outsider, report["id"], "acknowledged")
        assert r.status_code == 403, r.get_json()
    assert client.post(f"{API}/reports/{report['id']}/updates", json={"status": "acknowledged", "note": "x"}).status_code == 401
    parks = make_user("staff")
    session.execute(update(User).where(User.id == parks.id).values(department="gruenflaechenamt"))
    session.commit()
    assert advance(client, parks, report["id"], "acknowledged")["status"] == "acknowledged"
    assert advance(client, make_user("admin"), report["id"], "in_progress")["status"] == "in_progress"


def test_updates_on_a_pending_unsafe_place_are_409_until_it_is_approved(client, people):
    report = file_report(client, people.reporter, kind="unsafe_place")
    assert report["status"] == "pending"
    assert update_report(client, people.staff, report["id"], "acknowledged").status_code == 409
    assert update_report(client, people.staff, report["id"], "pending").status_code == 422
    moderate(client, people.moderator, report["id"], "approve")
    assert get(client, report["id"])["status"] == "open"
    assert advance(client, people.staff, report["id"], "acknowledged")["status"] == "acknowledged"


def test_bad_update_bodies_are_422(client, people):
    report = file_report(client, people.reporter)
    for body in ({"status": "resolved"}, {"status": "flying", "note": "x"}, {"status": "resolved", "note": ""},
                 {"status": "resolved", "note": "x", "duplicate_of": report["id"]}):
        r = client.post(f"{API}/reports/{report['id']}/updates", json=body, headers=people.staff.headers)
        assert r.status_code == 422, (body, r.get_json())
    assert client.post(f"{API}/reports/999999/updates", json={"status": "resolved", "note": "x"}, headers=people.staff.headers).status_code == 404


# ---------------------------------------------------------------------------------------
# Reopening and "did it help?"
# ---------------------------------------------------------------------------------------


def test_the_reporter_reopens_within_the_window(client, people, session, app):
    report = file_report(client, people.reporter)
    advance(client, people.staff, report["id"], "resolved", "Erledigt.")
    r = client.post(f"{API}/reports/{report['id']}/reopen", json={"note": "Liegt immer noch da."}, headers=people.reporter.headers)
    assert r.status_code == 200, r.get_json()
    answer = r.get_json()
    assert answer["status"] == "open"
    assert [(u["status"], u["by"]) for u in answer["updates"]] == [("resolved", "city"), ("open", "reporter")]
    assert answer["updates"][-1]["note"] == "Liegt immer noch da."
    # Back in the city's hands: staff move it along again.
    assert advance(client, people.staff, report["id"], "resolved")["status"] == "resolved"


def test_reopening_after_the_window_is_409(client, people, session, app):
    from models.reports import Report

    report = file_report(client, people.reporter)
    advance(client, people.staff, report["id"], "resolved")
    days = app.config["REPORT_REOPEN_DAYS"]
    resolved_at = session.get(Report, report["id"]).resolved_at
    set_column(session, report["id"], resolved_at=resolved_at - timedelta(days=days, minutes=1))
    r = client.post(f"{API}/reports/{report['id']}/reopen", json={}, headers=people.reporter.headers)
    assert r.status_code == 409, r.get_json()
    # Just inside the window it still works.
    set_column(session, report["id"], resolved_at=datetime.now(timezone.utc) - timedelta(days=days) + timedelta(minutes=5))
    r = client.post(f"{API}/reports/{report['id']}/reopen", json={}, headers=people.reporter.headers)
    assert r.status_code == 200 and r.get_json()["status"] == "open"


def test_only_the_reporter_reopens_and_only_a_resolved_report(client, people, make_user):
    report = file_report(client, people.reporter)
    assert client.post(f"{API}/reports/{report['id']}/reopen", json={}, headers=people.reporter.headers).status_code == 409
    advance(client, people.staff, report["id"], "in_progress")
    assert client.post(f"{API}/reports/{report['id']}/reopen", json={}, headers=people.reporter.headers).status_code == 409
    advance(client, people.staff, report["id"], "resolved")
    for other in (make_user(), people.staff, people.moderator):
        assert client.post(f"{API}/reports/{report['id']}/reopen", json={}, headers=other.headers).status_code == 403
    rejected = file_report(client, people.reporter, HOERDE)
    advance(client, people.staff, rejected["id"], "rejected", "Privatgrund.")
    assert client.post(f"{API}/reports/{rejected['id']}/reopen", json={}, headers=people.reporter.headers).status_code == 409
    assert get(client, report["id"])["status"] == "resolved"


def test_feedback_once_by_the_reporter_on_a_resolved_report(client, people, make_user):
    report = file_report(client, people.reporter)
    body = {"helped": True, "comment": "Danke, alles sauber!"}
    assert client.post(f"{API}/reports/{report['id']}/feedback", json=body, headers=people.reporter.headers).status_code == 409
    advance(client, people.staff, report["id"], "resolved")
    assert client.post(f"{API}/reports/{report['id']}/feedback", json=body, headers=make_user().headers).status_code == 403
    assert client.post(f"{API}/reports/{report['id']}/feedback", json={"comment": "?"}, headers=people.reporter.headers).status_code == 422
    assert get(client, report["id"])["feedback"] == {"helped": 0, "not_helped": 0}
    r = client.post(f"{API}/reports/{report['id']}/feedback", json=body, headers=people.reporter.headers)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["helped"] is True and r.get_json()["comment"] == "Danke, alles sauber!"
    assert get(client, report["id"])["feedback"] == {"helped": 1, "not_helped": 0}
    again = client.post(f"{API}/reports/{report['id']}/feedback", json={"helped": False}, headers=people.reporter.headers)
    assert again.status_code == 409
    assert get(client, report["id"])["feedback"] == {"helped": 1, "not_helped": 0}
    other = file_report(client, people.reporter, HOERDE)
    advance(client, people.staff, other["id"], "resolved")
    assert client.post(f"{API}/reports/{other['id']}/feedback", json={"helped": False}, headers=people.reporter.headers).status_code == 201
    assert get(client, other["id"])["feedback"] == {"helped": 0, "not_helped": 1}


# ---------------------------------------------------------------------------------------
# "Me too" and following
# ---------------------------------------------------------------------------------------


def test_confirm_counts_once_per_user_and_the_confirmer_follows(client, people, make_user):
    report = file_report(client, people.reporter)
    neighbour = make_user()
    before = get(client, report["id"], neighbour)
    assert before["confirmations"] == 0 and before["following"] is False and before["confirmed_by_me"] is False
    assert client.post(f"{API}/reports/{report['id']}/confirm", headers=neighbour.headers).status_code == 204
    assert client.post(f"{API}/reports/{report['id']}/confirm", headers=neighbour.headers).status_code == 204
    seen = get(client, report["id"], neighbour)
    assert seen["confirmations"] == 1 and seen["following"] is True and seen["confirmed_by_me"] is True
    # The reporter's own "me too" does not count.
    assert client.post(f"{API}/reports/{report['id']}/confirm", headers=people.reporter.headers).status_code == 204
    assert get(client, report["id"])["confirmations"] == 1
    assert client.post(f"{API}/reports/{report['id']}/confirm", headers=make_user().headers).status_code == 204
    assert get(client, report["id"])["confirmations"] == 2
    assert client.post(f"{API}/reports/{report['id']}/confirm").status_code == 401


@pytest.mark.parametrize("closing", ["resolved", "duplicate", "rejected"])
def test_confirming_a_closed_report_is_409(client, people, make_user, closing):
    original = file_report(client, people.staff, HOERDE)
    report = file_report(client, people.reporter)
    advance(client, people.staff, report["id"], closing, **({"duplicate_of": original["id"]} if closing == "duplicate" else {}))
    assert client.post(f"{API}/reports/{report['id']}/confirm", headers=make_user().headers).status_code == 409
    assert get(client, report["id"])["confirmations"] == 0


def test_confirming_what_is_not_public_is_404(client, people, make_user):
    pending = file_report(client, people.reporter, kind="unsafe_place")
    hidden = file_report(client, people.reporter, HOERDE)
    moderate(client, people.moderator, hidden["id"], "hide")
    for report_id in (pending["id"], hidden["id"], 999_999):
        assert client.post(f"{API}/reports/{report_id}/confirm", headers=make_user().headers).status_code == 404
    # Not even moderators, who can see them, "confirm" something nobody else can.
    assert client.post(f"{API}/reports/{pending['id']}/confirm", headers=people.moderator.headers).status_code == 404


def test_parallel_confirmations_are_all_counted(app, client, people, make_user):
    report = file_report(client, people.reporter)
    fans = [make_user() for _ in range(6)]
    clients = [app.test_client() for _ in fans]
    statuses = run_in_parallel(6, lambda i: clients[i].post(f"{API}/reports/{report['id']}/confirm", headers=fans[i].headers).status_code)
    assert statuses == [204] * 6
    assert get(client, report["id"])["confirmations"] == 6
    # And one user confirming in parallel with themself counts once.
    twin = make_user()
    statuses = run_in_parallel(4, lambda i: clients[i].post(f"{API}/reports/{report['id']}/confirm", headers=twin.headers).status_code)
    assert statuses == [204] * 4
    assert get(client, report["id"])["confirmations"] == 7


def test_follow_and_unfollow(client, people, make_user):
    report = file_report(client, people.reporter)
    fan = make_user()
    assert client.put(f"{API}/reports/{report['id']}/follow", headers=fan.headers).status_code == 204
    assert client.put(f"{API}/reports/{report['id']}/follow", headers=fan.headers).status_code == 204
    assert get(client, report["id"], fan)["following"] is True
    assert client.delete(f"{API}/reports/{report['id']}/follow", headers=fan.headers).status_code == 204
    assert client.delete(f"{API}/reports/{report['id']}/follow", headers=fan.headers).status_code == 204
    assert get(client, report["id"], fan)["following"] is False
    # The reporter follows their own report from the start.
    assert get(client, report["id"], people.reporter)["following"] is True
    assert client.put(f"{API}/reports/{report['id']}/follow").status_code == 401
    assert client.put(f"{API}/reports/999999/follow", headers=fan.headers).status_code == 404


# ---------------------------------------------------------------------------------------
# Flags
# ---------------------------------------------------------------------------------------


def flag(client, user, report_id, reason="spam"):
    return client.post(f"{API}/flags", json={"target_type": "report", "target_id": report_id, "reason": reason}, headers=user.headers)


def listed_ids(client, path="/reports", **params):
    r = client.get(f"{API}{path}", query_string={"limit": 100, **params})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    return [item["id"] for item in body["items"]] if "items" in body else [f["id"] for f in body["features"]]


def cluster_total(client, **params):
    r = client.get(f"{API}/reports/clusters", query_string={"zoom": 12, **params})
    assert r.status_code == 200, r.get_json()
    return sum(f["properties"]["count"] for f in r.get_json()["features"])


def test_three_flaggers_hide_a_report_and_a_moderator_brings_it_back(client, app, people, make_user):
    report = file_report(client, people.reporter)
    other = file_report(client, people.reporter, HOERDE)
    threshold = app.config["FLAG_HIDE_THRESHOLD"]
    assert threshold == 3
    # The reporter's own flag never counts.
    r = flag(client, people.reporter, report["id"])
    assert r.status_code == 201, r.get_json()
    flaggers = [make_user() for _ in range(threshold)]
    for flagger in flaggers[:-1]:
        assert flag(client, flagger, report["id"]).status_code == 201
    assert flag(client, flaggers[0], report["id"], "other").status_code == 409
    assert get(client, report["id"])["visibility"] == "visible"
    assert set(listed_ids(client)) == {report["id"], other["id"]} and cluster_total(client) == 2
    assert flag(client, flaggers[-1], report["id"], "offensive").status_code == 201

    assert client.get(f"{API}/reports/{report['id']}").status_code == 404
    assert get(client, report["id"], people.moderator)["visibility"] == "hidden"
    assert listed_ids(client) == [other["id"]]
    assert listed_ids(client, "/reports/geojson") == [other["id"]]
    assert cluster_total(client) == 1 and cluster_total(client, category="illegal_dumping", status="open") == 1
    queue = client.get(f"{API}/moderation/queue", query_string={"type": "report", "state": "flagged"}, headers=people.moderator.headers).get_json()
    assert [(i["target_type"], i["target_id"], i["flags"]) for i in queue["items"]] == [("report", report["id"], threshold)]

    moderate(client, people.moderator, report["id"], "restore")
    assert get(client, report["id"])["visibility"] == "visible"
    assert set(listed_ids(client)) == {report["id"], other["id"]}
    assert set(listed_ids(client, "/reports/geojson")) == {report["id"], other["id"]}
    assert cluster_total(client) == 2


def test_flagging_a_report_needs_a_known_visible_one(client, people, make_user):
    pending = file_report(client, people.reporter, kind="unsafe_place")
    assert flag(client, make_user(), pending["id"]).status_code == 404
    assert flag(client, make_user(), 999_999).status_code == 404
    r = client.post(f"{API}/flags", json={"target_type": "report", "target_id": pending["id"], "reason": "boring"}, headers=make_user().headers)
    assert r.status_code == 422


# ---------------------------------------------------------------------------------------
# The staff queue
# ---------------------------------------------------------------------------------------


def test_a_departments_queue_lists_open_reports_longest_waiting_first(client, people, make_user, session):
    now = datetime.now(timezone.utc)
    edg = []
    for i in range(5):
        report = file_report(client, make_user(), (51.5136 + i * 0.003, 7.4653), category=["bulky_waste", "glass", "dog_waste"][i % 3])
        edg.append(report["id"])
    graffiti = file_report(client, people.reporter, HOERDE, category="graffiti")  # the Ordnungsamt's
    done = file_report(client, people.reporter, (51.52, 7.48))
    advance(client, people.staff, done["id"], "resolved")
    pending = file_report(client, people.reporter, (51.53, 7.45), kind="unsafe_place", category="unsafe_other")
    # Waiting since: 5 days, 1 day, 3 days, 2 days, 4 days.
    ages = [5, 1, 3, 2, 4]
    for report_id, days in zip(edg, ages):
        set_column(session, report_id, waiting_since=now - timedelta(days=days))
    # In progress still waits for the city; acknowledged too.
    advance(client, people.staff, edg[2], "in_progress")
    expected = [report_id for _days, report_id in sorted(zip(ages, edg), reverse=True)]

    seen, cursor = [], None
    while True:
        params = {"department": "edg", "sort": "waiting", "limit": 2, **({"cursor": cursor} if cursor else {})}
        r = client.get(f"{API}/reports", query_string=params, headers=people.staff.headers)
        assert r.status_code == 200, r.get_json()
        page = r.get_json()
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        assert all(item["department"] == "edg" for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    assert done["id"] not in seen and graffiti["id"] not in seen and pending["id"] not in seen
    ordnungsamt = client.get(f"{API}/reports", query_string={"department": "ordnungsamt", "sort": "waiting"}).get_json()
    assert [i["id"] for i in ordnungsamt["items"]] == [graffiti["id"]]
    from api.pagination import encode_cursor

    for cursor in ("nonsense", encode_cursor("reports-waiting", [2**62, 1]), encode_cursor("reports-waiting", [-1, 1]),
                   encode_cursor("reports-new", [5])):
        assert client.get(f"{API}/reports", query_string={"sort": "waiting", "cursor": cursor}).status_code == 422, cursor


def test_reopened_reports_join_the_end_of_the_queue(client, people, session):
    now = datetime.now(timezone.utc)
    first = file_report(client, people.reporter)
    second = file_report(client, people.reporter, HOERDE)
    set_column(session, first["id"], waiting_since=now - timedelta(days=9))
    set_column(session, second["id"], waiting_since=now - timedelta(days=2))
    advance(client, people.staff, first["id"], "resolved")
    assert client.post(f"{API}/reports/{first['id']}/reopen", json={}, headers=people.reporter.headers).status_code == 200
    queue = client.get(f"{API}/reports", query_string={"department": "edg", "sort": "waiting"}).get_json()
    assert [i["id"] for i in queue["items"]] == [second["id"], first["id"]]


def test_users_create_sets_a_staff_department(app, session):
    from models.users import User

    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "--email", "EDG.Team@example.org", "--password", "correct horse battery",
                                 "--role", "staff", "--department", "edg"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("user ") and "roles=" in result.output and "staff" in result.output
    user = session.scalar(select(User).where(User.email_key == "edg.team@example.org"))
    assert user is not None and user.department == "edg" and user.is_staff
    # Again for an existing account: the department moves, the password stays.
    result = runner.invoke(args=["users", "create", "--email", "edg.team@example.org", "--password", "something else entirely",
                                 "--role", "staff", "--department", "tiefbauamt"])
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert session.get(User, user.id).department == "tiefbauamt"
    bad = runner.invoke(args=["users", "create", "--email", "other@example.org", "--password", "correct horse battery",
                              "--role", "staff", "--department", "nasa"])
    assert bad.exit_code == 2, bad.output
    session.expire_all()
    assert session.scalar(select(User).where(User.email_key == "other@example.org")) is None
    assert session.get(User, user.id).department == "tiefbauamt"
