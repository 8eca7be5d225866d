"""marshmallow fields shared by every schema: one string, one number, one time format.

Each refuses at the edge what the databases cannot hold, so that nothing a client sends
reaches SQLite or PostgreSQL as a value they fail on (a 5xx): NUL bytes and lone UTF-16
surrogates in text, integers beyond the columns' range, times that overflow.
"""
from __future__ import annotations

import math
import re
from datetime import datetime, timezone

import marshmallow as ma
from marshmallow import fields, validate

# NUL is refused by PostgreSQL text columns; lone surrogates cannot be encoded as UTF-8.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MAX_DB_INT = 2**31 - 1
# Times people mean in this app (blocks, votes, events) lie well inside this; beyond it,
# converting an offset to UTC or adding a day can overflow Python's datetime.
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
UNSTORABLE_TEXT = "Contains characters that are not allowed."


def _text_input(field: fields.Field, data) -> bool:
    """Whether values arrive as text: query strings (`QueryArgs`) and form bodies (`FormOrJSON`)."""
    return getattr(field.root, "TEXT_INPUT", False) or isinstance(data, FormFields)


class FormFields(dict):
    """A multipart or urlencoded body, read into a dict: every value in it is text."""


def refuse_unstorable(text: str) -> None:
    if _UNSTORABLE.search(text):
        raise ma.ValidationError(UNSTORABLE_TEXT)


class Chars(validate.Length):
    """A length in characters, worded as such (lists keep marshmallow's "Length ...")."""

    message_min = "Must be at least {min} characters long."
    message_max = "Must be at most {max} characters long."
    message_all = "Must be between {min} and {max} characters long."
    message_equal = "Must be exactly {equal} characters long."


