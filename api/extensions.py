"""Database session, JWT, the flask-smorest Api, and the rate limiter."""
from __future__ import annotations

import contextvars

from flask import Flask, g, request
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_smorest import Api
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session, sessionmaker

# Whether the current transaction intends to write. On SQLite a deferred transaction that
# later tries to write can fail at once with "database is locked" when another writer got
# there first; starting writes with BEGIN IMMEDIATE makes them queue on the busy timeout.
write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=True)


class Database:
    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.session: scoped_session[Session] = scoped_session(sessionmaker(expire_on_commit=False))

    def init_app(self, app: Flask) -> None:
        self.engine = make_engine(app.config["DATABASE_URL"])
        self.session.remove()
        self.session.configure(bind=self.engine)
        app.extensions["database"] = self

        @app.teardown_appcontext
        def remove_session(exc):  # noqa: ARG001
            if self.session.registry.has():
                self.session.remove()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            # The driver's own transaction handling is switched off so that we can say
            # BEGIN IMMEDIATE ourselves (see `write_intent`).
            connect_args={"isolation_level": None, "timeout": 30, "check_same_thread": False},
        )

        @event.listens_for(engine, "connect")
        def sqlite_pragmas(dbapi_connection, connection_record):  # noqa: ARG001
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def sqlite_begin(connection):
            connection.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")

        return engine
    return create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


class ApiWithOneErrorShape(Api):
    """flask-smorest Api whose errors all go through `api.errors` (one shape everywhere)."""

    def handle_http_exception(self, error):
        from .errors import http_error_response

        return http_error_response(error)


def client_address() -> str:
    # ProxyFix (set up from TRUSTED_PROXY_COUNT) has already put the right address here.
    return get_remote_address() or "unknown"


db = Database()
jwt = JWTManager()
limiter = Limiter(key_func=client_address, in_memory_fallback_enabled=True)


def current_lang() -> str:
    """The caller's language (de or en), from Accept-Language, worked out once per request."""
    try:
        lang = g.get("lang")
        if lang is None:
            lang = g.lang = request.accept_languages.best_match(["de", "en"], default="de")
    except RuntimeError:  # outside a request (CLI)
        lang = "de"
    return lang
