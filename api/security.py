"""Who is calling: JWT handling, the current user, and access decorators for views.

Access decorators sit above `@blp.arguments` so that 401/403 are decided before the body
is validated, and they write the view's security requirement into the OpenAPI spec.
"""
from __future__ import annotations

from copy import deepcopy
from functools import wraps

from flask import Flask, current_app, g, jsonify, request
from flask_jwt_extended import verify_jwt_in_request

from sqlalchemy.orm import joinedload

from models.users import BodyMembership, Caller, User, caller_for_session

from .errors import abort_json, error_body
from .extensions import db, jwt, write_intent
from .i18n import translate
from .openapi_doc import answers

BEARER = [{"bearerAuth": []}]
ACCOUNT_WITH_DETAILS = (
    joinedload(User.role_rows),
    joinedload(User.memberships).joinedload(BodyMembership.body),
)
PUBLIC_WITH_OPTIONAL_LOGIN = [{}, {"bearerAuth": []}]
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _document(func, *, errors: tuple[int, ...] = (), errors_when_changing: tuple[int, ...] = (), **doc):
    """Write the security requirement and the statuses the check itself answers into the spec."""
    apidoc = deepcopy(getattr(func, "_apidoc", {}))
    manual = apidoc.setdefault("manual_doc", {})
    manual.update(doc)
    func._apidoc = apidoc
    return answers(*errors, when_changing=errors_when_changing)(func)


def _verify(optional: bool = False, refresh: bool = False) -> None:
    # Token problems raise here and are answered by the loaders in `init_jwt` (always 401).
    if _bearer_header_present():
        # Whoever says "Bearer" means to log in: without a valid token that is 401, on
        # public endpoints too, never a silent downgrade to anonymous.
        optional = False
    verify_jwt_in_request(optional=optional, refresh=refresh)


def _bearer_header_present() -> bool:
    """True when the request carries a bearer `Authorization` header (any case of the scheme).

    A well-formed one (exactly one token) is rewritten to the spelling flask-jwt-extended
    expects; a malformed one (no token, several values) is refused here with 401.
    """
    header = request.headers.get("Authorization")
    if header is None:
        return False
    scheme, _, credentials = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    token = credentials.strip()
    if not token or any(c in token for c in " ,\t"):
        abort_json(401, "token_invalid", headers={"WWW-Authenticate": "Bearer"})
    request.environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return True


def _refuse_unsupported_media_type() -> None:
    # Found in before_request; said only once the caller may call at all.
    if g.get("unsupported_media_type"):
        accepted = g.get("accepted_media_types") or ("application/json",)
        if len(accepted) > 1:
            abort_json(415, "unsupported_media_type_one_of", types=", ".join(accepted))
        abort_json(415, "unsupported_media_type")


def current_user() -> Caller | None:
    """The authenticated caller (id, roles, block), or None for anonymous requests."""
    return getattr(g, "current_user", None)


def require_user() -> Caller:
    user = current_user()
    if user is None:
        abort_json(401, "token_missing")
    return user


def current_account() -> User:
    """The caller's full account, for answers and changes that concern the account itself.

    Its roles and memberships (with their bodies) come with it in the same query: every
    answer that shows the account shows them.
    """
    account = db.session.get(User, require_user().id, options=ACCOUNT_WITH_DETAILS)
    if account is None:
        abort_json(401, "token_revoked")
    return account


def public(func):
    """Anyone may call; a valid token makes the caller known, an invalid one is still 401."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        # Most public reads carry no token; skip the JWT machinery for them.
        if "Authorization" in request.headers:
            _verify(optional=True)
        _refuse_unsupported_media_type()
        return func(*args, **kwargs)

    # An invalid token is 401 here too.
    return _document(wrapper, security=PUBLIC_WITH_OPTIONAL_LOGIN, errors=(401,))


def login_required(func=None, *, role: str | None = None, contributes: bool | None = None, confirmed_email: bool = False):
    """A logged-in user, optionally with a role (admin passes every role check).

    `contributes` marks routes that create or change something, which blocked users may not
    do: by default every changing method (moderators' decisions and blocks included). Routes
    that only concern the caller's own session or reading preferences (logout, following)
    pass `contributes=False`.
    """

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            _verify()
            user = require_user()
            if role is not None and not user.has_role(role):
                abort_json(403, "forbidden")
            changes = contributes if contributes is not None else request.method not in READ_METHODS
            if changes and user.is_blocked():
                abort_json(403, "user_blocked")
            # `confirmed_email`: creating, supporting, flagging and voting, where the
            # operator wants accounts behind confirmed addresses (REQUIRE_CONFIRMED_EMAIL).
            if confirmed_email and not user.email_confirmed and current_app.config["REQUIRE_CONFIRMED_EMAIL"]:
                abort_json(403, "email_unconfirmed")
            _refuse_unsupported_media_type()
            return view(*args, **kwargs)

        # Which method the view serves is known only when the spec is written (api.openapi_doc).
        always_forbidden = role is not None or bool(contributes) or confirmed_email
        return _document(
            wrapper,
            security=BEARER,
            errors=(401, 403) if always_forbidden else (401,),
            errors_when_changing=(403,) if contributes is None else (),
        )

    return decorate(func) if func is not None else decorate


def refresh_token_required(func):
    @wraps(func)
    def wrapper(*args, **kwargs):
        _verify(refresh=True)
        _refuse_unsupported_media_type()
        return func(*args, **kwargs)

    return _document(wrapper, security=BEARER, errors=(401,))


def init_jwt(app: Flask) -> None:
    from .token_cache import install

    install()
    jwt.init_app(app)

    @jwt.token_in_blocklist_loader
    def session_revoked(jwt_header, jwt_payload) -> bool:  # noqa: ARG001
        session_id, subject = jwt_payload.get("sid"), jwt_payload.get("sub")
        if not isinstance(session_id, str) or not isinstance(subject, str):
            return True
        if write_intent.get():
            # A read of its own: a changing request's write transaction (and on SQLite its
            # writer lock) should start with the work, not with the token check.
            token = write_intent.set(False)
            try:
                caller = caller_for_session(db.session, session_id, subject)
            finally:
                write_intent.reset(token)
                db.session.rollback()
        else:
            caller = caller_for_session(db.session, session_id, subject)
        if caller is None:
            return True
        g.current_user = caller
        return False

    @jwt.user_lookup_loader
    def load_user(jwt_header, jwt_payload):  # noqa: ARG001
        return getattr(g, "current_user", None)

    def unauthorized(key: str):
        response = jsonify(error_body(401, translate(key)))
        response.status_code = 401
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    jwt.unauthorized_loader(lambda reason: unauthorized("token_missing"))
    jwt.invalid_token_loader(lambda reason: unauthorized("token_invalid"))
    jwt.expired_token_loader(lambda header, payload: unauthorized("token_expired"))
    jwt.revoked_token_loader(lambda header, payload: unauthorized("token_revoked"))
    jwt.needs_fresh_token_loader(lambda header, payload: unauthorized("token_invalid"))
    jwt.user_lookup_error_loader(lambda header, payload: unauthorized("token_revoked"))
    jwt.token_verification_failed_loader(lambda header, payload: unauthorized("token_invalid"))
