"""POST /open311/v2/requests: outside systems file reports like residents do, with what only Open311 carries."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
import responses

from models.open311 import Open311Contact, Open311Key, Open311Request, revoke_key
from models.reports import Report, ReportFollow
from tests.open311.helpers import (
    ALTER_MARKT,
    BASE,
    PHOENIX_SEE,
    SCHWERTE,
    file_ok,
    filing,
    post_request,
    rows,
)


def test_a_litter_request_becomes_a_public_report_that_remembers_its_key(client, session, open311_key):
    key = open311_key("edg-crm")
    r = post_request(
        client, key, **{"attribute[amount]": "large", "attribute[items][]": ["mattress", "furniture"]},
        address_string="Alter Markt 1, 44137 Dortmund", media_url="https://crm.edg.example/photos/1.jpg",
        device_id="crm-7", account_id="4711",
    )
    assert r.status_code == 200 and r.mimetype == "application/json"
    (answer,) = r.get_json()
    assert isinstance(answer["service_request_id"], str) and answer["account_id"] == "4711"
    report = session.get(Report, int(answer["service_request_id"]))
    assert (report.kind, report.category, report.status, report.is_public) == ("litter", "bulky_waste", "open", True)
    assert (report.lat, report.lon, report.district, report.department) == (*ALTER_MARKT, "innenstadt-west", "edg")
    assert report.reporter_id is None and rows(session, ReportFollow) == 0
    extras = session.get(Open311Request, report.id)
    assert extras.key_id == session.query(Open311Key).filter_by(name="edg-crm").one().id
    assert extras.attributes == {"amount": "large", "items": ["furniture", "mattress"]}
    assert (extras.address_string, extras.media_url, extras.device_id) == (
        "Alter Markt 1, 44137 Dortmund", "https://crm.edg.example/photos/1.jpg", "crm-7")
    # The app shows it like any report.
    assert client.get(f"/api/v1/reports/{report.id}").get_json()["category"] == "bulky_waste"


def test_an_unsafe_place_waits_for_the_moderators_and_only_its_filer_sees_it_meanwhile(client, session, open311_key, make_user):
    key = open311_key()
    other = open311_key("ordnungsamt")
    r = post_request(client, key, service_code="poor_lighting", lat=str(PHOENIX_SEE[0]), long=str(PHOENIX_SEE[1]))
    (answer,) = r.get_json()
    assert "geprüft" in answer["service_notice"]
    report_id = answer["service_request_id"]
    assert session.get(Report, int(report_id)).status == "pending"
    assert client.get(f"{BASE}/requests/{report_id}.json").status_code == 404
    assert client.get(f"{BASE}/requests/{report_id}.json?api_key={other}").status_code == 404
    mine = client.get(f"{BASE}/requests/{report_id}.json?api_key={key}")
    assert mine.status_code == 200 and mine.get_json()[0]["status"] == "open"
    assert client.get(f"{BASE}/requests.json").get_json() == []
    # In the moderators' queue like the app's own, and public once approved.
    moderator = make_user("moderator")
    queue = client.get("/api/v1/moderation/queue?state=pending", headers=moderator.headers).get_json()["items"]
    assert [(e["target_type"], e["target_id"]) for e in queue] == [("report", int(report_id))]
    r = client.post("/api/v1/moderation/decisions", headers=moderator.headers,
                    json={"target_type": "report", "target_id": int(report_id), "action": "approve", "reason_code": "ok"})
    assert r.status_code == 201, r.get_json()
    assert client.get(f"{BASE}/requests/{report_id}.json").status_code == 200
    assert [d["service_request_id"] for d in client.get(f"{BASE}/requests.json").get_json()] == [report_id]


def test_contact_details_are_kept_apart_and_never_shown(client, session, open311_key, make_user):
    key = open311_key()
    report_id = file_ok(client, key, email="anna@example.org", first_name="Anna", last_name="Muster", phone="0231 123")
    contact = session.get(Open311Contact, int(report_id))
    assert (contact.email, contact.first_name, contact.last_name, contact.phone) == ("anna@example.org", "Anna", "Muster", "0231 123")
    staff = make_user("staff")
    answers = [
        client.get(f"{BASE}/requests.json").data,
        client.get(f"{BASE}/requests.xml").data,
        client.get(f"{BASE}/requests/{report_id}.json").data,
        client.get(f"{BASE}/requests/{report_id}.xml").data,
        client.get(f"/api/v1/reports/{report_id}", headers=staff.headers).data,
        client.get("/api/v1/reports", headers=staff.headers).data,
    ]
    for body in answers:
        for secret in (b"anna@example.org", b"Muster", b"0231 123"):
            assert secret not in body


def test_no_contact_row_without_contact_details(client, session, open311_key):
    file_ok(client, open311_key())
    assert rows(session, Open311Contact) == 0


@responses.activate
def test_media_url_is_stored_as_given_and_never_requested(client, session, open311_key):
    # `responses` refuses every outgoing HTTP request made through `requests`: none may happen.
    key = open311_key()
    for url in ("http://127.0.0.1:5000/api/v1/reports", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/x.jpg"):
        report_id = file_ok(client, key, media_url=url)
        assert session.get(Open311Request, int(report_id)).media_url == url
        assert client.get(f"{BASE}/requests/{report_id}.json").get_json()[0]["media_url"] == url
    assert len(responses.calls) == 0


BAD_INPUT = [
    ({"service_code": "no_such_service"}, "service_code"),
    ({"service_code": "poverty"}, "service_code"),  # an idea category, not a report service
    ({"service_code": None}, "service_code"),
    ({"lat": str(SCHWERTE[0]), "long": str(SCHWERTE[1])}, "lat"),
    ({"lat": "north", "long": "7.46"}, "lat"),
    ({"lat": "nan", "long": "7.46"}, "lat"),
    ({"lat": "51.51", "long": None}, "long"),
    ({"lat": None, "long": None}, "lat"),
    ({"lat": None, "long": None, "address_string": "Alter Markt 1"}, "address_string"),
    ({"attribute[colour]": "red"}, "attribute[colour]"),
    ({"attribute[amount]": "enormous"}, "attribute[amount]"),
    ({"attribute[amount]": ["small", "large"]}, "attribute[amount]"),
    ({"attribute[items][]": ["furniture", "spaceship"]}, "attribute[items]"),
    ({"service_code": "illegal_dumping"}, "attribute[hazardous]"),
    ({"media_url": "javascript:alert(1)"}, "media_url"),
    ({"media_url": "file:///etc/passwd"}, "media_url"),
    ({"description": "x" * 2001}, "description"),
    ({"email": "not-an-address"}, "email"),
    ({"description": "nul \x00 byte"}, "description"),
    ({"jurisdiction_id": "bochum.de"}, None),
]


@pytest.mark.parametrize(("fields", "field"), BAD_INPUT)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_input_is_400_with_a_description_and_stores_nothing(client, session, open311_key, fields, field, fmt):
    key = open311_key()
    r = post_request(client, key, fmt=fmt, **fields)
    expected = 404 if "jurisdiction_id" in fields else 400
    assert r.status_code == expected, r.data
    if fmt == "json":
        (error,) = r.get_json()
        code, description = error["code"], error["description"]
    else:
        root = ET.fromstring(r.data)
        code, description = int(root.findtext("error/code")), root.findtext("error/description")
    assert code == expected and description
    if field:
        assert description.startswith(f"{field}:"), description
    assert rows(session, Report) == 0 and rows(session, Open311Request) == 0 and rows(session, Open311Contact) == 0


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_missing_unknown_or_revoked_key_is_403(client, session, open311_key, clean_app, fmt):
    key = open311_key()
    for given in (None, "", "o311_guess", key + "x"):
        r = post_request(client, given, fmt=fmt)
        assert r.status_code == 403, (given, r.data)
    with clean_app.app_context():
        from api.extensions import db

        revoke_key(db.session, "edg-crm")
        db.session.commit()
        db.session.remove()
    r = post_request(client, key, fmt=fmt)
    assert r.status_code == 403
    assert rows(session, Report) == 0


def test_only_forms_are_taken(client, session, open311_key):
    key = open311_key()
    r = client.post(f"{BASE}/requests.json", data=json.dumps(filing(key)), content_type="application/json")
    assert r.status_code == 415 and r.get_json()[0]["code"] == 415
    r = client.post(f"{BASE}/requests.json", data=filing(key), content_type="multipart/form-data")
    assert r.status_code == 200
    # The specification's parameters may also come in the query string.
    r = client.post(f"{BASE}/requests.json?api_key={key}&service_code=glass&lat=51.5136&long=7.4653")
    assert r.status_code == 200
    assert rows(session, Report) == 2


def test_each_key_has_its_own_rate_limit(client, session, open311_key):
    slow = open311_key("slow-system", rate_limit="2 per hour")
    busy = open311_key("busy-system")
    assert post_request(client, slow).status_code == 200
    assert post_request(client, slow).status_code == 200
    r = post_request(client, slow, fmt="xml")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert ET.fromstring(r.data).findtext("error/code") == "429"
    # Another system's key is not held up.
    assert post_request(client, busy).status_code == 200
    assert rows(session, Report) == 3


@responses.activate
def test_an_address_only_request_is_placed_by_the_configured_geocoder(client, session, open311_key, app, monkeypatch):
    monkeypatch.setitem(app.config, "GEOCODER", "nominatim")
    monkeypatch.setitem(app.config, "NOMINATIM_URL", "http://nominatim.test")
    app.extensions.pop("geocoder", None)
    responses.get("http://nominatim.test/search", json=[{"lat": "51.5136", "lon": "7.4653", "display_name": "Alter Markt"}])
    key = open311_key()
    report_id = file_ok(client, key, lat=None, long=None, address_string="Alter Markt 1, Dortmund")
    report = session.get(Report, int(report_id))
    assert (report.lat, report.lon) == ALTER_MARKT
    assert responses.calls[0].request.params["q"] == "Alter Markt 1, Dortmund"
    doc = client.get(f"{BASE}/requests/{report_id}.json").get_json()[0]
    assert doc["address"] == "Alter Markt 1, Dortmund"
    # Nothing found, or the geocoder down: 400, nothing stored.
    responses.replace(responses.GET, "http://nominatim.test/search", json=[])
    assert post_request(client, key, lat=None, long=None, address_string="Nirgendwo 1").status_code == 400
    responses.replace(responses.GET, "http://nominatim.test/search", status=503)
    assert post_request(client, key, lat=None, long=None, address_string="Alter Markt 1").status_code == 400
    # A place the geocoder finds outside the city is refused like any other.
    responses.replace(responses.GET, "http://nominatim.test/search", json=[{"lat": str(SCHWERTE[0]), "lon": str(SCHWERTE[1])}])
    r = post_request(client, key, lat=None, long=None, address_string="Schwerte Markt")
    assert r.status_code == 400 and r.get_json()[0]["description"].startswith("lat:")
    assert rows(session, Report) == 1
    app.extensions.pop("geocoder", None)


def test_text_that_could_break_xml_comes_back_escaped_and_well_formed(client, open311_key):
    key = open311_key()
    description = 'Sofa <script>alert("x")</script> & \'Matratze\' ]]> \x07 \x1b Ende'
    report_id = file_ok(client, key, description=description, address_string="<Alter Markt> & Co")
    for path in (f"{BASE}/requests/{report_id}.xml", f"{BASE}/requests.xml"):
        r = client.get(path)
        assert b"<script>" not in r.data
        request = ET.fromstring(r.data).find("request")
        assert request.findtext("description") == description.replace("\x07", "\ufffd").replace("\x1b", "\ufffd")
        assert request.findtext("address") == "<Alter Markt> & Co"
    assert client.get(f"{BASE}/requests/{report_id}.json").get_json()[0]["description"] == description


def test_a_retried_filing_with_the_same_idempotency_key_is_answered_once(client, session, open311_key):
    key = open311_key()
    other = open311_key("ordnungsamt")
    headers = {"Idempotency-Key": "crm-4711"}
    first = client.post(f"{BASE}/requests.json", data=filing(key), headers=headers)
    again = client.post(f"{BASE}/requests.json", data=filing(key), headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert rows(session, Report) == 1
    # The same key with another form: refused in the specification's shape, nothing stored.
    r = client.post(f"{BASE}/requests.json", data=filing(key, description="Etwas anderes"), headers=headers)
    assert r.status_code == 400 and r.get_json()[0]["description"].startswith("Idempotency-Key:")
    # Keys are each client's own: another system may use the same one.
    assert client.post(f"{BASE}/requests.json", data=filing(other), headers=headers).status_code == 200
    # A refused key is refused before any Idempotency-Key is looked at.
    assert client.post(f"{BASE}/requests.json", data=filing("o311_nope"), headers=headers).status_code == 403
    assert rows(session, Report) == 2
