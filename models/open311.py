"""Open311 GeoReport v2: the city's back-office systems as clients of the report service.

An outside system (the EDG's case management, the Ordnungsamt's, an open-data portal) holds
an API key; requests it files become ordinary reports (the same checks, moderation, map and
timeline as from the app), with what only Open311 carries kept beside them: the key that
filed it, the address as given, `media_url` as text (never fetched: it may point anywhere,
the server itself included), the service attributes, and the submitter's contact details,
which are personal data and never leave the service through any answer.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    JSON,
    ForeignKey,
    String,
    Text,
    bindparam,
    false,
    literal_column,
    select,
    true,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, utcnow
from .errors import Conflict, Invalid
from .prepared import PreparedSelect
from .reference import Category
from .reports import OPEN_STATUSES, REPORT_KINDS, Report, ReportPolicy, submit_report

# A key's name is what operators type: short, no spaces.
KEY_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,79}$")
KEY_PREFIX = "o311_"


class Open311Key(Base):
    """An outside system's API key. Only a hash of the key is stored; a revoked key stays listed."""

    __tablename__ = "open311_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Per key, so one busy system cannot use up another's allowance (`flask open311 create-key --rate-limit`).
    rate_limit: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Open311Request(Base):
    """What a report filed through Open311 carried beyond a report."""

    __tablename__ = "open311_requests"

    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    key_id: Mapped[int | None] = mapped_column(ForeignKey("open311_keys.id", ondelete="SET NULL"), index=True)
    address_string: Mapped[str | None] = mapped_column(Text)
    address_id: Mapped[str | None] = mapped_column(String(200))
    # Stored as given and shown as given; the service never requests it.
    media_url: Mapped[str | None] = mapped_column(Text)
    attributes: Mapped[dict | None] = mapped_column(JSON)
    device_id: Mapped[str | None] = mapped_column(String(200))
    account_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]


class Open311Contact(Base):
    """The submitter's contact details: personal data, kept apart so no answer can join them in."""

    __tablename__ = "open311_contacts"

    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254))
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(50))


# ---------------------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------------------


def hash_key(key: str) -> str:
    # Keys are long random strings: a plain SHA-256 is enough (no dictionary to guess from).
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def create_key(session: Session, name: str, rate_limit: str | None = None) -> str:
    """A new key for `name`; returns the key itself, which is shown once and never stored."""
    if not KEY_NAME.match(name or ""):
        raise Invalid("name", "invalid_key_name")
    if session.scalar(select(Open311Key.id).where(Open311Key.name == name)) is not None:
        raise Conflict("key_name_taken")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(Open311Key(name=name, key_hash=hash_key(key), rate_limit=rate_limit, created_at=utcnow()))
    session.flush()
    return key


def revoke_key(session: Session, name: str) -> Open311Key | None:
    row = session.scalar(select(Open311Key).where(Open311Key.name == name))
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
    return row


def list_keys(session: Session) -> list[Open311Key]:
    return list(session.scalars(select(Open311Key).order_by(Open311Key.name)))


def active_key(session: Session, key: str | None) -> Open311Key | None:
    """The active key row for a presented key, or None (missing, unknown or revoked alike)."""
    if not key or len(key) > 200:
        return None
    digest = hash_key(key)
    row = session.scalar(select(Open311Key).where(Open311Key.key_hash == digest))
    # The lookup is by an unguessable hash; the constant-time compare is belt and braces.
    if row is None or not hmac.compare_digest(row.key_hash, digest) or row.revoked_at is not None:
        return None
    return row


# ---------------------------------------------------------------------------------------
# Service attributes (GeoReport v2 service definitions)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttributeValue:
    key: str
    name_de: str
    name_en: str


@dataclass(frozen=True)
class ServiceAttribute:
    code: str
    datatype: str  # string | number | datetime | text | singlevaluelist | multivaluelist
    required: bool
    description_de: str
    description_en: str
    values: tuple[AttributeValue, ...] = ()
    variable: bool = True

    def description(self, lang: str) -> str:
        return self.description_en if lang == "en" else self.description_de


_YES_NO = (AttributeValue("yes", "Ja", "Yes"), AttributeValue("no", "Nein", "No"))

