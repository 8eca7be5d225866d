"""GET /open311/v2/requests: the specification's filters and defaults, statuses, times; every JSON answer against the schemas."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, update

from models.base import utcnow
from models.geography import page_cell
from models.reports import Report
from tests.open311.helpers import ALTER_MARKT, BASE, file_ok

OFFSET_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


def listed(client, query: str = "", schemas=None) -> list[dict]:
    r = client.get(f"{BASE}/requests.json{query}")
    assert r.status_code == 200, r.data
    documents = r.get_json()
    if schemas is not None:
        schemas(documents, "requests.json")
        for document in documents:
            schemas(document, "request.json")
    return documents


def ids(documents) -> list[str]:
    return [d["service_request_id"] for d in documents]


def staff_update(client, staff, report_id, status, note):
    r = client.post(f"/api/v1/reports/{report_id}/updates", json={"status": status, "note": note}, headers=staff.headers)
    assert r.status_code == 200, r.get_json()


def test_the_list_is_newest_first_with_statuses_notes_and_the_city_s_offsets(client, open311_key, make_user, open311_schemas):
    key = open311_key()
    staff = make_user("staff")
    first = file_ok(client, key)
    second = file_ok(client, key, service_code="glass", description="Scherben am Spielplatz")
    third = file_ok(client, key, service_code="graffiti", description="Graffiti an der Schule")
    staff_update(client, staff, first, "in_progress", "Abholung ist für Donnerstag bestellt.")
    staff_update(client, staff, second, "resolved", "Die EDG hat die Scherben beseitigt.")
    staff_update(client, staff, third, "open", "Wir schauen es uns an.")  # a note, no change of status
    documents = listed(client, schemas=open311_schemas)
    assert ids(documents) == [third, second, first]
    by_id = {d["service_request_id"]: d for d in documents}
    assert (by_id[first]["status"], by_id[first]["status_notes"]) == ("open", "Abholung ist für Donnerstag bestellt.")
    assert (by_id[second]["status"], by_id[second]["status_notes"]) == ("closed", "Die EDG hat die Scherben beseitigt.")
    assert by_id[third]["status_notes"] == "Wir schauen es uns an."
    assert by_id[first]["agency_responsible"] == "EDG Entsorgung Dortmund"
    assert by_id[third]["agency_responsible"] == "Ordnungsamt"
    for document in documents:
        assert OFFSET_TIME.match(document["requested_datetime"]) and OFFSET_TIME.match(document["updated_datetime"])
        requested = datetime.fromisoformat(document["requested_datetime"])
        assert requested.utcoffset() == requested.astimezone(ZoneInfo("Europe/Berlin")).utcoffset()
        assert (document["lat"], document["long"]) == ALTER_MARKT
    assert ids(listed(client, "?status=open")) == [third, first]
    assert ids(listed(client, "?status=closed")) == [second]
    assert ids(listed(client, "?status=open,closed")) == [third, second, first]
    assert ids(listed(client, "?service_code=glass,graffiti")) == [third, second]
    # service_request_id overrides every other filter.
    assert ids(listed(client, f"?service_request_id={first},{third}&status=closed&service_code=glass")) == [third, first]
    assert ids(listed(client, f"?service_request_id={first}, 99999")) == [first]
    # The single request is a list of one.
    r = client.get(f"{BASE}/requests/{second}.json")
    open311_schemas(r.get_json(), "requests.json")
    assert r.get_json() == [by_id[second]]


def test_reports_from_the_app_are_requests_too_with_their_photo(client, make_user, open311_schemas):
    from tests.media.fixtures import jpeg
    from tests.reports.helpers import file_multipart

    resident = make_user()
    r = file_multipart(client, resident, photos=[jpeg(800, 600)])
    assert r.status_code == 201, r.get_json()
    report = r.get_json()
    (document,) = listed(client, schemas=open311_schemas)
    assert document["service_request_id"] == str(report["id"]) and document["service_code"] == report["category"]
    assert document["media_url"].startswith("http") and document["media_url"].endswith(report["photos"][0]["url"])
    assert document["address"] is None


def _insert(session, created_at: datetime, n: int = 1, **values) -> list[int]:
    rows = [
        dict(kind="litter", category="glass", department="edg", description="Scherben", lat=ALTER_MARKT[0], lon=ALTER_MARKT[1],
             district="innenstadt-west", page_cell=page_cell(*ALTER_MARKT), status="open", visibility="visible", is_public=True,
             is_open=True, confirmation_count=0, helped_count=0, not_helped_count=0, waiting_since=created_at,
             created_at=created_at, updated_at=created_at, revision=0, **values)
        for _ in range(n)
    ]
    result = session.execute(insert(Report).returning(Report.id), rows)
    session.commit()
    return [row[0] for row in result]


def test_the_default_window_is_the_last_90_days_and_dates_choose_another(client, session, open311_schemas):
    now = utcnow()
    (old,) = _insert(session, now - timedelta(days=100))
    (recent,) = _insert(session, now - timedelta(days=10))
    assert ids(listed(client, schemas=open311_schemas)) == [str(recent)]
    start = (now - timedelta(days=120)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (now - timedelta(days=95)).astimezone(ZoneInfo("Europe/Berlin")).isoformat()
    assert ids(listed(client, f"?start_date={start}&end_date={end.replace('+', '%2B')}")) == [str(old)]
    # Only a start: 90 days from it. Only an end: 90 days up to it.
    assert ids(listed(client, f"?start_date={start}")) == [str(old)]
    assert ids(listed(client, f"?end_date={(now - timedelta(days=50)).strftime('%Y-%m-%dT%H:%M:%SZ')}")) == [str(old)]
    assert listed(client, "?start_date=2001-01-01T00:00:00Z&end_date=2001-02-01T00:00:00Z") == []


def test_at_most_1000_requests_newest_first(client, session):
    now = utcnow()
    made = _insert(session, now - timedelta(days=1), n=1005)
    documents = listed(client)
    assert len(documents) == 1000
    assert ids(documents) == [str(i) for i in sorted(made, reverse=True)[:1000]]


def test_hidden_and_pending_reports_are_not_listed(client, session):
    now = utcnow()
    (visible,) = _insert(session, now)
    (hidden,) = _insert(session, now)
    session.execute(update(Report).where(Report.id == hidden).values(visibility="hidden", is_public=False, is_open=False))
    session.commit()
    assert ids(listed(client)) == [str(visible)]
    assert client.get(f"{BASE}/requests/{hidden}.json").status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "?start_date=yesterday",
        "?start_date=2026-01-01",  # a W3C time needs its time and offset here
        "?start_date=2026-01-01T00:00:00",  # no offset
        "?start_date=2026-13-01T00:00:00Z",
        "?start_date=1700-01-01T00:00:00Z",
        "?start_date=2026-06-01T00:00:00Z&end_date=2026-01-01T00:00:00Z",
        "?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z",  # more than 90 days
        "?status=pending",
        "?status=open,archived",
        "?service_code=poverty",
        "?service_request_id=abc",
        "?service_request_id=1;2",
        "?service_request_id=" + ",".join(["1"] * 1001),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_malformed_filters_are_400(client, query, fmt):
    r = client.get(f"{BASE}/requests.{fmt}{query}")
    assert r.status_code == 400, (query, r.data)
    if fmt == "json":
        assert r.get_json()[0]["code"] == 400 and r.get_json()[0]["description"]
    else:
        assert ET.fromstring(r.data).findtext("error/code") == "400"


def test_an_empty_list_is_an_empty_array(client):
    assert client.get(f"{BASE}/requests.json").data == b"[]"
    root = ET.fromstring(client.get(f"{BASE}/requests.xml").data)
    assert root.tag == "service_requests" and list(root) == []


def test_renderings_follow_every_change(client, open311_key, make_user):
    """The per-worker renderings key on the revision: a note posted the same second shows at once."""
    key = open311_key()
    staff = make_user("staff")
    report_id = file_ok(client, key)
    assert listed(client)[0]["status_notes"] is None
    staff_update(client, staff, report_id, "open", "Gesehen.")
    assert listed(client)[0]["status_notes"] == "Gesehen."
    staff_update(client, staff, report_id, "resolved", "Erledigt.")
    assert (listed(client)[0]["status"], listed(client)[0]["status_notes"]) == ("closed", "Erledigt.")
    english = client.get(f"{BASE}/requests.json", headers={"Accept-Language": "en"}).get_json()
    assert english[0]["service_name"] == "Bulky waste" and listed(client)[0]["service_name"] == "Sperrmüll"
    assert datetime.fromisoformat(listed(client)[0]["updated_datetime"]) <= datetime.now(UTC)
