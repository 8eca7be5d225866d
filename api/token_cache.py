"""Remember verified tokens for their lifetime, so a busy caller's token is checked once.

flask-jwt-extended verifies the bearer token on every request: it reads a dozen settings,
decodes the token through PyJWT (whose pure-Python base64 checks made that the largest
single cost of an authenticated read: about 0.5 ms of a 1.2 ms moderation-queue answer)
and decodes its header twice more. Verifying an HS256 token with a given key is a pure
function of the token until it expires, so the result is kept per worker and app and used
while the token is unexpired; anything else goes to the library as before, with the same
errors. Revocation is not cached: the login session is looked up on every request
(api.security).

Both swaps replace names that flask-jwt-extended imported into its own modules
(`decode_token` in view_decorators, the `jwt` module in utils): check them on upgrades
(tests/auth/test_accounts.py fails when they no longer take effect).
"""
from __future__ import annotations

import time
import types

import jwt as pyjwt
from flask import current_app

MAX_ENTRIES = 20_000


class RememberedDecode:
    """Stands in for `decode_token` inside flask-jwt-extended's request verification."""

    def __init__(self, decode) -> None:
        self._decode = decode
        self._claims: dict[tuple, tuple[float, dict]] = {}

    def __call__(self, encoded_token, csrf_value=None, allow_expired=False):
        if csrf_value is not None or allow_expired:
            return self._decode(encoded_token, csrf_value, allow_expired)
        app = current_app._get_current_object()
        # The app and its key are part of the key: a token verified for one app (a test's,
        # say) proves nothing to another with a different secret.
        key = (encoded_token, id(app), app.config["JWT_SECRET_KEY"])
        hit = self._claims.get(key)
        # PyJWT accepts a token until exp + leeway: a remembered one is used only before exp.
        if hit is not None and time.time() < hit[0]:
            return dict(hit[1])
        claims = self._decode(encoded_token, csrf_value, allow_expired)
        expires = claims.get("exp")
        if isinstance(expires, (int, float)):
            if len(self._claims) >= MAX_ENTRIES:
                self._claims.clear()
            self._claims[key] = (float(expires), dict(claims))
        return claims


class RememberedHeaders(types.ModuleType):
    """Stands in for the `jwt` module inside flask-jwt-extended: headers decoded once."""

    def __init__(self) -> None:
        super().__init__("jwt")
        self._headers: dict[str, dict] = {}

    def __getattr__(self, name):
        return getattr(pyjwt, name)

    def get_unverified_header(self, jwt):
        header = self._headers.get(jwt)
        if header is None:
            header = pyjwt.get_unverified_header(jwt)
            if len(self._headers) >= MAX_ENTRIES:
                self._headers.clear()
            self._headers[jwt] = header
        return dict(header)


def install() -> None:
    import flask_jwt_extended.tokens
    import flask_jwt_extended.utils
    import flask_jwt_extended.view_decorators as view_decorators

    if not isinstance(view_decorators.decode_token, RememberedDecode):
        view_decorators.decode_token = RememberedDecode(view_decorators.decode_token)
    headers = RememberedHeaders()
    for module in (flask_jwt_extended.tokens, flask_jwt_extended.utils):
        if not isinstance(module.jwt, RememberedHeaders):
            module.jwt = headers
