"""Accounts: register, login, refresh, logout, and the caller's own profile."""
from __future__ import annotations

from flask.views import MethodView
from flask_jwt_extended import create_access_token, create_refresh_token, get_jwt
from api.parsing import Blueprint

from api.errors import abort_json
from api.extensions import db
from api.security import current_account, login_required, public, refresh_token_required, require_user
from api.throttle import account_address_key, account_key, address_key, attempt
from api.transactions import writes
from models import account_tokens, notifications, users

from .mail import mail_context
from .schemas import AccessTokenSchema, LoginSchema, ProfileUpdateSchema, RegisterSchema, SessionSchema, UserSchema

blp = Blueprint("auth", __name__, description="Accounts and login sessions")


def _tokens_for(user: users.User) -> dict:
    auth_session = users.open_session(db.session, user)
    claims = {"sid": auth_session.id}
    return {
        "user": user,
        "access_token": create_access_token(identity=str(user.id), additional_claims=claims),
        "refresh_token": create_refresh_token(identity=str(user.id), additional_claims=claims),
    }


@blp.route("/auth/register", methods=["POST"])
@public
@writes
@blp.arguments(RegisterSchema())
@blp.response(201, SessionSchema)
@blp.alt_response(409, description="An account with this e-mail address exists")
@blp.alt_response(429, description="Too many registrations from this address")
def register(payload):
    """Create an account and log in."""
    attempt(("REGISTER_LIMIT_PER_ADDRESS", address_key("register")))
    user = users.register(db.session, payload["email"], payload["password"], payload["display_name"], screen_name=True)
    account_tokens.send_email_confirmation(db.session, user, mail_context())
    return _tokens_for(user), 201, {"Location": "/api/v1/me"}


@blp.route("/auth/login", methods=["POST"])
@public
@writes
@blp.arguments(LoginSchema())
@blp.response(200, SessionSchema)
@blp.alt_response(401, description="Wrong e-mail address or password")
@blp.alt_response(429, description="Too many failed attempts for this account or address")
def login(payload):
    """Log in with e-mail address and password; repeated failures are throttled."""
    email = payload["email"]
    # Counted before the password is checked, so parallel guesses cannot outrun the limit.
    guess = attempt(
        ("LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS", account_address_key("login", email)),
        ("LOGIN_LIMIT_PER_ACCOUNT", account_key("login", email)),
        ("LOGIN_LIMIT_PER_ADDRESS", address_key("login")),
    )
    user = users.authenticate(db.session, email, payload["password"])
    if user is None:
        abort_json(401, "invalid_credentials")
    guess.refund()
    return _tokens_for(user)


@blp.route("/auth/refresh", methods=["POST"])
@refresh_token_required
@blp.response(200, AccessTokenSchema)
def refresh():
    """A new access token for the refresh token's login session."""
    user = require_user()
    return {"access_token": create_access_token(identity=str(user.id), additional_claims={"sid": get_jwt()["sid"]})}


@blp.route("/auth/logout", methods=["POST"])
@login_required(contributes=False)
@writes
@blp.response(204)
def logout():
    """End this login session: its access and refresh tokens stop working everywhere."""
    users.revoke_session(db.session, require_user().session_id)
    # A shared phone must stop hearing the previous user's news at once.
    notifications.detach_session_devices(db.session, require_user().session_id)


@blp.route("/me")
class Me(MethodView):
    @login_required
    @blp.response(200, UserSchema)
    def get(self):
        """The caller's own account."""
        return current_account()

    @login_required
    @writes
    @blp.arguments(ProfileUpdateSchema())
    @blp.response(200, UserSchema)
    def patch(self, payload):
        """Change the display name."""
        return users.rename(db.session, current_account(), payload["display_name"])
