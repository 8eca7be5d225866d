from __future__ import annotations

import re

import marshmallow as ma
from marshmallow import fields, validate

from api.fields import Boolean, Text, UTCDateTime
from models.notifications import LOCALES, MAX_TOKEN_LENGTH, PLATFORMS
from models.reference import DISTRICTS

# "HH:MM" on a 24-hour clock, as the app's time pickers write it (07:00, never 7:00).
CLOCK = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$")


class DeviceCreateSchema(ma.Schema):
    token = Text(
        required=True,
        validate=validate.Length(min=1, max=MAX_TOKEN_LENGTH),
        metadata={"description": "The FCM registration token; never shown again in any answer."},
    )
    platform = Text(required=True, validate=validate.OneOf(PLATFORMS))
    locale = Text(
        validate=validate.OneOf(LOCALES),
        metadata={"description": "Language of this phone's pushes; defaults to the request's `Accept-Language`."},
    )


class DeviceSchema(ma.Schema):
    id = fields.Integer()
    platform = fields.String(validate=validate.OneOf(PLATFORMS))
    locale = fields.String(validate=validate.OneOf(LOCALES))
    created_at = UTCDateTime()


class DeviceListSchema(ma.Schema):
    items = fields.List(fields.Nested(DeviceSchema))


class PushSchema(ma.Schema):
    idea_updates = Boolean(required=True, metadata={"description": "Ideas one follows, and moderation of one's own contributions."})
    report_updates = Boolean(required=True, metadata={"description": "Reports one filed or follows."})
    budget = Boolean(required=True, metadata={"description": "Votes of the bodies one belongs to."})
    district_news = Boolean(required=True, metadata={"description": "News of the chosen `districts` (and city-wide news)."})


def _clock(text: str) -> None:
    if not CLOCK.match(text):
        raise ma.ValidationError("quiet_hours_clock")


class QuietHoursSchema(ma.Schema):
    start = Text(required=True, validate=_clock, metadata={"description": "HH:MM, Europe/Berlin", "example": "22:00"})
    end = Text(required=True, validate=_clock, metadata={"description": "HH:MM, Europe/Berlin; may be past midnight", "example": "07:00"})

    @ma.validates_schema
    def not_empty(self, data, **kwargs):
        # A window from 22:00 to 22:00 is either nothing or all day: the client should say which.
        if data.get("start") is not None and data.get("start") == data.get("end"):
            raise ma.ValidationError("quiet_hours_empty")


class PreferencesSchema(ma.Schema):
    """The whole document: PUT replaces every part, so each must be sent."""

    push = fields.Nested(PushSchema, required=True)
    districts = fields.List(
        Text(validate=validate.Length(max=40)),
        required=True,
        validate=validate.Length(max=len(DISTRICTS)),
        metadata={"description": "District ids whose news to receive (see `GET /districts`)."},
    )
    quiet_hours = fields.Nested(
        QuietHoursSchema,
        required=True,
        allow_none=True,
        metadata={"description": "No pushes in this window (they wait for its end; the inbox has them at once); `null`: none."},
    )