# Questions the departments ask for some categories; a category without any has no
# service definition (`metadata: false`).
SERVICE_ATTRIBUTES: dict[str, tuple[ServiceAttribute, ...]] = {
    "bulky_waste": (
        ServiceAttribute(
            "amount", "singlevaluelist", False, "Wie viel liegt dort?", "How much is there?",
            (AttributeValue("small", "Einzelne Teile", "A few items"),
             AttributeValue("medium", "Bis zu einer Kofferraumladung", "Up to a car boot"),
             AttributeValue("large", "Mehr als eine Kofferraumladung", "More than a car boot")),
        ),
        ServiceAttribute(
            "items", "multivaluelist", False, "Was liegt dort?", "What is there?",
            (AttributeValue("furniture", "Möbel", "Furniture"),
             AttributeValue("electrical", "Elektrogeräte", "Electrical appliances"),
             AttributeValue("mattress", "Matratzen", "Mattresses"),
             AttributeValue("other", "Anderes", "Other")),
        ),
    ),
    "illegal_dumping": (
        ServiceAttribute(
            "hazardous", "singlevaluelist", True, "Gefährliche Stoffe (Öl, Chemikalien, Asbest)?",
            "Hazardous material (oil, chemicals, asbestos)?", _YES_NO,
        ),
    ),
    "poor_lighting": (
        ServiceAttribute(
            "lamp_number", "string", False, "Nummer am Laternenmast, falls lesbar", "Number on the lamp post, if legible",
        ),
    ),
}

MAX_ATTRIBUTE_LENGTH = 200


def check_attributes(service_code: str, given: dict[str, list[str]]) -> dict[str, str | list[str]]:
    """`attribute[code]` values of a request, checked against the service's definition.

    An attribute the service does not define, a value not in its list, a missing required
    one or a second value for a single-value one: `Invalid` on `attribute[code]`.
    """
    defined = {a.code: a for a in SERVICE_ATTRIBUTES.get(service_code, ())}
    checked: dict[str, str | list[str]] = {}
    for code, values in given.items():
        field = f"attribute[{code}]"
        attribute = defined.get(code)
        if attribute is None:
            raise Invalid(field, "unknown_attribute")
        values = [v.strip() for v in values if v.strip()]
        if not values:
            continue
        if any(len(v) > MAX_ATTRIBUTE_LENGTH for v in values):
            raise Invalid(field, "attribute_too_long", max=MAX_ATTRIBUTE_LENGTH)
        if attribute.datatype == "multivaluelist":
            allowed = {v.key for v in attribute.values}
            if any(v not in allowed for v in values):
                raise Invalid(field, "unknown_attribute_value")
            checked[code] = sorted(set(values))
            continue
        if len(values) > 1:
            raise Invalid(field, "one_value_only")
        value = values[0]
        if attribute.datatype == "singlevaluelist" and value not in {v.key for v in attribute.values}:
            raise Invalid(field, "unknown_attribute_value")
        if attribute.datatype == "number":
            try:
                float(value)
            except ValueError:
                raise Invalid(field, "not_a_number") from None
        checked[code] = value
    for attribute in defined.values():
        if attribute.required and attribute.code not in checked:
            raise Invalid(f"attribute[{attribute.code}]", "attribute_required")
    return checked


# ---------------------------------------------------------------------------------------
# Filing and reading requests
# ---------------------------------------------------------------------------------------

# GeoReport v2: a list answers at most 1,000 requests, of the last 90 days unless asked otherwise.
MAX_REQUESTS = 1000
DEFAULT_WINDOW = timedelta(days=90)
MAX_DESCRIPTION = 2000
MAX_ADDRESS = 500
MAX_MEDIA_URL = 2000

# Open311 knows two states; a pending unsafe place is open (it waits for the moderators).
OPEN_REQUEST_STATUSES = ("pending", *OPEN_STATUSES)


def request_status(report_status: str) -> str:
    return "open" if report_status in OPEN_REQUEST_STATUSES else "closed"


# Turns an address into a point inside the city, or None; configured by the API (api.open311.geocoding).
Geocoder = Callable[[str], "tuple[float, float] | None"]


@dataclass(frozen=True)
class RequestFiling:
    service_code: str
    lat: float | None = None
    lon: float | None = None
    address_string: str | None = None
    address_id: str | None = None
    description: str | None = None
    attributes: dict[str, list[str]] | None = None
    media_url: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    device_id: str | None = None
    account_id: str | None = None


def service_category(session: Session, service_code: str) -> Category:
    category = session.get(Category, service_code) if service_code else None
    if category is None or category.kind not in REPORT_KINDS:
        raise Invalid("service_code", "unknown_service")
    return category


