from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from api.fields import Text, UTCDateTime
from api.pagination import PageArgs, page_schema
from models.news import NEWS_KINDS
from models.reference import DISTRICTS

DISTRICT_SLUGS = [slug for slug, _ in DISTRICTS]

KIND_DESCRIPTION = (
    "`event` and `office_hours` are appointments: `starts_at` is required and `GET /news/{id}.ics` "
    "serves a calendar entry. `news` and `consultation` may carry `starts_at`, `ends_at` and `place` "
    "too (a consultation's period, say) but have no calendar entry."
)


class NewsItemSchema(ma.Schema):
    id = fields.Integer()
    title = fields.String()
    body = fields.String()
    kind = fields.String(validate=validate.OneOf(NEWS_KINDS), metadata={"description": KIND_DESCRIPTION})
    district = fields.String(allow_none=True, metadata={"description": "A district id, or null for city-wide news."})
    starts_at = UTCDateTime(allow_none=True)
    ends_at = UTCDateTime(allow_none=True)
    place = fields.String(allow_none=True)
    calendar_url = fields.Method(
        "_calendar_url",
        metadata={"type": "string", "nullable": True, "description": "The item's iCalendar file (events and office hours), else null."},
    )
    created_at = UTCDateTime()
    updated_at = UTCDateTime()

    def _calendar_url(self, item):
        return f"/api/v1/news/{item.id}.ics" if item.has_calendar_entry else None


NewsPageSchema = page_schema(NewsItemSchema, "NewsPage")


class NewsCreateSchema(ma.Schema):
    title = Text(required=True, validate=validate.Length(min=3, max=200))
    body = Text(required=True, validate=validate.Length(min=1, max=10000))
    kind = Text(required=True, validate=validate.OneOf(NEWS_KINDS), metadata={"description": KIND_DESCRIPTION})
    district = Text(load_default=None, allow_none=True, validate=validate.Length(max=40), metadata={"description": "A district id; null or absent: city-wide."})
    starts_at = UTCDateTime(load_default=None, allow_none=True, metadata={"description": "Required for `event` and `office_hours`."})
    ends_at = UTCDateTime(load_default=None, allow_none=True, metadata={"description": "After `starts_at`; needs it."})
    place = Text(load_default=None, allow_none=True, validate=validate.Length(max=200))


class NewsUpdateSchema(ma.Schema):
    """Only the fields sent change; the item as a whole must still follow the rules of its kind."""

    title = Text(validate=validate.Length(min=3, max=200))
    body = Text(validate=validate.Length(min=1, max=10000))
    kind = Text(validate=validate.OneOf(NEWS_KINDS))
    district = Text(allow_none=True, validate=validate.Length(max=40), metadata={"description": "null makes the item city-wide."})
    starts_at = UTCDateTime(allow_none=True)
    ends_at = UTCDateTime(allow_none=True)
    place = Text(allow_none=True, validate=validate.Length(max=200))


class NewsListArgs(PageArgs):
    district = Text(validate=validate.OneOf(DISTRICT_SLUGS), metadata={"description": "That district's items and the city-wide ones."})
    kind = Text(validate=validate.OneOf(NEWS_KINDS))
