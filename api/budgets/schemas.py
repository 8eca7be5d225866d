"""Request and answer shapes of the budget vote (API.md, section Budgets)."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from api.fields import MAX_DB_INT, Boolean, CalendarDate, Id, Text, UTCDateTime, WholeNumber
from models.budgets import BALLOT_TYPES, RULES, STATUSES

Euros = lambda minimum=1, **kw: WholeNumber(  # noqa: E731 - a field factory
    validate=validate.Range(min=minimum, max=MAX_DB_INT), **kw
)


# --- bodies and members ------------------------------------------------------------------------


class BudgetPersonSchema(ma.Schema):
    id = fields.Integer()
    display_name = fields.String()


class BudgetMemberSchema(ma.Schema):
    user = fields.Nested(BudgetPersonSchema)
    term_start = fields.Date()
    term_end = fields.Date()


class BudgetMemberListSchema(ma.Schema):
    items = fields.List(fields.Nested(BudgetMemberSchema))


class BudgetMembershipInSchema(ma.Schema):
    term_start = CalendarDate(required=True, metadata={"description": "First day of the term (inclusive, Europe/Berlin)."})
    term_end = CalendarDate(required=True, metadata={"description": "Last day of the term (inclusive); not before term_start."})


# --- rounds ------------------------------------------------------------------------------------


class BudgetBallotRulesSchema(ma.Schema):
    type = Text(required=True, validate=validate.OneOf(BALLOT_TYPES))
    min_items = WholeNumber(
        allow_none=True, validate=validate.Range(min=0, max=10_000),
        metadata={"description": "Fewest items a ballot must name (default 1)."},
    )
    max_items = WholeNumber(allow_none=True, validate=validate.Range(min=1, max=10_000))
    max_cost = Euros(allow_none=True, metadata={"description": "Highest total cost of the items one ballot names."})
    points = WholeNumber(
        allow_none=True, validate=validate.Range(min=1, max=10_000),
        metadata={"description": "Cumulative ballots only: every ballot gives out exactly this many points."},
    )


class BudgetItemSchema(ma.Schema):
    id = fields.Integer()
    title = fields.String()
    description = fields.String()
    cost = fields.Integer()
    feasible = fields.Boolean(allow_none=True)
    feasibility_reason = fields.String(allow_none=True)


class BudgetRoundSchema(ma.Schema):
    id = fields.Integer()
    body = fields.Function(lambda r: r.body.slug)
    title = fields.String()
    status = fields.String(metadata={"enum": list(STATUSES)})
    budget = fields.Integer()
    ballot = fields.Nested(BudgetBallotRulesSchema)
    rule = fields.String(metadata={"enum": list(RULES)})
    proposals_end_at = UTCDateTime(allow_none=True)
    voting_end_at = UTCDateTime(allow_none=True)
    items = fields.List(fields.Nested(BudgetItemSchema))


class BudgetRoundInSchema(ma.Schema):
    title = Text(required=True, validate=validate.Length(min=1, max=200))
    budget = Euros(required=True, metadata={"description": "Whole euros, at least 1."})
    ballot = fields.Nested(BudgetBallotRulesSchema, required=True)
    rule = Text(required=True, validate=validate.OneOf(RULES))
    proposals_end_at = UTCDateTime(allow_none=True, load_default=None)
    voting_end_at = UTCDateTime(allow_none=True, load_default=None)


class BudgetTransitionInSchema(ma.Schema):
    to = Text(required=True, validate=validate.OneOf(STATUSES))


class BudgetItemInSchema(ma.Schema):
    title = Text(required=True, validate=validate.Length(min=1, max=200))
    description = Text(load_default="", validate=validate.Length(max=5000))
    cost = Euros(required=True, metadata={"description": "Whole euros, at least 1 and at most the round's budget."})


class BudgetReviewInSchema(ma.Schema):
    feasible = Boolean(required=True)
    reason = Text(allow_none=True, load_default=None, validate=validate.Length(max=2000),
                  metadata={"description": "Required when feasible is false."})


# --- ballots -----------------------------------------------------------------------------------


class BudgetBallotInSchema(ma.Schema):
    item_ids = fields.List(Id(), allow_none=True, validate=validate.Length(max=1000),
                           metadata={"description": "Approval ballots: the chosen items."})
    points = fields.Dict(
        keys=Text(strip=False, validate=validate.Length(max=20)),
        values=WholeNumber(validate=validate.Range(min=-MAX_DB_INT, max=MAX_DB_INT)),
        allow_none=True,
        metadata={"description": 'Cumulative ballots: {"<item_id>": points}; they must add up to exactly the round\'s `points`.'},
    )


class BudgetBallotSchema(ma.Schema):
    round_id = fields.Integer()
    item_ids = fields.List(fields.Integer())
    points = fields.Dict(keys=fields.String(), values=fields.Integer())
    receipt = fields.String(metadata={"description": "SHA-256 over the round, a random salt and the ballot; changes when the ballot is replaced."})
    cast_at = UTCDateTime()


# --- results -----------------------------------------------------------------------------------


class BudgetExplanationSchema(ma.Schema):
    code = fields.String(metadata={"enum": ["selected", "no_support_left", "did_not_fit", "not_feasible"]})
    text = fields.String()


class BudgetResultItemSchema(ma.Schema):
    id = fields.Integer()
    title = fields.String()
    cost = fields.Integer()
    votes = fields.Integer()
    score = fields.Integer()
    selected = fields.Boolean()
    explanation = fields.Nested(BudgetExplanationSchema)


class BudgetResultSchema(ma.Schema):
    rule = fields.String()
    budget = fields.Integer()
    total_cost = fields.Integer()
    ballots = fields.Integer()
    eligible_voters = fields.Integer()
    selected = fields.List(fields.Integer())
    items = fields.List(fields.Nested(BudgetResultItemSchema))
    receipts = fields.List(fields.String(), metadata={"description": "Every counted ballot's receipt (only once published)."})
