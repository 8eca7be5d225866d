"""GeoReport v2 endpoints: discovery, services, service definitions, requests (read and file).

Each path answers as `.json` or `.xml`. Errors are the specification's `[{code, description}]`
(api.errors renders every error under /open311/ that way), with 400 for input the rules
refuse, 403 for a bad key and 404 for an unknown id or service.
"""
from __future__ import annotations

import re
from datetime import timedelta

import marshmallow as ma
from flask import Blueprint, current_app, request
from sqlalchemy import select

from api.errors import abort_json
from api.extensions import current_lang, db
from api.fields import Email, QueryArgs, Text, UTCDateTime
from api.parsing import accepts
from api.reports.routes import report_policy
from api.throttle import Allowance, attempt
from api.transactions import writes
from models import open311 as domain
from models.base import utcnow
from models.idempotency import open311_owner
from models.reference import Category
from models.reports import REPORT_KINDS

from . import messages  # noqa: F401 - registers the messages
from .documents import (
    answer,
    documents_for,
    request_list,
    service,
    service_definition,
    service_definition_xml,
)
from .geocoding import geocoder

blp = Blueprint("open311", __name__, url_prefix="/open311/v2")

FORMAT = "<any(json,xml):fmt>"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this interface last changed in a way clients can see (discovery's `changeset`).
CHANGESET = "2026-12-01T00:00:00+01:00"


def _check_jurisdiction() -> None:
    given = request.values.get("jurisdiction_id")
    if given and given != current_app.config["OPEN311_JURISDICTION"]:
        abort_json(404, "open311_jurisdiction_not_found")


def _lang() -> str:
    return current_lang()


@blp.get(f"/discovery.{FORMAT}")
def discovery(fmt):
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + blp.url_prefix
    endpoint = {
        "specification": SPECIFICATION,
        "url": base,
        "changeset": CHANGESET,
        "type": "production",
        "formats": ["text/xml", "application/json"],
    }
    document = {
        "changeset": CHANGESET,
        "contact": current_app.config["OPEN311_CONTACT"],
        "key_service": current_app.config["OPEN311_KEY_SERVICE"],
        "endpoints": [endpoint],
    }
    if fmt == "xml":
        xml_endpoint = dict(endpoint, formats=[("format", f) for f in endpoint["formats"]])
        return answer(fmt, dict(document, endpoints=[("endpoint", xml_endpoint)]), "discovery")
    return answer(fmt, document)


def _report_categories() -> list[Category]:
    return list(
        db.session.scalars(select(Category).where(Category.kind.in_(REPORT_KINDS)).order_by(Category.kind, Category.position))
    )


@blp.get(f"/services.{FORMAT}")
def services(fmt):
    _check_jurisdiction()
    lang = _lang()
    return answer(fmt, [service(c, lang) for c in _report_categories()], "services", "service")


@blp.get(f"/services/<code>.{FORMAT}")
def service_definition_view(code, fmt):
    _check_jurisdiction()
    category = db.session.get(Category, code)
    if category is None or category.kind not in REPORT_KINDS:
        abort_json(404, "unknown_service")
    definition = service_definition(category, _lang())
    if fmt == "xml":
        return answer(fmt, service_definition_xml(definition), "service_definition")
    return answer(fmt, definition)


# ---------------------------------------------------------------------------------------
# Reading requests
# ---------------------------------------------------------------------------------------

_IDS = re.compile(r"^\s*\d{1,10}\s*(,\s*\d{1,10}\s*)*$")


class RequestsQuery(QueryArgs):
    service_request_id = Text(validate=ma.validate.Length(max=20_000))
    service_code = Text(validate=ma.validate.Length(max=2000))
    start_date = UTCDateTime()
    end_date = UTCDateTime()
    status = Text(validate=ma.validate.Length(max=20))
    jurisdiction_id = Text(validate=ma.validate.Length(max=200))
    api_key = Text(validate=ma.validate.Length(max=200), storable=False)


def _load(schema: ma.Schema, data) -> dict:
    try:
        return schema.load(data, unknown=ma.EXCLUDE)
    except ma.ValidationError as error:
        # Times: the words of the specification's format, not marshmallow's.
        messages = error.messages
        for name in ("start_date", "end_date"):
            if name in messages:
                abort_json(400, "open311_invalid_time", errors={name: ["open311_invalid_time"]})
        raise


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _query(args: dict) -> domain.RequestQuery:
    ids = None
    if args.get("service_request_id"):
        if not _IDS.match(args["service_request_id"]):
            abort_json(400, "open311_invalid_ids", errors={"service_request_id": ["open311_invalid_ids"]}, max=domain.MAX_REQUESTS)
        ids = tuple(int(part) for part in _split(args["service_request_id"]))
        if len(ids) > domain.MAX_REQUESTS:
            abort_json(400, "open311_invalid_ids", errors={"service_request_id": ["open311_invalid_ids"]}, max=domain.MAX_REQUESTS)
    statuses = set(_split(args.get("status")))
    if not statuses <= {"open", "closed"}:
        abort_json(400, "open311_invalid_status", errors={"status": ["open311_invalid_status"]})
    codes = tuple(dict.fromkeys(_split(args.get("service_code"))))
    if codes:
        known = {c.code for c in _report_categories()}
        for code in codes:
            if code not in known:
                abort_json(400, "unknown_service", errors={"service_code": ["unknown_service"]})
    start, end = args.get("start_date"), args.get("end_date")
    window = domain.DEFAULT_WINDOW
    if start is None and end is None:
        end = utcnow()
        start = end - window
    elif start is None:
        start = end - window
    elif end is None:
        end = start + window
    if start > end:
        abort_json(400, "open311_window_reversed", errors={"start_date": ["open311_window_reversed"]})
    if end - start > window + timedelta(seconds=1):
        abort_json(400, "open311_window_too_long", errors={"end_date": ["open311_window_too_long"]}, days=window.days)
    return domain.RequestQuery(
        start=start, end=end, ids=ids, service_codes=codes, status=statuses.pop() if len(statuses) == 1 else None
    )


@blp.get(f"/requests.{FORMAT}")
def requests_list(fmt):
    args = _load(RequestsQuery(), request.args)
    _check_jurisdiction()
    keys = domain.request_keys(db.session, _query(args))
    return request_list(fmt, keys, _lang())


@blp.get(f"/requests/<id:report_id>.{FORMAT}")
def request_one(report_id, fmt):
    args = _load(RequestsQuery(), request.args)
    _check_jurisdiction()
    key = domain.active_key(db.session, args.get("api_key")) if args.get("api_key") else None
    report = domain.visible_request(db.session, report_id, key)
    if report is None:
        abort_json(404, "open311_request_not_found")
    document = documents_for([report], _lang())[report.id]
    return answer(fmt, [document], "service_requests", "request")


# ---------------------------------------------------------------------------------------
# Filing requests
# ---------------------------------------------------------------------------------------


class Coordinate(ma.fields.Float):
    """A coordinate written as text (forms have no numbers), finite."""

    def __init__(self, **kwargs):
        super().__init__(allow_nan=False, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or len(value) > 40:
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class MediaUrl(Text):
    """Stored as text and shown as given; never fetched (it may point anywhere, this server included)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if text and not re.match(r"^https?://[^\s/?#]+[^\s]*$", text, re.IGNORECASE):
            raise ma.ValidationError("open311_invalid_url")
        return text or None


class FilingForm(ma.Schema):
    api_key = Text(validate=ma.validate.Length(max=200), storable=False)
    jurisdiction_id = Text(validate=ma.validate.Length(max=200))
    service_code = Text(required=True, validate=ma.validate.Length(min=1, max=40))
    lat = Coordinate()
    long = Coordinate()
    address_string = Text(validate=ma.validate.Length(max=domain.MAX_ADDRESS))
    address_id = Text(validate=ma.validate.Length(max=200))
    description = Text(validate=ma.validate.Length(max=domain.MAX_DESCRIPTION))
    media_url = MediaUrl(validate=ma.validate.Length(max=domain.MAX_MEDIA_URL))
    email = Email(validate=ma.validate.Length(max=254))
    first_name = Text(validate=ma.validate.Length(max=100))
    last_name = Text(validate=ma.validate.Length(max=100))
    phone = Text(validate=ma.validate.Length(max=50))
    device_id = Text(validate=ma.validate.Length(max=200))
    account_id = Text(validate=ma.validate.Length(max=200))


_ATTRIBUTE = re.compile(r"^attribute\[([^\]]{1,80})\](\[\])?$")


def _attributes(values) -> dict[str, list[str]]:
    given: dict[str, list[str]] = {}
    for name in values:
        match = _ATTRIBUTE.match(name)
        if match is None:
            if name.startswith("attribute"):
                abort_json(400, "unknown_attribute", errors={name: ["unknown_attribute"]})
            continue
        field = Text(validate=ma.validate.Length(max=domain.MAX_ATTRIBUTE_LENGTH))
        texts = []
        for value in values.getlist(name):
            try:
                texts.append(field.deserialize(value))
            except ma.ValidationError:
                abort_json(400, "attribute_too_long", errors={name: ["attribute_too_long"]}, max=domain.MAX_ATTRIBUTE_LENGTH)
        given.setdefault(match.group(1), []).extend(texts)
    return given


def _form():
    # The specification sends the fields as a form; some clients put them in the query string.
    merged = request.args.copy()
    for name in request.form:
        merged.setlist(name, request.form.getlist(name))
    return merged


def _filing_key() -> domain.Open311Key:
    if request.content_length and request.mimetype not in FORM_TYPES:
        abort_json(415, "open311_form_only")
    key = domain.active_key(db.session, _form().get("api_key"))
    if key is None:
        abort_json(403, "open311_invalid_key")
    return key


def _key_owner() -> tuple[str, None]:
    # A retried filing (same Idempotency-Key, same form) is answered once, per Open311 key.
    return open311_owner(_filing_key().id), None


@blp.post(f"/requests.{FORMAT}")
@accepts(*FORM_TYPES)
@writes(idempotent=True, owner=_key_owner)
def file_request(fmt):
    key = _filing_key()
    values = _form()
    fields = _load(FilingForm(), {name: values.get(name) for name in values if not name.startswith("attribute")})
    attempt((Allowance("OPEN311_KEY_RATE_LIMIT", key.rate_limit), key.name))
    _check_jurisdiction()
    filing = domain.RequestFiling(
        service_code=fields["service_code"],
        lat=fields.get("lat"),
        lon=fields.get("long"),
        address_string=fields.get("address_string") or None,
        address_id=fields.get("address_id") or None,
        description=fields.get("description") or None,
        attributes=_attributes(values),
        media_url=fields.get("media_url"),
        email=fields.get("email") or None,
        first_name=fields.get("first_name") or None,
        last_name=fields.get("last_name") or None,
        phone=fields.get("phone") or None,
        device_id=fields.get("device_id") or None,
        account_id=fields.get("account_id") or None,
    )
    report = domain.file_request(db.session, key, report_policy(), filing, geocoder())
    notice = documents_for([report], _lang())[report.id]["service_notice"]
    return answer(
        fmt,
        [{"service_request_id": str(report.id), "service_notice": notice, "account_id": filing.account_id}],
        "service_requests",
        "request",
    )

