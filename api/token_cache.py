"""Remember verified tokens for their lifetime, so a busy caller's token is checked once.

flask-jwt-extended decodes every bearer token three times per request through PyJWT, whose
pure-Python base64 checks made that the largest single cost of an authenticated read
(measured: about 0.5 ms of a 1.2 ms moderation-queue answer). Verification of an HS256 token
with a given key is a pure function of the token until it expires, so its result is kept
per worker and used while the token is still unexpired; anything else goes to PyJWT as
before, with the same errors. Revocation is not cached: the login session is looked up on
every request (api.security).
"""
from __future__ import annotations

import time
import types

import jwt as pyjwt

MAX_ENTRIES = 20_000


class VerifiedTokens(types.ModuleType):
    """Stands in for the `jwt` module inside flask-jwt-extended."""

    def __init__(self) -> None:
        super().__init__("jwt")
        self._claims: dict[tuple, tuple[float, dict]] = {}
        self._headers: dict[str, dict] = {}

    def __getattr__(self, name):
        return getattr(pyjwt, name)

    def decode(self, jwt, key="", algorithms=None, options=None, audience=None, issuer=None, leeway=0, **kwargs):
        options = options or {}
        cache_key = (jwt, key, tuple(algorithms or ()), tuple(sorted(options.items())), audience, issuer, leeway)
        hit = self._claims.get(cache_key)
        # PyJWT rejects a token when exp <= now - leeway: use a remembered result only before that.
        if hit is not None and time.time() - leeway < hit[0]:
            return dict(hit[1])
        claims = pyjwt.decode(jwt, key, algorithms=algorithms, options=options, audience=audience, issuer=issuer, leeway=leeway, **kwargs)
        expires = claims.get("exp")
        if isinstance(expires, (int, float)) and options.get("verify_exp", True) is not False:
            if len(self._claims) >= MAX_ENTRIES:
                self._claims.clear()
            self._claims[cache_key] = (float(expires), dict(claims))
        return claims

    def get_unverified_header(self, jwt):
        header = self._headers.get(jwt)
        if header is None:
            header = pyjwt.get_unverified_header(jwt)
            if len(self._headers) >= MAX_ENTRIES:
                self._headers.clear()
            self._headers[jwt] = header
        return dict(header)


def install() -> None:
    import flask_jwt_extended.jwt_manager
    import flask_jwt_extended.tokens
    import flask_jwt_extended.utils

    shim = VerifiedTokens()
    for module in (flask_jwt_extended.jwt_manager, flask_jwt_extended.tokens, flask_jwt_extended.utils):
        if not isinstance(module.jwt, VerifiedTokens):
            module.jwt = shim