class Text(fields.String):
    """The one string field of request bodies and queries.

    Refuses NUL bytes and lone surrogates (422 on the field); drops surrounding whitespace
    unless `strip=False` (passwords); length validators are worded in characters.
    `storable=False` lets through text that is only compared, never stored (login
    credentials: whatever they hold, a mismatch is "wrong credentials").
    """

    def __init__(self, *args, strip: bool = True, storable: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.strip = strip
        self.storable = storable
        self.validators = [
            Chars(min=v.min, max=v.max, equal=v.equal) if type(v) is validate.Length else v for v in self.validators
        ]

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if self.storable:
            refuse_unstorable(text)
        return text.strip() if self.strip else text


class Email(Text):
    """An e-mail address (compared case-insensitively by the accounts)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.validators.insert(0, validate.Email(error="Not a valid email address."))


class WholeNumber(fields.Integer):
    """An integer as JSON writes it: `5`, never `"5"`, `5.5`, `5.0` or `true`.

    Query strings have no types: schemas of query parameters (`QueryArgs`) accept digits.
    Bounded by the database's integer columns unless the schema names tighter bounds.
    """

    def __init__(self, *args, minimum: int = -MAX_DB_INT, maximum: int = MAX_DB_INT, **kwargs):
        given = kwargs.pop("validate", None)
        given = [] if given is None else list(given) if isinstance(given, (list, tuple)) else [given]
        # A schema's own Range (always inside the columns' range) is the one a client reads.
        if not any(isinstance(v, validate.Range) for v in given):
            given.append(validate.Range(min=minimum, max=maximum))
        kwargs["validate"] = given
        super().__init__(*args, strict=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and _text_input(self, data):
            text = value.strip()
            if not re.fullmatch(r"[+-]?\d{1,20}", text):
                raise self.make_error("invalid")
            value = int(text)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class Boolean(fields.Boolean):
    """`true` or `false` as JSON writes them (marshmallow would also take "yes", 1, "on" ...)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and _text_input(self, data):
            return super()._deserialize(value, attr, data, **kwargs)
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class Number(fields.Float):
    """A finite JSON number (never a string, a boolean, NaN or infinity)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, allow_nan=False, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or (isinstance(value, str) and not _text_input(self, data)):
            raise self.make_error("invalid")
        if isinstance(value, str) and len(value) > 40:
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


def Id(**kwargs) -> WholeNumber:  # noqa: N802 - reads like a field class
    """An integer id the database can hold (bigger values would be a 5xx on PostgreSQL)."""
    return WholeNumber(minimum=1, maximum=MAX_DB_INT, **kwargs)


class QueryArgs(ma.Schema):
    """Base of every schema of query parameters: numbers arrive as digits there."""

    TEXT_INPUT = True


class FormOrJSON(ma.Schema):
    """A body that comes as JSON or as a form (`multipart/form-data` with files, say).

    JSON keeps its types (a string is never a number); in a form everything is text, so
    numbers and booleans are read from their text there, and nowhere else.
    """

    @ma.pre_load
    def _mark_form(self, data, **kwargs):
        if isinstance(data, dict) or not hasattr(data, "keys"):
            return data
        return FormFields({key: data[key] for key in data.keys()})


class BoundingBox(fields.Field):
    """`minLon,minLat,maxLon,maxLat` (as web maps write a box) → (min_lon, min_lat, max_lon, max_lat)."""

    default_error_messages = {
        "invalid": "Give four numbers: minLon,minLat,maxLon,maxLat.",
        "range": "Longitudes lie within -180..180 and latitudes within -90..90, minimum before maximum.",
    }

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or len(value) > 200:
            raise self.make_error("invalid")
        parts = value.split(",")
        if len(parts) != 4:
            raise self.make_error("invalid")
        try:
            numbers = [float(part) for part in parts]
        except ValueError:
            raise self.make_error("invalid") from None
        if not all(math.isfinite(n) for n in numbers):
            raise self.make_error("invalid")
        min_lon, min_lat, max_lon, max_lat = numbers
        if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
            raise self.make_error("range")
        return min_lon, min_lat, max_lon, max_lat

    def _jsonschema_type_mapping(self):  # pragma: no cover - apispec reads the metadata
        return {"type": "string"}


class UTCDateTime(fields.DateTime):
    """`YYYY-MM-DDTHH:MM:SS+00:00` out; ISO 8601 with an offset in (no offset is 422).

    Inputs outside 2000–2999 are refused before any conversion could overflow.
    """

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or len(value) > 40:
            raise ma.ValidationError("Not a valid datetime.")
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
        except ValueError as exc:
            raise ma.ValidationError("Not a valid datetime.") from exc
        if parsed.tzinfo is None:
            raise ma.ValidationError("A time zone offset is required (for example +01:00).")
        if not EARLIEST.replace(tzinfo=None) < parsed.replace(tzinfo=None) < LATEST.replace(tzinfo=None):
            raise ma.ValidationError("Must lie between the years 2000 and 2999.")
        return parsed.astimezone(timezone.utc)


class CalendarDate(fields.Date):
    """A calendar day (`YYYY-MM-DD`) within the years 2000–2999."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or len(value) > 20:
            raise self.make_error("invalid")
        day = super()._deserialize(value, attr, data, **kwargs)
        if not EARLIEST.date() <= day <= LATEST.date():
            raise ma.ValidationError("Must lie between the years 2000 and 2999.")
        return day


class CalendarMonth(Text):
    """A calendar month (`YYYY-MM`, as written: `2026-03`, never `2026-3` or a date) within the years 2000–2999."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        # ASCII digits only (`\d` would take Arabic-Indic and full-width ones too).
        if not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", value):
            raise ma.ValidationError("Not a valid month (YYYY-MM).")
        if not EARLIEST.year <= int(value[:4]) <= LATEST.year:
            raise ma.ValidationError("Must lie between the years 2000 and 2999.")
        return value


__all__ = ["BoundingBox", "Boolean", "FormFields", "FormOrJSON", "Number", "CalendarDate", "CalendarMonth", "Chars", "Email", "Id", "MAX_DB_INT", "QueryArgs", "Text", "UTCDateTime", "WholeNumber"]
