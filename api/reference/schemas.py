from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from api.fields import QueryArgs, Text
from models.reference import CATEGORY_KINDS


class DistrictSchema(ma.Schema):
    id = fields.String(attribute="slug")
    name = fields.String()


class CategorySchema(ma.Schema):
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    department = fields.String(allow_none=True, metadata={"description": "Report categories: the responsible department"})
    nearby_radius_m = fields.Integer(allow_none=True, metadata={"description": "Report categories: radius of likely duplicates"})


class CategoryQuerySchema(QueryArgs):
    kind = Text(validate=validate.OneOf(CATEGORY_KINDS))


class BodySchema(ma.Schema):
    slug = fields.String()
    name = fields.String()
