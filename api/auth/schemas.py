from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from api.fields import Email, Text, UTCDateTime
from models.users import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH


class BodyMembershipSchema(ma.Schema):
    slug = fields.Function(lambda m: m.body.slug)
    name = fields.Function(lambda m: m.body.name)
    term_start = fields.Date()
    term_end = fields.Date()


class UserSchema(ma.Schema):
    """A user as its owner (and staff) see it; others see only `{id, display_name}`."""

    id = fields.Integer()
    email = fields.String()
    email_confirmed = fields.Boolean()
    display_name = fields.String()
    roles = fields.List(fields.String())
    bodies = fields.List(fields.Nested(BodyMembershipSchema), attribute="memberships")
    created_at = UTCDateTime()


class RegisterSchema(ma.Schema):
    email = Email(required=True, validate=validate.Length(max=254))
    password = Text(required=True, strip=False, validate=validate.Length(min=PASSWORD_MIN_LENGTH, max=PASSWORD_MAX_LENGTH))
    display_name = Text(required=True, validate=validate.Length(min=2, max=50))


class LoginSchema(ma.Schema):
    # No password policy and no length limit here: a wrong or overlong password is 401, never
    # a 422 that hints at the rules (models.users.authenticate refuses overlong input unhashed).
    email = Text(required=True, strip=False, storable=False)
    password = Text(required=True, strip=False, storable=False)


class SessionSchema(ma.Schema):
    user = fields.Nested(UserSchema)
    access_token = fields.String()
    refresh_token = fields.String()


class AccessTokenSchema(ma.Schema):
    access_token = fields.String()


class ProfileUpdateSchema(ma.Schema):
    display_name = Text(required=True, validate=validate.Length(min=2, max=50))
