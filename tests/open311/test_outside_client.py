"""An outside Open311 client against the running server over HTTP; and the key commands.

The client is `georeport` from PyPI (it reads; it has no call for filing, so requests are
filed with a plain form POST, as the city's systems send them). Its XML mode reads a list of
one request as a dict (xmltodict): the server answers as the specification says anyway.
"""
from __future__ import annotations

import re

import requests
from georeport import GeoReport

from models.open311 import Open311Key
from tests.open311.helpers import filing


def test_georeport_reads_what_a_system_filed_in_json_and_xml(live_server, open311_key, open311_schemas):
    key = open311_key("edg-crm")
    root = f"{live_server}/open311/v2"
    filed = []
    for fields in (
        {"description": "Sofa <groß> & Sessel"},
        {"service_code": "illegal_dumping", "attribute[hazardous]": "no", "description": "Bauschutt im Wald"},
    ):
        r = requests.post(f"{root}/requests.json", data=filing(key, **fields), timeout=10)
        assert r.status_code == 200, r.text
        filed.append(r.json()[0]["service_request_id"])
    r = requests.post(f"{root}/requests.xml", data=filing(key, service_code="glass"), timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/xml; charset=utf-8"
    filed.append(re.search(r"<service_request_id>(\d+)</service_request_id>", r.text).group(1))

    client = GeoReport(root, api_key=key)
    services = client.get_service_list()
    open311_schemas(services, "services.json")
    assert "bulky_waste" in {s["service_code"] for s in services}
    definition = client.get_service_definition("illegal_dumping")
    open311_schemas(definition, "service-definition.json")
    assert [a["code"] for a in definition["attributes"]] == ["hazardous"]
    listed = client.get_service_requests()
    open311_schemas(listed, "requests.json")
    assert [d["service_request_id"] for d in listed] == list(reversed(filed))
    assert client.get_service_requests(service_code="glass")[0]["service_request_id"] == filed[2]
    one = client.get_service_request(filed[0])
    open311_schemas(one, "request.json")
    assert one["description"] == "Sofa <groß> & Sessel" and one["status"] == "open"

    xml_client = GeoReport(root, output_format="xml")
    xml_services = xml_client.get_service_list()
    assert [s["service_code"] for s in xml_services] == [s["service_code"] for s in services]
    assert xml_client.get_service_definition("bulky_waste")["service_code"] == "bulky_waste"
    xml_listed = xml_client.get_service_requests()
    assert [d["service_request_id"] for d in xml_listed] == list(reversed(filed))
    # A list of one, read by xmltodict as a dict: the same request.
    xml_one = xml_client.get_service_request(filed[0])
    assert xml_one["service_request_id"] == filed[0] and xml_one["description"] == "Sofa <groß> & Sessel"
    assert xml_one["lat"] == str(one["lat"]) and xml_one["status_notes"] is None


def test_create_list_and_revoke_keys_from_the_command_line(clean_app, session, client):
    runner = clean_app.test_cli_runner()
    r = runner.invoke(args=["open311", "create-key", "edg-crm"])
    assert r.exit_code == 0
    key = r.output.strip()
    # Only the key is printed, and only its hash is stored.
    assert r.output == key + "\n" and re.fullmatch(r"o311_[A-Za-z0-9_-]{40,}", key)
    stored = session.query(Open311Key).filter_by(name="edg-crm").one()
    assert key not in (stored.key_hash, stored.name) and len(stored.key_hash) == 64
    assert runner.invoke(args=["open311", "create-key", "edg-crm"]).exit_code == 2
    assert runner.invoke(args=["open311", "create-key", "Not A Name"]).exit_code == 2
    assert runner.invoke(args=["open311", "create-key", "ordnungsamt", "--rate-limit", "often"]).exit_code == 2
    assert runner.invoke(args=["open311", "create-key", "ordnungsamt", "--rate-limit", "100 per hour"]).exit_code == 0
    listing = runner.invoke(args=["open311", "list-keys"]).output.splitlines()
    assert [line.split("\t")[0] for line in listing] == ["edg-crm", "ordnungsamt"]
    assert "active" in listing[0] and "100 per hour" in listing[1] and key not in "".join(listing)
    assert client.post("/open311/v2/requests.json", data=filing(key)).status_code == 200
    r = runner.invoke(args=["open311", "revoke-key", "edg-crm"])
    assert r.exit_code == 0
    assert client.post("/open311/v2/requests.json", data=filing(key)).status_code == 403
    assert "revoked" in runner.invoke(args=["open311", "list-keys"]).output.splitlines()[0]
    assert runner.invoke(args=["open311", "revoke-key", "nobody"]).exit_code == 2
