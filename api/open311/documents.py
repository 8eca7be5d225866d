"""GeoReport v2 documents in JSON and XML, and the per-worker renderings of requests.

Both formats come from the same ordered dicts, so they cannot disagree. XML is written by
hand, not through a DOM: everything a client sent is escaped, characters XML 1.0 cannot
carry (control characters) become U+FFFD, and `None` is an empty element, as the
specification's examples show. A list of up to a thousand requests is mostly the same
requests again: each one's JSON and XML are kept per worker under (revision, language)
(api.fragments), so a busy list is joined from bytes.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import orjson
from flask import Response, current_app, request
from sqlalchemy import select

from api.errors import register_error_renderer
from api.extensions import db
from api.fragments import FragmentCache
from api.presenters import photo_url
from models.open311 import (
    SERVICE_ATTRIBUTES,
    Open311Request,
    request_extras,
    request_status,
)
from models.reference import Category, Department
from models.reports import Report

BERLIN = ZoneInfo("Europe/Berlin")
JSON_TYPE = "application/json"
XML_TYPE = "text/xml; charset=utf-8"
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>'
FORMATS = ("json", "xml")

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"})


def local_time(value: datetime | None) -> str | None:
    """W3C time with the city's own offset, as the specification writes them (2026-03-01T09:30:00+01:00)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(BERLIN).replace(microsecond=0).isoformat()


def xml_text(value) -> str:
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    return _NOT_XML.sub("\ufffd", str(value)).translate(_ESCAPES)


def xml_element(name: str, value) -> str:
    """`value`: a scalar, a dict (child elements) or a list of (name, value) pairs."""
    if isinstance(value, dict):
        inner = "".join(xml_element(k, v) for k, v in value.items())
    elif isinstance(value, list):
        inner = "".join(xml_element(k, v) for k, v in value)
    else:
        inner = xml_text(value)
    return f"<{name}>{inner}</{name}>" if inner else f"<{name}/>"


def answer(fmt: str, document, root: str | None = None, item: str | None = None, status: int = 200) -> Response:
    """`document`: a dict (one element `root`) or a list of dicts (`root` holding `item`s)."""
    if fmt == "json":
        return Response(orjson.dumps(document), status=status, mimetype=JSON_TYPE)
    if isinstance(document, list):
        body = xml_element(root, [(item, entry) for entry in document])
    else:
        body = xml_element(root, document)
    return Response(XML_DECLARATION + body.encode("utf-8"), status=status, content_type=XML_TYPE)


def error_answer(fmt: str, code: int, description: str, headers: dict | None = None) -> Response:
    response = answer(fmt, [{"code": code, "description": description}], "errors", "error", status=code)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def render_error(code: int, message: str, errors: dict | None, headers: dict | None) -> Response:
    """Every error under /open311/ (api.errors): `[{code, description}]` in the path's format."""
    from api.i18n import translate

    # The field and what is wrong with it say more than the general message.
    description = "; ".join(f"{field}: {' '.join(translate(t) for t in texts)}" for field, texts in errors.items()) if errors else message
    # The specification answers refused input with 400 (this API's 422).
    status = 400 if code == 422 else code
    return error_answer("xml" if request.path.endswith(".xml") else "json", status, description, headers)


register_error_renderer("/open311/", render_error)


# ---------------------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------------------

GROUPS = {"litter": ("Dreckpetze (Müll)", "Litter"), "unsafe_place": ("Angsträume", "Unsafe places")}


def service(category: Category, lang: str) -> dict:
    return {
        "service_code": category.code,
        "service_name": category.name(lang),
        "description": category.name(lang),
        "metadata": bool(SERVICE_ATTRIBUTES.get(category.code)),
        "type": "realtime",
        "keywords": category.kind,
        "group": GROUPS[category.kind][1 if lang == "en" else 0],
    }