def file_request(session: Session, key: Open311Key, policy: ReportPolicy, filing: RequestFiling, geocode: Geocoder | None) -> Report:
    """A service request from an outside system: a report like any other, plus what Open311 carried.

    Everything is checked before anything is written: an unknown service or attribute, a
    point outside the city, an address nobody can place: `Invalid`, nothing stored.
    """
    category = service_category(session, filing.service_code)
    attributes = check_attributes(category.code, filing.attributes or {})
    lat, lon = filing.lat, filing.lon
    if (lat is None) != (lon is None):
        raise Invalid("long" if lon is None else "lat", "coordinate_missing")
    if lat is None:
        if filing.address_string:
            point = geocode(filing.address_string) if geocode is not None else None
            if point is None:
                raise Invalid("address_string", "address_not_placed")
            lat, lon = point
        else:
            raise Invalid("lat", "location_required")
    # Open311 makes the description optional; a report always says what it is about.
    description = (filing.description or "").strip() or category.name_de
    report = submit_report(
        session, None, policy, kind=category.kind, category=category.code, description=description, lat=lat, lon=lon
    )
    now = utcnow()
    session.add(
        Open311Request(
            report_id=report.id,
            key_id=key.id,
            address_string=filing.address_string,
            address_id=filing.address_id,
            media_url=filing.media_url,
            attributes=attributes or None,
            device_id=filing.device_id,
            account_id=filing.account_id,
            created_at=now,
        )
    )
    contact = {name: getattr(filing, name) for name in ("email", "first_name", "last_name", "phone")}
    if any(contact.values()):
        session.add(Open311Contact(report_id=report.id, **contact))
    session.flush()
    return report


@dataclass(frozen=True)
class RequestQuery:
    """GET requests: `ids` (overrides everything else) or a time window with optional filters."""

    start: datetime
    end: datetime
    ids: tuple[int, ...] | None = None
    service_codes: tuple[str, ...] = ()
    status: str | None = None  # "open" | "closed" | None (both)


def _request_keys_statement(codes: int, status: str | None):
    reports = Report.__table__
    stmt = select(reports.c.id, reports.c.revision).where(
        reports.c.is_public == true(),
        reports.c.created_at >= bindparam("start", type_=Report.created_at.type),
        reports.c.created_at <= bindparam("end", type_=Report.created_at.type),
    )
    if codes:
        stmt = stmt.where(reports.c.category.in_([bindparam(f"code{i}") for i in range(codes)]))
    if status is not None:
        stmt = stmt.where(reports.c.is_open == (true() if status == "open" else false()))
    # Newest first by the time requested, as the spec lists them (ix_reports_public_requested).
    return stmt.order_by(reports.c.created_at.desc(), reports.c.id.desc()).limit(literal_column(str(MAX_REQUESTS)))


REQUEST_KEYS = PreparedSelect(_request_keys_statement)


def request_keys(session: Session, query: RequestQuery) -> list[tuple[int, int]]:
    """(id, revision) of the public requests a query names, newest first, at most MAX_REQUESTS."""
    if query.ids is not None:
        ids = list(dict.fromkeys(query.ids))[:MAX_REQUESTS]
        rows = session.execute(
            select(Report.id, Report.revision).where(Report.id.in_(ids), Report.is_public.is_(True))
        ).all()
        return sorted(((r.id, r.revision) for r in rows), key=lambda row: row[0], reverse=True)
    params = {"start": query.start, "end": query.end}
    for i, code in enumerate(query.service_codes):
        params[f"code{i}"] = code
    return REQUEST_KEYS.rows(session, (len(query.service_codes), query.status), params)


def visible_request(session: Session, report_id: int, key: Open311Key | None) -> Report | None:
    """A request by id: public ones to anybody, and the filing system's own while they wait."""
    report = session.get(Report, report_id)
    if report is None:
        return None
    if report.is_public:
        return report
    if key is not None:
        filed_by = session.scalar(select(Open311Request.key_id).where(Open311Request.report_id == report_id))
        if filed_by == key.id:
            return report
    return None


def request_extras(session: Session, report_ids: list[int]) -> dict[int, Open311Request]:
    if not report_ids:
        return {}
    return {row.report_id: row for row in session.scalars(select(Open311Request).where(Open311Request.report_id.in_(report_ids)))}
