"""Discovery, services and service definitions, in JSON and XML, as GeoReport v2 says."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from models.open311 import SERVICE_ATTRIBUTES
from models.reference import CATEGORIES
from tests.open311.helpers import BASE

REPORT_CODES = [code for code, kind, *_ in CATEGORIES if kind in ("litter", "unsafe_place")]


def xml(r) -> ET.Element:
    assert r.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert r.data.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(r.data)


def test_discovery_names_this_endpoint_and_both_formats(client, app):
    r = client.get(f"{BASE}/discovery.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    doc = r.get_json()
    (endpoint,) = doc["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == app.config["PUBLIC_BASE_URL"].rstrip("/") + "/open311/v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    root = xml(client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.find("endpoints/endpoint/formats")] == ["text/xml", "application/json"]
    assert root.findtext("endpoints/endpoint/url") == endpoint["url"]


def test_services_are_the_report_categories(client, open311_schemas):
    r = client.get(f"{BASE}/services.json")
    services = r.get_json()
    open311_schemas(services, "services.json")
    assert sorted(s["service_code"] for s in services) == sorted(REPORT_CODES)
    by_code = {s["service_code"]: s for s in services}
    assert by_code["bulky_waste"]["service_name"] == "Sperrmüll"
    assert by_code["bulky_waste"]["metadata"] is True and by_code["glass"]["metadata"] is False
    assert {s["metadata"] for s in services if s["service_code"] not in SERVICE_ATTRIBUTES} == {False}
    english = client.get(f"{BASE}/services.json", headers={"Accept-Language": "en"}).get_json()
    assert {s["service_code"]: s["service_name"] for s in english}["bulky_waste"] == "Bulky waste"
    root = xml(client.get(f"{BASE}/services.xml"))
    assert [s.findtext("service_code") for s in root.findall("service")] == [s["service_code"] for s in services]
    assert root.find("service[service_code='glass']").findtext("metadata") == "false"


@pytest.mark.parametrize("code", sorted(SERVICE_ATTRIBUTES))
def test_service_definitions_list_each_attribute_and_its_values(client, code, open311_schemas):
    doc = client.get(f"{BASE}/services/{code}.json").get_json()
    open311_schemas(doc, "service-definition.json")
    assert doc["service_code"] == code
    expected = SERVICE_ATTRIBUTES[code]
    assert [a["code"] for a in doc["attributes"]] == [a.code for a in expected]
    assert [a["order"] for a in doc["attributes"]] == list(range(1, len(expected) + 1))
    for given, attribute in zip(doc["attributes"], expected):
        assert given["datatype"] == attribute.datatype and given["required"] is attribute.required
        assert [v["key"] for v in given.get("values", [])] == [v.key for v in attribute.values]
    root = xml(client.get(f"{BASE}/services/{code}.xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == code
    assert [a.findtext("code") for a in root.find("attributes")] == [a.code for a in expected]
    for element, attribute in zip(root.find("attributes"), expected):
        assert [v.findtext("key") for v in element.findall("values/value")] == [v.key for v in attribute.values]


def test_a_service_without_attributes_has_an_empty_definition(client, open311_schemas):
    doc = client.get(f"{BASE}/services/glass.json").get_json()
    open311_schemas(doc, "service-definition.json")
    assert doc == {"service_code": "glass", "attributes": []}


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("path", ["/services/no_such_service", "/services/poverty", "/requests/99999999"])
def test_unknown_service_or_request_is_404_in_the_specification_s_error_shape(client, fmt, path):
    r = client.get(f"{BASE}{path}.{fmt}")
    assert r.status_code == 404
    if fmt == "json":
        (error,) = r.get_json()
        assert error["code"] == 404 and error["description"]
    else:
        root = xml(r)
        assert root.tag == "errors" and root.findtext("error/code") == "404" and root.findtext("error/description")


def test_unknown_paths_and_jurisdictions_answer_in_the_open311_shape(client):
    r = client.get(f"{BASE}/no-such-thing.xml")
    assert r.status_code == 404 and xml(r).tag == "errors"
    r = client.get(f"{BASE}/services.json?jurisdiction_id=bochum.de")
    assert r.status_code == 404 and r.get_json()[0]["code"] == 404
    assert client.get(f"{BASE}/services.json?jurisdiction_id=dortmund.de").status_code == 200
    # A method the path does not take: still the specification's shape.
    r = client.delete(f"{BASE}/services.json")
    assert r.status_code == 405 and r.get_json()[0]["code"] == 405
