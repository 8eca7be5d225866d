"""The staff console: server-rendered pages for moderators and city staff under /console/.

HTTP like `api/`, on the same domain operations (models/): every rule lives there once. Pages
are Jinja2 templates, enhanced by a vendored htmx where it saves a reload; every asset is
served by the app (no CDN), and every answer carries a strict Content-Security-Policy (no
inline script or style anywhere, htmx configured to inject none).

Login is a cookie session (HttpOnly, SameSite=Lax, Secure outside development and tests,
path /console) naming one of the same login sessions the API's tokens name, so logging out,
a block or a lost role ends it on every worker at once. Forms carry a CSRF token (Flask-WTF).
"""
from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import Flask, request
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PREFIX = "/console"


def init_console(app: Flask) -> None:
    config = app.config
    if not app.secret_key:
        # The cookie signing key is derived from the JWT secret (required in production), so
        # one secret is configured, and the two are never the same bytes.
        app.secret_key = hashlib.sha256(b"console-session:" + config["JWT_SECRET_KEY"].encode()).hexdigest()
    config["SESSION_COOKIE_NAME"] = "console_session"
    config["SESSION_COOKIE_PATH"] = PREFIX
    config["SESSION_COOKIE_HTTPONLY"] = True
    config["SESSION_COOKIE_SAMESITE"] = "Lax"
    config["SESSION_COOKIE_SECURE"] = config["APP_ENV"] == "production"
    config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=config["CONSOLE_SESSION_MINUTES"])
    # The API's bodies are JSON with bearer tokens: only the console's forms are checked.
    config["WTF_CSRF_CHECK_DEFAULT"] = False
    config["WTF_CSRF_TIME_LIMIT"] = None  # the session's own lifetime bounds the token
    csrf.init_app(app)

    from .views import blp

    app.register_blueprint(blp)

    @app.after_request
    def console_headers(response):
        if request.path.startswith(PREFIX):
            response.headers["Content-Security-Policy"] = CSP
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["Referrer-Policy"] = "same-origin"
            if not request.path.startswith(f"{PREFIX}/static/"):
                response.headers["Cache-Control"] = "no-store"
        return response