def service_definition(category: Category, lang: str) -> dict:
    attributes = []
    for order, attribute in enumerate(SERVICE_ATTRIBUTES.get(category.code, ()), start=1):
        entry = {
            "variable": attribute.variable,
            "code": attribute.code,
            "datatype": attribute.datatype,
            "required": attribute.required,
            "datatype_description": None,
            "order": order,
            "description": attribute.description(lang),
        }
        if attribute.values:
            entry["values"] = [{"key": v.key, "name": v.name_en if lang == "en" else v.name_de} for v in attribute.values]
        attributes.append(entry)
    return {"service_code": category.code, "attributes": attributes}


def service_definition_xml(definition: dict) -> dict:
    """The XML shape nests lists in wrapper elements (<attributes><attribute>, <values><value>)."""
    attributes = []
    for entry in definition["attributes"]:
        entry = dict(entry)
        if "values" in entry:
            entry["values"] = [("value", v) for v in entry["values"]]
        attributes.append(("attribute", entry))
    return {"service_code": definition["service_code"], "attributes": attributes}


# ---------------------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------------------


def request_document(report: Report, extras: Open311Request | None, category: Category | None, department: str | None, lang: str) -> dict:
    """One service request as GeoReport v2 shows it. Contact details never appear."""
    public_notes = [u.note for u in report.updates if u.note]
    if extras is not None and extras.media_url:
        media_url = extras.media_url
    elif report.photos:
        media_url = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + photo_url(report.photos[0].image_key)
    else:
        media_url = None
    notice = None
    if report.status == "pending":
        notice = "Unsafe places are checked before they are published." if lang == "en" else "Angsträume werden vor der Veröffentlichung geprüft."
    return {
        "service_request_id": str(report.id),
        "status": request_status(report.status),
        "status_notes": public_notes[-1] if public_notes else None,
        "service_name": category.name(lang) if category is not None else report.category,
        "service_code": report.category,
        "description": report.description,
        "agency_responsible": department,
        "service_notice": notice,
        "requested_datetime": local_time(report.created_at),
        "updated_datetime": local_time(report.updated_at),
        "expected_datetime": None,
        "address": extras.address_string if extras is not None else None,
        "address_id": extras.address_id if extras is not None else None,
        "zipcode": None,
        "lat": report.lat,
        "long": report.lon,
        "media_url": media_url,
    }


def documents_for(reports: list[Report], lang: str) -> dict[int, dict]:
    extras = request_extras(db.session, [r.id for r in reports])
    categories = {c.code: c for c in db.session.scalars(select(Category))}
    departments = {d.code: (d.name_en if lang == "en" else d.name_de) for d in db.session.scalars(select(Department))}
    return {
        r.id: request_document(r, extras.get(r.id), categories.get(r.category), departments.get(r.department), lang)
        for r in reports
    }


def _renderer(lang: str):
    def render(revisions_by_id: dict[int, int]) -> dict[int, tuple[bytes, bytes]]:
        reports = list(db.session.scalars(select(Report).where(Report.id.in_(list(revisions_by_id)))))
        return {
            report_id: (orjson.dumps(document), xml_element("request", document).encode("utf-8"))
            for report_id, document in documents_for(reports, lang).items()
        }

    return render


# One cache per (language, base of photo addresses), each keyed by the report's revision
# (bumped by every change, the timeline's included): what a rendering depends on.
RENDERINGS: dict[tuple[str, str], FragmentCache] = {}


def request_list(fmt: str, keys: list[tuple[int, int]], lang: str) -> Response:
    """The list answer for (id, revision) rows, joined from each request's kept rendering."""
    base_url = current_app.config["PUBLIC_BASE_URL"]
    cache = RENDERINGS.get((lang, base_url))
    if cache is None:
        cache = RENDERINGS[(lang, base_url)] = FragmentCache(_renderer(lang))
    parts = cache.parts(dict(keys))
    chunks = [parts[report_id] for report_id, _ in keys if report_id in parts]
    if fmt == "json":
        body = b"[" + b",".join(chunk[0] for chunk in chunks) + b"]"
        return Response(body, mimetype=JSON_TYPE)
    body = XML_DECLARATION + b"<service_requests>" + b"".join(chunk[1] for chunk in chunks) + b"</service_requests>"
    return Response(body, content_type=XML_TYPE)
