from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from api.fields import CalendarMonth, QueryArgs, Text
from models.reference import DISTRICTS
from models.report_stats import MAX_MONTHS, STATS_KINDS

DISTRICT_SLUGS = [slug for slug, _ in DISTRICTS]
MONTH_DOC = {"pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$", "example": "2026-03"}


class ReportStatsArgs(QueryArgs):
    first = CalendarMonth(
        data_key="from", load_default=None,
        metadata={**MONTH_DOC, "description": "First month (YYYY-MM, Europe/Berlin), inclusive; default: eleven months before `to`"},
    )
    last = CalendarMonth(
        data_key="to", load_default=None,
        metadata={**MONTH_DOC, "description": f"Last month, inclusive; default: the current month. At most {MAX_MONTHS // 12} years from `from`"},
    )
    district = Text(load_default=None, validate=validate.OneOf(DISTRICT_SLUGS), metadata={"description": "A district id (see `GET /districts`)"})
    kind = Text(load_default=None, validate=validate.OneOf(STATS_KINDS))


class CategoryCountSchema(ma.Schema):
    category = fields.String(metadata={"description": "A category `code`"})
    kind = fields.String(validate=validate.OneOf(STATS_KINDS))
    count = fields.Integer()


class DistrictCountSchema(ma.Schema):
    district = fields.String(metadata={"description": "A district id"})
    count = fields.Integer()


class MonthCountSchema(ma.Schema):
    month = fields.String(metadata={"description": "YYYY-MM in Europe/Berlin"})
    count = fields.Integer(metadata={"description": "litter + unsafe_place"})
    litter = fields.Integer()
    unsafe_place = fields.Integer()


class FeedbackStatsSchema(ma.Schema):
    answers = fields.Integer(metadata={"description": "Answers to \"did it help?\" on the reports counted"})
    helped = fields.Integer()
    share_helped = fields.Float(allow_none=True, metadata={"description": "helped ÷ answers (4 decimals); null when nobody answered"})


class LitterTrendSchema(ma.Schema):
    count = fields.Integer(metadata={"description": "Litter reports in the range (in `district` if given; `kind` does not apply)"})
    year_before = fields.Integer(metadata={"description": "Litter reports in the same months one year earlier"})
    change = fields.Float(
        allow_none=True,
        metadata={"description": "(count − year_before) ÷ year_before, e.g. -0.052 for 5.2 % fewer (4 decimals); null when the year before has none"},
    )


class ReportStatsSchema(ma.Schema):
    first = fields.String(data_key="from", metadata={"description": "The range's first month, as used (defaults filled in)"})
    last = fields.String(data_key="to", metadata={"description": "The range's last month"})
    district = fields.String(allow_none=True)
    kind = fields.String(allow_none=True, validate=validate.OneOf(STATS_KINDS))
    total = fields.Integer(metadata={"description": "Reports filed in the range"})
    by_category = fields.List(fields.Nested(CategoryCountSchema), metadata={"description": "Every report category (of `kind`), in the reference order"})
    by_district = fields.List(fields.Nested(DistrictCountSchema), metadata={"description": "Every district (only `district` when given), in the city's order"})
    by_month = fields.List(fields.Nested(MonthCountSchema), metadata={"description": "Every month of the range, oldest first, zeros included"})
    resolved = fields.Integer(metadata={"description": "Of these reports, how many are resolved now"})
    median_hours_to_resolve = fields.Float(
        allow_none=True,
        metadata={
            "description": "Median of resolved_at − created_at over the resolved ones, each time cut to whole hours below "
            "48 h and to whole days (48, 72 … hours) beyond: exact to the hour under two days, to the day above. null when none is resolved",
        },
    )
    feedback = fields.Nested(FeedbackStatsSchema)
    litter_trend = fields.Nested(LitterTrendSchema)
