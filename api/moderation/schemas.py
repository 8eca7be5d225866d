from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from api.fields import Id, Text, UTCDateTime
from api.ideas.schemas import UserRefSchema
from api.pagination import PageArgs, page_schema
from models.moderation import ACTIONS, FLAG_REASONS, QUEUE_STATES, REASON_CODES, TARGET_TYPES
from models.reference import DISTRICTS


class FlagCreateSchema(ma.Schema):
    target_type = Text(required=True, validate=validate.OneOf(TARGET_TYPES))
    target_id = Id(required=True)
    reason = Text(required=True, validate=validate.OneOf(FLAG_REASONS))
    comment = Text(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class FlagSchema(ma.Schema):
    id = fields.Integer()


class QueueArgs(PageArgs):
    type = Text(validate=validate.OneOf(TARGET_TYPES))
    state = Text(validate=validate.OneOf(QUEUE_STATES))
    district = Text(validate=validate.OneOf([slug for slug, _ in DISTRICTS]), metadata={"description": "a Stadtbezirk (a comment's is its idea's)"})


class AppealRefSchema(ma.Schema):
    id = fields.Integer()
    text = fields.String()
    created_at = UTCDateTime()


class QueueItemSchema(ma.Schema):
    target_type = fields.String()
    target_id = fields.Integer()
    state = fields.String(validate=validate.OneOf(QUEUE_STATES))
    excerpt = fields.String()
    flags = fields.Integer()
    reasons = fields.List(fields.String())
    author = fields.Nested(UserRefSchema)
    waiting_since = UTCDateTime()
    appeal = fields.Nested(AppealRefSchema, allow_none=True)


QueuePageSchema = page_schema(QueueItemSchema, "ModerationQueuePage")


class DecisionCreateSchema(ma.Schema):
    target_type = Text(required=True, validate=validate.OneOf(TARGET_TYPES))
    target_id = Id(required=True)
    action = Text(required=True, validate=validate.OneOf(ACTIONS))
    reason_code = Text(required=True, validate=validate.OneOf(REASON_CODES))
    note = Text(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class DecisionSchema(ma.Schema):
    id = fields.Integer()
    target_type = fields.String()
    target_id = fields.Integer()
    action = fields.String()
    reason_code = fields.String()
    note = fields.String(allow_none=True)
    moderator = fields.Nested(UserRefSchema, allow_none=True)
    created_at = UTCDateTime()


class LogEntrySchema(DecisionSchema):
    snapshot = fields.Dict()


LogPageSchema = page_schema(LogEntrySchema, "ModerationLogPage")


class LogArgs(PageArgs):
    target_type = Text(validate=validate.OneOf(TARGET_TYPES))
    target_id = Id()


class AppealCreateSchema(ma.Schema):
    target_type = Text(required=True, validate=validate.OneOf(TARGET_TYPES))
    target_id = Id(required=True)
    text = Text(required=True, validate=validate.Length(min=1, max=2000))


class AppealSchema(ma.Schema):
    id = fields.Integer()
    decision_id = fields.Integer()
    target_type = fields.String()
    target_id = fields.Integer()
    text = fields.String()
    created_at = UTCDateTime()


class BlockSchema(ma.Schema):
    until = UTCDateTime(load_default=None, allow_none=True)
    reason = Text(required=True, validate=validate.Length(min=1, max=500))
