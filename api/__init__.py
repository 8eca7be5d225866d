"""Application factory."""
from __future__ import annotations

from flask import Flask, g, request
from flask_cors import CORS
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, UnicodeConverter

from models.users import configure_password_hashing

from .config import load_config
from .errors import register_error_handlers
from .fields import MAX_DB_INT
from .parsing import JSONProvider
from .extensions import ApiWithOneErrorShape, db, write_intent
from .openapi_doc import spec_kwargs
from .security import init_jwt
from .throttle import init_throttle

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class IdConverter(IntegerConverter):
    """Integer ids that fit the database; anything larger is simply not found (404, not 5xx)."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002
        super().__init__(map, *args, max=MAX_DB_INT, **kwargs)


class PathTextConverter(UnicodeConverter):
    """Text path parameters (slugs, codes) without NUL, which PostgreSQL cannot compare: 404."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002
        super().__init__(map, *args, **kwargs)
        self.regex = self.regex.replace("[^/]", "[^/\\x00]")


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(load_config(config))
    app.json = JSONProvider(app)
    app.json.sort_keys = False
    app.url_map.converters["id"] = IdConverter
    app.url_map.converters["default"] = app.url_map.converters["string"] = PathTextConverter
    app.url_map.strict_slashes = False

    if app.config["TRUSTED_PROXY_COUNT"] > 0:
        hops = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0)

    configure_password_hashing(app.config["PASSWORD_HASH_TIME_COST"], app.config["PASSWORD_HASH_MEMORY_COST"])
    db.init_app(app)
    init_jwt(app)
    init_throttle(app)
    if app.config["CORS_ORIGINS"]:
        CORS(app, origins=app.config["CORS_ORIGINS"], expose_headers=["Location", "Retry-After", "X-Request-ID", "ETag"])

    from .request_log import init_request_log

    init_request_log(app)
    _init_request_conventions(app)

    api = ApiWithOneErrorShape(app, spec_kwargs=spec_kwargs())
    register_error_handlers(app)
    _register_blueprints(app, api)

    from console import init_console

    init_console(app)

    from .cli import register_cli

    register_cli(app)
    return app


def _init_request_conventions(app: Flask) -> None:
    @app.before_request
    def conventions():
        # An outer app context (CLI, tests) may outlive one request: never inherit its caller.
        g.current_user = None
        g.lang = None
        view = app.view_functions.get(request.endpoint) if request.endpoint else None
        # A method of a MethodView carries its own marks (api.transactions, api.parsing.accepts).
        handler = getattr(getattr(view, "view_class", None), request.method.lower(), view)
        reading = request.method in READ_METHODS
        if not reading:
            reading = getattr(handler, "autocommit", False)
        write_intent.set(not reading)
        g.without_transaction = db.read_only_request() if reading else False
        # Refused by the access decorators (api.security), after 401/403 as API.md asks.
        g.unsupported_media_type = False
        if request.method in BODY_METHODS and _has_body():
            accepted = getattr(handler, "accepted_media_types", ("application/json",))
            g.unsupported_media_type = request.mimetype not in accepted
            g.accepted_media_types = accepted
            cap = getattr(handler, "max_content_length_setting", None)
            if cap:
                request.max_content_length = app.config[cap]

    @app.after_request
    def language_header(response):
        # The language is worked out lazily (api.extensions.current_lang) by answers that use it.
        lang = g.get("lang")
        if lang is not None:
            response.headers["Content-Language"] = lang
        if "Vary" not in response.headers:
            response.headers["Vary"] = "Accept-Language"
        elif "accept-language" not in response.headers["Vary"].lower():
            response.headers["Vary"] += ", Accept-Language"
        return response


def _has_body() -> bool:
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def _register_blueprints(app: Flask, api: ApiWithOneErrorShape) -> None:
    from .auth.routes import blp as auth_blp
    from .budgets.routes import blp as budgets_blp
    from .devices.routes import blp as devices_blp
    from .inbox.routes import blp as inbox_blp
    from .ideas.routes import blp as ideas_blp
    from .moderation.routes import blp as moderation_blp
    from .news.routes import blp as news_blp
    from .docs import docs_assets
    from .health import health
    from .reference.routes import blp as reference_blp
    from .reports.routes import blp as reports_blp
    from .stats.routes import blp as stats_blp

    from .open311.routes import blp as open311_blp

    app.register_blueprint(health)
    app.register_blueprint(docs_assets)
    # GeoReport v2 has its own specification and error shape: outside the /api/v1 spec.
    app.register_blueprint(open311_blp)
    for blueprint in (auth_blp, reference_blp, ideas_blp, moderation_blp, budgets_blp, devices_blp, inbox_blp, news_blp, reports_blp, stats_blp):
        api.register_blueprint(blueprint, url_prefix=f"/api/v1{blueprint.url_prefix or ''}")
