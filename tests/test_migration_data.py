"""Migrations that move data keep it: run from the revision before to the one after, on a database of its own."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text

from api.migrate import alembic_config, upgrade


@pytest.fixture
def empty_database(tmp_path):
    server_url = os.environ.get("TEST_DATABASE_URL", "")
    if server_url.startswith("postgres"):
        import secrets

        admin = create_engine(server_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
        name = f"dortmund_migrate_{secrets.token_hex(4)}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine = create_engine(admin.url.set(database=name))
        yield engine
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        engine = create_engine(f"sqlite:///{tmp_path / 'migrate.db'}")
        yield engine
        engine.dispose()


def test_idempotency_answers_move_to_their_owner_and_back(empty_database):
    from alembic import command

    engine = empty_database
    upgrade(engine, "0011")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO users (id, email, display_name, created_at, updated_at, revision)"
                          " VALUES (7, 'a@example.org', 'Anna', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0)"))
        conn.execute(text("INSERT INTO idempotency_records (user_id, key, request_fingerprint, created_at, response_status, response_body)"
                          " VALUES (7, 'k1', :f, CURRENT_TIMESTAMP, 201, '{\"id\": 3}')"), {"f": "a" * 64})
    upgrade(engine, "0012")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT owner, user_id, key, response_status, response_body FROM idempotency_records")).all() == [
            ("user:7", 7, "k1", 201, '{"id": 3}')
        ]
    config = alembic_config(str(engine.url.render_as_string(hide_password=False)))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0011")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT user_id, key, response_status FROM idempotency_records")).all() == [(7, "k1", 201)]
