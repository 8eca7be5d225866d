"""Database session, JWT, the flask-smorest Api, and who the client is."""
from __future__ import annotations

import contextvars
import fcntl
import os
import threading
import time
import weakref

from flask import Flask, g, request
from flask_jwt_extended import JWTManager
from flask_smorest import Api
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from .openapi_doc import ErrorSchema

# Whether the current transaction intends to write. On SQLite a deferred transaction that
# later tries to write can fail at once with "database is locked" when another writer got
# there first; starting writes with BEGIN IMMEDIATE makes them queue on the busy timeout.
write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=True)


class _KeptSession:
    """The session a thread keeps between its transactionless requests."""

    def __init__(self) -> None:
        self.session: Session | None = None
        self.since = 0.0

    def close(self) -> None:
        session, self.session = self.session, None
        if session is not None:
            session.close()


class Database:
    # A thread's transactionless session stays open between requests this long at most, so
    # that its connection is renewed now and then (as `pool_recycle` would on checkout).
    KEPT_SESSION_SECONDS = 600

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.read_engine: Engine | None = None
        # PostgreSQL only: reads whose plans must not be remade on every run (see make_engine).
        self.generic_plan_engine: Engine | None = None
        self.session: scoped_session[Session] = scoped_session(sessionmaker(expire_on_commit=False))
        self._threads = threading.local()

    def init_app(self, app: Flask) -> None:
        self.engine = make_engine(app.config["DATABASE_URL"])
        # A read-only request needs no transaction: without BEGIN and ROLLBACK it makes two
        # round trips fewer. (SQLite reads skip BEGIN in `make_engine`; switching its
        # isolation level per request would cost more than it saves.)
        self.read_engine = (
            self.engine.execution_options(isolation_level="AUTOCOMMIT") if self.engine.dialect.name == "postgresql" else None
        )
        if self.generic_plan_engine is not None:
            self.generic_plan_engine.dispose()
        self.generic_plan_engine = (
            make_engine(app.config["DATABASE_URL"], generic_plans=True).execution_options(isolation_level="AUTOCOMMIT")
            if self.engine.dialect.name == "postgresql" else None
        )
        self._kept().close()
        self._kept("generic").close()
        self.session.remove()
        self.session.configure(bind=self.engine)
        app.extensions["database"] = self

        engines = [e for e in (self.engine, self.generic_plan_engine) if e is not None]

        def remember_failure(context):
            # The thread's kept sessions are not reused after any database error.
            if g:
                g.database_failed = True
            if context.is_disconnect:
                # The server went away under both pools: the one that noticed is replaced by
                # SQLAlchemy, the other is replaced here, so a restart costs one 503, not two.
                for engine in engines:
                    if engine is not context.engine:
                        engine.dispose(close=False)

        for engine in engines:
            event.listen(engine, "handle_error", remember_failure)

        @app.teardown_appcontext
        def remove_session(exc):
            if not self.session.registry.has():
                return
            kept = self._kept()
            if kept.session is not None and self.session() is kept.session:
                self.session.registry.clear()
                self._end_kept("kept", exc)
            else:
                self.session.remove()
            # After a failure (a lost server takes both connections) both are renewed together.
            self._end_kept("generic", exc)

    def _kept(self, name: str = "kept") -> _KeptSession:
        kept = getattr(self._threads, name, None)
        if kept is None:
            kept = _KeptSession()
            setattr(self._threads, name, kept)
            # A thread that ends gives its connection back to the pool.
            weakref.finalize(threading.current_thread(), kept.close)
        return kept

    def _kept_session(self, name: str, engine: Engine) -> Session:
        """The thread's kept session of that name, renewed now and then (KEPT_SESSION_SECONDS)."""
        kept = self._kept(name)
        now = time.monotonic()
        if kept.session is not None and now - kept.since > self.KEPT_SESSION_SECONDS:
            kept.close()
        if kept.session is None:
            kept.session = Session(bind=engine, expire_on_commit=False)
            kept.since = now
        return kept.session

    def _end_kept(self, name: str, exc) -> None:
        kept = getattr(self._threads, name, None)
        if kept is None or kept.session is None:
            return
        if exc is None and not g.get("database_failed"):
            # No transaction to end: only forget what this request loaded.
            kept.session.expunge_all()
        else:
            kept.close()

    def generic_plan_session(self) -> Session | None:
        """PostgreSQL: a session on connections that always use generic plans (None elsewhere).

        For read statements whose plan takes longer to make than to run and does not depend
        on their values (the map's merge of per-cell walks, the whole city). Statements whose
        best plan does depend on the values (a large box: read it all by id) stay on the
        request's own session, where PostgreSQL plans each run for its values.
        """
        if self.generic_plan_engine is None:
            return None
        return self._kept_session("generic", self.generic_plan_engine)

    def read_only_request(self) -> bool:
        """Serve this request's queries without a transaction where the database allows it.

        True when they will run so: each statement then commits by itself. The thread keeps
        that session, and with it its connection, for the next such request: checking a
        connection out of the pool and back in cost more than a whole cached list page.
        (False when a session was already open in this thread, as in tests that arrange
        data directly.)
        """
        if self.session.registry.has():
            return False
        # SQLite: reads emit no BEGIN (write_intent is off), see `make_engine`.
        self.session.registry.set(self._kept_session("kept", self.read_engine or self.engine))
        return True


