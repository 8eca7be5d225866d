"""Test fixtures: one app per run, on SQLite (default) or PostgreSQL (TEST_DATABASE_URL).

For PostgreSQL, TEST_DATABASE_URL names the server (`postgresql://postgres@127.0.0.1:5432/test`);
each run creates a fresh database of its own there and drops it at the end.
"""
from __future__ import annotations

import os
import secrets
import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from api import create_app
from api.extensions import db as database
from models import Base
from models.reference import sync_reference_data
import models.all  # noqa: F401

pytest_plugins = ["tests.spec_coverage"]

REFERENCE_TABLES = {"districts", "categories", "bodies", "departments"}
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _fresh_postgres_database(server_url: str) -> tuple[str, callable]:
    admin_url = server_url.replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"dortmund_test_{secrets.token_hex(4)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base, _, _ = admin_url.rpartition("/")
    url = f"{base}/{name}"

    def drop():
        database.engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    server_url = os.environ.get("TEST_DATABASE_URL", "")
    drop = None
    if server_url.startswith("postgres"):
        url, drop = _fresh_postgres_database(server_url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    app = create_app(
        {
            "APP_ENV": "test",
            "DATABASE_URL": url,
            "TESTING": True,
            "REQUEST_LOG": False,
            "PASSWORD_HASH_TIME_COST": 1,
            "PASSWORD_HASH_MEMORY_COST": 1024,
            "THROTTLE_STORAGE_URI": "memory://",
            "REGISTER_LIMIT_PER_ADDRESS": "1000 per hour",
            "PUSH_BACKEND": "memory",
            # Statistics computed on every request, so that tests see each write at once.
            "STATS_CACHE_SECONDS": 0,
            "MEDIA_DIR": str(tmp_path_factory.mktemp("media")),
        }
    )
    from api.migrate import upgrade

    with app.app_context():
        upgrade(database.engine)
        sync_reference_data(database.session)
        database.session.remove()
    yield app
    if drop is not None:
        drop()


def _wipe(app) -> None:
    with app.app_context():
        session = database.session
        session.rollback()
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in REFERENCE_TABLES:
                session.execute(table.delete())
        session.commit()
        database.session.remove()


@pytest.fixture
def clean_app(app):
    _wipe(app)
    app.extensions["throttle"].reset()
    yield app
    database.session.remove()


@pytest.fixture
def live_server(clean_app):
    """The test app served over real HTTP on 127.0.0.1 by werkzeug in a thread (an outside client's
    view: Open311 clients, the console's browser tests); yields the base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, clean_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def client(clean_app):
    return clean_app.test_client()


@pytest.fixture
def session(clean_app):
    """A session for arranging data and checking results directly in the database."""
    with clean_app.app_context():
        yield database.session


@pytest.fixture
def make_user(clean_app):
    from models.users import grant_role, register

    counter = {"n": 0}

    def make(*roles: str, email: str | None = None, password: str = "correct horse battery", name: str | None = None):
        counter["n"] += 1
        with clean_app.app_context():
            user = register(database.session, email or f"user{counter['n']}@example.org", password, name or f"User {counter['n']}")
            for role in roles:
                grant_role(database.session, user, role)
            database.session.commit()
            user_id = user.id
            database.session.remove()
        return UserHandle(clean_app, user_id, email or f"user{counter['n']}@example.org", password)

    return make


class UserHandle:
    """A test user with a ready access token."""

    def __init__(self, app, user_id: int, email: str, password: str):
        self.id = user_id
        self.email = email
        self.password = password
        with app.app_context():
            from flask_jwt_extended import create_access_token, create_refresh_token

            from models.users import User, open_session

            user = database.session.get(User, user_id)
            auth_session = open_session(database.session, user)
            database.session.commit()
            claims = {"sid": auth_session.id}
            self.access_token = create_access_token(identity=str(user_id), additional_claims=claims)
            self.refresh_token = create_refresh_token(identity=str(user_id), additional_claims=claims)
            database.session.remove()

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.access_token}"}


def run_in_parallel(n: int, func) -> list:
    """Run `func(i)` in n threads that start at the same moment; return their results."""
    barrier = threading.Barrier(n)
    results: list = [None] * n
    errors: list = []

    def worker(i):
        try:
            barrier.wait()
            results[i] = func(i)
        except Exception as exc:  # pragma: no cover - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def pytest_report_header(config):
    url = os.environ.get("TEST_DATABASE_URL", "")
    return f"database: {'PostgreSQL (fresh database at ' + url + ')' if url.startswith('postgres') else 'SQLite'}"


@pytest.fixture
def flow(client, make_user):
    """Submit and approve ideas and comments through the HTTP API."""
    from tests.idea_flow import IdeaFlow

    return IdeaFlow(client, make_user)
