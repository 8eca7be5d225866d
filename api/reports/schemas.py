from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from api.fields import Boolean, BoundingBox, FormOrJSON, Id, Number, QueryArgs, Text, UTCDateTime, WholeNumber
from api.ideas.schemas import ModerationInfoSchema
from api.pagination import PageArgs, page_schema
from models.reference import CATEGORIES, DEPARTMENTS, DISTRICTS
from models.reports import MAX_PHOTOS, REPORT_KINDS, REPORT_STATUSES, UPDATE_STATUSES
from models.geography import CLUSTER_ZOOMS

REPORT_CATEGORY_CODES = [code for code, kind, *_ in CATEGORIES if kind in REPORT_KINDS]
DEPARTMENT_CODES = [code for code, *_ in DEPARTMENTS]
DISTRICT_SLUGS = [slug for slug, _ in DISTRICTS]


class PhotoSchema(ma.Schema):
    url = fields.String()
    thumbnail_url = fields.String()
    width = fields.Integer()
    height = fields.Integer()


class SuggestedLocationSchema(ma.Schema):
    lat = fields.Float()
    lon = fields.Float()


class UploadedPhotoSchema(PhotoSchema):
    id = fields.Integer()
    suggested_location = fields.Nested(
        SuggestedLocationSchema, allow_none=True,
        metadata={"description": "Read from the photo's GPS once and then discarded (never stored)"},
    )
    expires_at = UTCDateTime(metadata={"description": "Unless a report takes the photo before then"})


class ReportUpdateSchema(ma.Schema):
    status = fields.String(validate=validate.OneOf(UPDATE_STATUSES))
    note = fields.String(allow_none=True)
    by = fields.String(validate=validate.OneOf(("city", "reporter")))
    duplicate_of = fields.Integer(allow_none=True)
    created_at = UTCDateTime()


class FeedbackCountsSchema(ma.Schema):
    helped = fields.Integer()
    not_helped = fields.Integer()


class ReportSchema(ma.Schema):
    id = fields.Integer()
    kind = fields.String(validate=validate.OneOf(REPORT_KINDS))
    category = fields.String()
    description = fields.String()
    lat = fields.Float()
    lon = fields.Float()
    district = fields.String()
    department = fields.String(allow_none=True, metadata={"description": "The department responsible for the category"})
    status = fields.String(validate=validate.OneOf(REPORT_STATUSES))
    visibility = fields.String()
    duplicate_of = fields.Integer(allow_none=True)
    photos = fields.List(fields.Nested(PhotoSchema))
    confirmations = fields.Integer(metadata={"description": "How many others said \"me too\""})
    feedback = fields.Nested(FeedbackCountsSchema, metadata={"description": "Answers to \"did it help?\""})
    moderation = fields.Nested(ModerationInfoSchema, allow_none=True, metadata={"description": "Only for the reporter, moderators and staff"})
    following = fields.Boolean()
    confirmed_by_me = fields.Boolean()
    reported_by_me = fields.Boolean()
    created_at = UTCDateTime()
    updated_at = UTCDateTime()
    resolved_at = UTCDateTime(allow_none=True)
    updates = fields.List(fields.Nested(ReportUpdateSchema), metadata={"description": "The public timeline, oldest first"})


ReportPageSchema = page_schema(ReportSchema, "ReportPage")


class NearbyReportSchema(ReportSchema):
    distance_m = fields.Float()


class NearbyListSchema(ma.Schema):
    items = fields.List(fields.Nested(NearbyReportSchema))


class ReportCreateSchema(FormOrJSON):
    """JSON, or the text fields of a multipart form whose files are `photo` (up to three)."""

    kind = Text(required=True, validate=validate.OneOf(REPORT_KINDS))
    category = Text(required=True, validate=validate.Length(max=40))
    description = Text(required=True, validate=validate.Length(min=3, max=2000))
    lat = Number(required=True, validate=validate.Range(-90, 90))
    lon = Number(required=True, validate=validate.Range(-180, 180))
    photo_ids = fields.List(
        Id(), load_default=list, validate=validate.Length(max=MAX_PHOTOS),
        metadata={"description": "Photos uploaded before with POST /reports/photos (JSON bodies only)"},
    )


class ReportListArgs(PageArgs):
    bbox = BoundingBox(load_default=None, metadata={"description": "minLon,minLat,maxLon,maxLat (WGS84)"})
    kind = Text(load_default=None, validate=validate.OneOf(REPORT_KINDS))
    category = Text(load_default=None, validate=validate.Length(max=40))
    status = Text(load_default=None, validate=validate.OneOf(REPORT_STATUSES))
    department = Text(load_default=None, validate=validate.Length(max=40))
    district = Text(load_default=None, validate=validate.OneOf(DISTRICT_SLUGS))
    sort = Text(
        load_default="new", validate=validate.OneOf(("new", "waiting")),
        metadata={"description": "`new`: newest first; `waiting`: open reports, longest waiting first (the staff queue)"},
    )


class GeoJSONArgs(ReportListArgs):
    limit = WholeNumber(load_default=200, validate=validate.Range(min=1, max=500))


class ClusterArgs(QueryArgs):
    bbox = BoundingBox(load_default=None, metadata={"description": "minLon,minLat,maxLon,maxLat; the whole city when absent"})
    zoom = WholeNumber(
        load_default=12, validate=validate.Range(min=0, max=22),
        metadata={"description": f"Web-map zoom; counts are kept for {CLUSTER_ZOOMS[0]}-{CLUSTER_ZOOMS[-1]}, others use the nearest"},
    )
    kind = Text(load_default=None, validate=validate.OneOf(REPORT_KINDS))
    category = Text(load_default=None, validate=validate.Length(max=40))
    status = Text(load_default=None, validate=validate.OneOf(UPDATE_STATUSES))


class NearbyArgs(QueryArgs):
    lat = Number(required=True, validate=validate.Range(-90, 90))
    lon = Number(required=True, validate=validate.Range(-180, 180))
    category = Text(required=True, validate=validate.Length(max=40))


class StaffUpdateCreateSchema(ma.Schema):
    status = Text(required=True, validate=validate.OneOf(UPDATE_STATUSES))
    note = Text(required=True, validate=validate.Length(min=1, max=2000))
    duplicate_of = Id(load_default=None, allow_none=True)


class ReopenSchema(ma.Schema):
    note = Text(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class FeedbackCreateSchema(ma.Schema):
    helped = Boolean(required=True)
    comment = Text(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class FeedbackSchema(ma.Schema):
    report_id = fields.Integer()
    helped = fields.Boolean()
    comment = fields.String(allow_none=True)
    created_at = UTCDateTime()


class GeoJSONGeometrySchema(ma.Schema):
    type = fields.String()
    coordinates = fields.List(fields.Float(), metadata={"description": "[lon, lat]"})


class GeoJSONFeatureSchema(ma.Schema):
    type = fields.String()
    id = fields.Integer(allow_none=True)
    geometry = fields.Nested(GeoJSONGeometrySchema)
    properties = fields.Dict()


class FeatureCollectionSchema(ma.Schema):
    type = fields.String()
    features = fields.List(fields.Nested(GeoJSONFeatureSchema))
    next_cursor = fields.String(allow_none=True, metadata={"description": "Report pins only: the next page of the same filters"})
    zoom = fields.Integer(metadata={"description": "Clusters only: the zoom level the counts are for"})