def make_engine(url: str, generic_plans: bool = False) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            # The driver's own transaction handling is switched off so that we can say
            # BEGIN IMMEDIATE ourselves (see `write_intent`).
            connect_args={"isolation_level": None, "timeout": 30, "check_same_thread": False},
        )

        writers = WriterLock(url)

        @event.listens_for(engine, "connect")
        def sqlite_pragmas(dbapi_connection, connection_record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
            # A write statement run outside a transaction (models.prepared.PreparedWrite)
            # queues for the same lock.
            connection_record.info["writers"] = writers

        @event.listens_for(engine, "begin")
        def sqlite_begin(connection):
            # Reads run without a transaction of their own (each statement is one); writes
            # queue for the writer lock and then take SQLite's write lock at once.
            if write_intent.get():
                writers.acquire(connection)
                connection.exec_driver_sql("BEGIN IMMEDIATE")

        @event.listens_for(engine, "commit")
        @event.listens_for(engine, "rollback")
        def sqlite_end(connection):
            writers.release(connection.info)

        @event.listens_for(engine, "checkin")
        def sqlite_checkin(dbapi_connection, connection_record):  # noqa: ARG001
            # Belt and braces: a connection never goes back to the pool holding the lock.
            writers.release(connection_record.info)

        return engine
    # No pre-ping: it costs a round trip per request (measured: a tenth of an idea-list page
    # on PostgreSQL). A connection that died with the server fails one request with 503
    # (api.errors), and SQLAlchemy then replaces the whole pool.
    #
    # `generic_plans`: connections whose prepared statements (psycopg prepares a statement
    # after its fifth run) always keep one generic plan. Left to itself PostgreSQL re-plans
    # every run of a statement whose custom plans look cheaper than the generic one, which
    # the map's merge of per-cell walks always does (its plan takes longer to make than to
    # run): the 1 km² map page on 1,000,000 reports, in-process, 619 -> 415 µs per request.
    # Only such statements run there (Database.generic_plan_session): forced on every
    # connection, the generic plan of the whole-city page became a parallel sequential scan
    # (486 ms instead of 0.5 ms), since a generic plan cannot know the box holds everything.
    if generic_plans:
        return create_engine(url, pool_size=2, max_overflow=8, pool_recycle=1800,
                             connect_args={"options": "-c plan_cache_mode=force_generic_plan"})
    return create_engine(url, pool_size=10, max_overflow=10, pool_recycle=1800)


class WriterLock:
    """One SQLite writer at a time across worker processes, queued in the kernel.

    SQLite's own busy handler makes a waiting writer sleep in growing steps (up to 100 ms)
    and poll; under load that turns a 1 ms write into a p99 of hundreds of milliseconds.
    An advisory lock on a file beside the database lets the next writer in the moment the
    previous one commits. In-memory databases need no lock.
    """

    def __init__(self, url: str):
        database = url.split("///", 1)[1] if "///" in url else ""
        self.path = f"{database}.writer-lock" if database and database != ":memory:" else None
        # flock() excludes open files, not processes: each thread of each process needs its
        # own open file (a handle inherited through fork would be shared, so it is reopened).
        self._handles = threading.local()

    def _handle(self):
        handle = getattr(self._handles, "handle", None)
        if handle is None or self._handles.pid != os.getpid():
            handle = self._handles.handle = open(self.path, "a+")  # noqa: SIM115 - kept for the thread's life
            self._handles.pid = os.getpid()
        return handle

    def acquire(self, connection) -> None:
        if self.path is None or connection.info.get("writer_lock") is not None:
            return
        handle = self._handle()
        fcntl.flock(handle, fcntl.LOCK_EX)
        connection.info["writer_lock"] = handle

    def release(self, info: dict) -> None:
        handle = info.pop("writer_lock", None)
        if handle is not None:
            fcntl.flock(handle, fcntl.LOCK_UN)

    def run_alone(self, connection, statement):
        """`statement()` holding the lock, unless the connection's transaction holds it already."""
        if connection.info.get("writer_lock") is not None:
            return statement()
        self.acquire(connection)
        try:
            return statement()
        finally:
            self.release(connection.info)


class ApiWithOneErrorShape(Api):
    """flask-smorest Api whose errors all go through `api.errors` (one shape everywhere)."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        from .errors import http_error_response

        return http_error_response(error)


def client_address() -> str:
    # ProxyFix (set up from TRUSTED_PROXY_COUNT) has already put the right address here.
    return request.remote_addr or "unknown"


db = Database()
jwt = JWTManager()


def current_lang() -> str:
    """The caller's language (de or en), from Accept-Language, worked out once per request."""
    try:
        lang = g.get("lang")
        if lang is None:
            lang = g.lang = request.accept_languages.best_match(["de", "en"], default="de")
    except RuntimeError:  # outside a request (CLI)
        lang = "de"
    return lang
