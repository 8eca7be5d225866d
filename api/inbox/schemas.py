from __future__ import annotations

import marshmallow as ma
from marshmallow import fields

from api.fields import UTCDateTime
from api.pagination import page_schema


class NotificationSchema(ma.Schema):
    id = fields.Integer()
    type = fields.String(metadata={"description": "idea_status_changed, idea_response, idea_comment, moderation_decision, budget_voting_opened, budget_voting_closes_soon, budget_results_published, district_news, report_…"})
    object_type = fields.String(metadata={"description": "What the app opens on a tap (idea, comment, report, round, news …)."})
    object_id = fields.Integer()
    title = fields.String(metadata={"description": "The object's title."})
    body = fields.String(metadata={"description": "A fixed text for the type, in the caller's language."})
    data = fields.Dict(keys=fields.String(), values=fields.String(), metadata={"description": "Routing data as the push carried it; every value a string."})
    read = fields.Boolean()
    created_at = UTCDateTime()


NotificationPageSchema = page_schema(NotificationSchema, "NotificationPage")


class UnreadCountSchema(ma.Schema):
    unread = fields.Integer()
