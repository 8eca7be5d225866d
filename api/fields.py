"""marshmallow fields shared by every schema: one time format, text that every database accepts."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import marshmallow as ma
from marshmallow import fields, validate

# NUL is refused by PostgreSQL text columns; lone surrogates cannot be encoded as UTF-8.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MAX_DB_INT = 2**31 - 1


class Text(fields.String):
    """A string the database can store; surrounding whitespace is dropped."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if _UNSTORABLE.search(text):
            raise ma.ValidationError("Contains characters that are not allowed.")
        return text.strip()


class UTCDateTime(fields.DateTime):
    """`YYYY-MM-DDTHH:MM:SS+00:00` out; ISO 8601 with an offset in (no offset is 422)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ma.ValidationError("Not a valid datetime.")
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
        except ValueError as exc:
            raise ma.ValidationError("Not a valid datetime.") from exc
        if parsed.tzinfo is None:
            raise ma.ValidationError("A time zone offset is required (for example +01:00).")
        return parsed.astimezone(timezone.utc)


def Id(**kwargs) -> fields.Integer:  # noqa: N802 - reads like a field class
    """An integer id the database can hold (bigger values would be a 5xx on PostgreSQL)."""
    return fields.Integer(validate=validate.Range(min=1, max=MAX_DB_INT), **kwargs)
