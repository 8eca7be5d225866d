"""Accounts every user expects: password reset, password change, e-mail confirmation.

Mails are queued in the request's transaction (models.mail) and sent after commit by
`flask notifications drain`; links point at PUBLIC_BASE_URL.
"""
from __future__ import annotations

from flask import Response

from api.extensions import db
from api.i18n import register_messages
from api.security import current_account, login_required, public, require_user
from api.throttle import Throttled, account_key, address_key, attempt, count
from api.transactions import writes
from models import account_tokens

from .mail import mail_context
from .recovery_schemas import (
    EmailConfirmSchema,
    PasswordChangeSchema,
    PasswordResetConfirmSchema,
    PasswordResetRequestSchema,
)
from .routes import blp

register_messages(
    {
        "token_unusable": {
            "de": "Dieser Link ist ungültig, abgelaufen oder schon benutzt. Bitte fordere einen neuen an.",
            "en": "This link is invalid, has expired or was already used. Please ask for a new one.",
        },
        "wrong_password": {
            "de": "Das bisherige Passwort stimmt nicht.",
            "en": "The current password is wrong.",
        },
        "email_unconfirmed": {
            "de": "Bitte bestätige zuerst deine E-Mail-Adresse über den Link, den wir dir geschickt haben.",
            "en": "Please confirm your e-mail address first, with the link we sent you.",
        },
    }
)


def _accepted() -> Response:
    # No body at all: every 202 of the reset request looks the same, byte for byte.
    return Response(status=202)


@blp.route("/auth/password-reset", methods=["POST"])
@public
@writes
@blp.arguments(PasswordResetRequestSchema())
@blp.response(202)
@blp.alt_response(429, description="Too many requests from this address")
def request_password_reset(payload):
    """Mail a single-use reset link (valid one hour); 202 whether or not the account exists."""
    email = payload["email"]
    attempt(("PASSWORD_RESET_LIMIT_PER_ADDRESS", address_key("reset")))
    try:
        count(("PASSWORD_RESET_LIMIT_PER_ACCOUNT", account_key("reset", email)))
    except Throttled:
        # A 429 here would tell that the address is being asked for; the owner simply
        # gets no more mails this hour.
        return _accepted()
    account_tokens.request_password_reset(db.session, email, mail_context())
    return _accepted()


@blp.route("/auth/password-reset/confirm", methods=["POST"])
@public
@writes
@blp.arguments(PasswordResetConfirmSchema())
@blp.response(204)
def confirm_password_reset(payload):
    """Set a new password with the mailed token; every login session of the account ends."""
    account_tokens.reset_password(db.session, payload["token"], payload["password"], mail_context())


@blp.route("/me/password", methods=["POST"])
@login_required(contributes=False)
@writes
@blp.arguments(PasswordChangeSchema())
@blp.response(204)
@blp.alt_response(429, description="Too many wrong old passwords")
def change_password(payload):
    """Change the password with the old one; other login sessions end, this one stays."""
    caller = require_user()
    # A stolen access token must not become a way to guess the password behind it.
    guess = attempt(("LOGIN_LIMIT_PER_ACCOUNT", account_key("password-change", str(caller.id))))
    account_tokens.change_password(
        db.session, current_account(), payload["old_password"], payload["new_password"], caller.session_id, mail_context()
    )
    guess.refund()


@blp.route("/auth/confirm-email", methods=["POST"])
@public
@writes
@blp.arguments(EmailConfirmSchema())
@blp.response(204)
def confirm_email(payload):
    """Confirm the e-mail address with the mailed token (valid seven days)."""
    account_tokens.confirm_email(db.session, payload["token"])


@blp.route("/auth/confirm-email/resend", methods=["POST"])
@login_required(contributes=False)
@writes
@blp.response(202)
@blp.alt_response(429, description="Too many confirmation mails for this account")
def resend_confirmation():
    """Mail a new confirmation link (nothing to do, still 202, when the address is confirmed)."""
    user = current_account()
    if user.email_confirmed:
        return _accepted()
    attempt(("CONFIRM_RESEND_LIMIT_PER_ACCOUNT", account_key("confirm-resend", str(user.id))))
    account_tokens.send_email_confirmation(db.session, user, mail_context())
    return _accepted()
