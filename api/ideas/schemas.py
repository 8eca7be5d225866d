from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from api.fields import Id, Number, QueryArgs, Text, UTCDateTime
from api.pagination import PageArgs, page_schema
from models.ideas import IDEA_STATUSES, RESPONSE_STATUSES, VISIBILITIES
from models.reference import CATEGORIES, DISTRICTS

DISTRICT_SLUGS = [slug for slug, _ in DISTRICTS]
IDEA_CATEGORY_CODES = [code for code, kind, *_ in CATEGORIES if kind == "idea"]

# Dortmund's city area with a little margin: an idea "for their district" lies inside it.
DORTMUND_BOUNDS = {"lat": (51.41, 51.60), "lon": (7.30, 7.64)}


class LocationSchema(ma.Schema):
    lat = Number(required=True, validate=validate.Range(-90, 90))
    lon = Number(required=True, validate=validate.Range(-180, 180))

    @ma.validates_schema
    def inside_dortmund(self, data, **kwargs):
        lat, lon = data.get("lat"), data.get("lon")
        if lat is None or lon is None:
            return
        (lat_min, lat_max), (lon_min, lon_max) = DORTMUND_BOUNDS["lat"], DORTMUND_BOUNDS["lon"]
        if not (lat_min <= lat <= lat_max and lon_min <= lon <= lon_max):
            raise ma.ValidationError("The location is outside Dortmund.", field_name="_schema")


class UserRefSchema(ma.Schema):
    id = fields.Integer(allow_none=True)
    display_name = fields.String()


class OfficialResponseSchema(ma.Schema):
    status = fields.String()
    body = fields.String()
    responded_at = UTCDateTime()


class ModerationInfoSchema(ma.Schema):
    reason_code = fields.String()
    note = fields.String(allow_none=True)
    decided_at = UTCDateTime()


class IdeaSchema(ma.Schema):
    id = fields.Integer()
    title = fields.String()
    body = fields.String()
    category = fields.String()
    district = fields.String()
    location = fields.Nested(LocationSchema, allow_none=True)
    status = fields.String(validate=validate.OneOf(IDEA_STATUSES))
    visibility = fields.String(validate=validate.OneOf(VISIBILITIES))
    author = fields.Nested(UserRefSchema)
    support_count = fields.Integer()
    comment_count = fields.Integer()
    supported_by_me = fields.Boolean()
    following = fields.Boolean()
    official_response = fields.Nested(OfficialResponseSchema, allow_none=True)
    moderation = fields.Nested(ModerationInfoSchema, allow_none=True, metadata={"description": "Only for the author, moderators and staff"})
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


IdeaPageSchema = page_schema(IdeaSchema, "IdeaPage")


class IdeaListSchema(ma.Schema):
    items = fields.List(fields.Nested(IdeaSchema))


class IdeaCreateSchema(ma.Schema):
    title = Text(required=True, validate=validate.Length(min=5, max=120))
    body = Text(required=True, validate=validate.Length(min=20, max=5000))
    category = Text(required=True, validate=validate.Length(max=40))
    district = Text(required=True, validate=validate.Length(max=40))
    location = fields.Nested(LocationSchema, allow_none=True, load_default=None)


class IdeaUpdateSchema(ma.Schema):
    title = Text(validate=validate.Length(min=5, max=120))
    body = Text(validate=validate.Length(min=20, max=5000))
    category = Text(validate=validate.Length(max=40))
    district = Text(validate=validate.Length(max=40))
    location = fields.Nested(LocationSchema, allow_none=True)


class IdeaListArgs(PageArgs):
    district = Text(validate=validate.OneOf(DISTRICT_SLUGS))
    category = Text(validate=validate.OneOf(IDEA_CATEGORY_CODES))
    status = Text(validate=validate.OneOf([s for s in IDEA_STATUSES]))
    q = Text(validate=validate.Length(max=200))
    sort = Text(load_default="new", validate=validate.OneOf(["new", "top"]))


class SimilarArgs(QueryArgs):
    district = Text(validate=validate.OneOf(DISTRICT_SLUGS))
    title = Text(load_default="", validate=validate.Length(max=200))
    body = Text(load_default="", validate=validate.Length(max=5000))


class ResponseCreateSchema(ma.Schema):
    status = Text(required=True, validate=validate.OneOf(RESPONSE_STATUSES))
    body = Text(required=True, validate=validate.Length(min=1, max=5000))


class CommentSchema(ma.Schema):
    id = fields.Integer()
    idea_id = fields.Integer()
    parent_id = fields.Integer(allow_none=True)
    body = fields.String()
    author = fields.Nested(UserRefSchema)
    status = fields.String(validate=validate.OneOf(["pending", "published", "deleted"]))
    visibility = fields.String(validate=validate.OneOf(VISIBILITIES))
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


CommentPageSchema = page_schema(CommentSchema, "CommentPage")


class CommentCreateSchema(ma.Schema):
    body = Text(required=True, validate=validate.Length(min=1, max=2000))
    parent_id = Id(load_default=None, allow_none=True)
