"""Bodies of the password-reset, password-change and e-mail-confirmation requests."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from api.fields import Text
from models.account_tokens import MAX_TOKEN_LENGTH
from models.users import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH

NEW_PASSWORD = validate.Length(min=PASSWORD_MIN_LENGTH, max=PASSWORD_MAX_LENGTH)


class PasswordResetRequestSchema(ma.Schema):
    # Not checked as an address: a malformed one simply belongs to no account (202 as ever).
    email = Text(required=True, validate=validate.Length(max=254))


class TokenField(Text):
    def __init__(self, **kwargs):
        super().__init__(required=True, validate=validate.Length(min=1, max=MAX_TOKEN_LENGTH), **kwargs)


class PasswordResetConfirmSchema(ma.Schema):
    token = TokenField()
    # Passwords are taken as typed: no stripping.
    password = Text(required=True, strip=False, validate=NEW_PASSWORD)


class PasswordChangeSchema(ma.Schema):
    # No policy on the old one: a wrong old password is one answer, whatever its length.
    old_password = Text(required=True, strip=False, storable=False)
    new_password = Text(required=True, strip=False, validate=NEW_PASSWORD)


class EmailConfirmSchema(ma.Schema):
    token = TokenField()
