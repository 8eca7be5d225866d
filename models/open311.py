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
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, utcnow
from .errors import Conflict, Invalid

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
            raise Invalid(field, "too_long", max=MAX_ATTRIBUTE_LENGTH)
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
            raise Invalid(f"attribute[{attribute.code}]", "required")
    return checked
