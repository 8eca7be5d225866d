"""The reporter's own list, and bodies of a type the report endpoints do not take."""
from __future__ import annotations

from tests.reports.helpers import UNSAFE, file_report

API = "/api/v1"


def test_my_reports_lists_own_reports_in_every_state_newest_first(client, make_user):
    reporter, other = make_user(), make_user()
    litter = file_report(client, reporter)
    pending = file_report(client, reporter, base=UNSAFE)
    file_report(client, other)
    first = client.get(f"{API}/me/reports", query_string={"limit": 1}, headers=reporter.headers).get_json()
    assert [r["id"] for r in first["items"]] == [pending["id"]] and first["items"][0]["status"] == "pending"
    second = client.get(f"{API}/me/reports", query_string={"limit": 1, "cursor": first["next_cursor"]}, headers=reporter.headers).get_json()
    assert [r["id"] for r in second["items"]] == [litter["id"]] and second["next_cursor"] is None
    assert second["items"][0]["reported_by_me"] is True
    # Nobody else's, and never anonymously.
    assert len(client.get(f"{API}/me/reports", headers=other.headers).get_json()["items"]) == 1
    assert client.get(f"{API}/me/reports").status_code == 401


def test_a_body_of_another_type_is_415_naming_what_is_taken(client, make_user):
    user = make_user()
    r = client.post(f"{API}/reports", data="kind=litter", headers={**user.headers, "Content-Type": "text/plain"})
    assert r.status_code == 415
    assert "multipart/form-data" in r.get_json()["message"] and "application/json" in r.get_json()["message"]
    # JSON-only endpoints still say just JSON.
    r = client.post(f"{API}/reports/1/updates", data="x", headers={**make_user("staff").headers, "Content-Type": "text/plain"})
    assert r.status_code == 415 and "multipart" not in r.get_json()["message"]
    # Nothing was filed by the refused bodies.
    assert client.get(f"{API}/me/reports", headers=user.headers).get_json()["items"] == []


def test_photo_paths_that_are_no_key_are_not_found(client):
    for path in ("%00", "ab/%00.jpg", "../../etc/passwd", "ab/..%2F..%2Fx.jpg", "AB/CD.JPG"):
        r = client.get(f"{API}/photos/{path}")
        assert r.status_code == 404, path
        assert r.get_json()["code"] == 404


def test_refusals_speak_the_residents_language_in_every_field(client, make_user):
    from tests.media.fixtures import jpeg
    from tests.reports.helpers import file_multipart

    user = make_user()
    r = file_multipart(client, user, [jpeg(40, 30)] * 4)
    assert r.status_code == 422
    assert r.get_json()["errors"]["photo"] == ["Höchstens 3 Fotos pro Meldung."]
    r = client.get(f"{API}/reports", query_string={"bbox": "1,2,3"})
    assert r.get_json()["errors"]["bbox"] == ["Bitte vier Zahlen angeben: minLon,minLat,maxLon,maxLat."]
    r = client.get(f"{API}/reports", query_string={"bbox": "1,2,3"}, headers={"Accept-Language": "en"})
    assert r.get_json()["errors"]["bbox"] == ["Give four numbers: minLon,minLat,maxLon,maxLat."]


def test_a_urlencoded_form_files_a_report_without_photos(client, make_user):
    user = make_user()
    fields = {"kind": "litter", "category": "glass", "description": "Scherben am Alten Markt", "lat": "51.5136", "lon": "7.4653"}
    r = client.post(f"{API}/reports", data=fields, headers=user.headers, content_type="application/x-www-form-urlencoded")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["district"] == "innenstadt-west" and r.get_json()["photos"] == []
    r = client.post(f"{API}/reports", data={**fields, "lat": "nan"}, headers=user.headers, content_type="application/x-www-form-urlencoded")
    assert r.status_code == 422 and "lat" in r.get_json()["errors"]


def test_map_pages_show_counter_changes_at_once(client, make_user):
    """Confirmations and feedback are SQL counters: they bump the revision the page cache keys on."""
    reporter, neighbour, staff = make_user(), make_user(), make_user("staff")
    report = file_report(client, reporter)
    box = {"bbox": "7.45,51.50,7.48,51.52", "limit": 50}

    def listed():
        return next(r for r in client.get(f"{API}/reports", query_string=box).get_json()["items"] if r["id"] == report["id"])

    assert listed()["confirmations"] == 0
    assert client.post(f"{API}/reports/{report['id']}/confirm", headers=neighbour.headers).status_code == 204
    assert listed()["confirmations"] == 1
    client.post(f"{API}/reports/{report['id']}/updates", json={"status": "resolved", "note": "Erledigt"}, headers=staff.headers)
    assert listed()["status"] == "resolved"
    assert client.post(f"{API}/reports/{report['id']}/feedback", json={"helped": True}, headers=reporter.headers).status_code == 201
    assert listed()["feedback"] == {"helped": 1, "not_helped": 0}
