from __future__ import annotations

import os
import re
import subprocess
import sys


def test_users_create_and_promote(app, clean_app):
    runner = clean_app.test_cli_runner()
    r = runner.invoke(args=["users", "create", "--email", "Zoe@Example.org", "--password", "zoe's password", "--role", "staff"])
    assert r.exit_code == 0, r.output
    assert re.fullmatch(r"user \d+ Zoe@Example.org roles=resident,staff\n", r.output)
    r = runner.invoke(args=["users", "create", "--email", "zoe@example.org", "--password", "other", "--role", "moderator"])
    assert r.exit_code == 0
    assert r.output.strip().endswith("roles=resident,moderator,staff")
    client = clean_app.test_client()
    # The password was not touched by adding a role.
    assert client.post("/api/v1/auth/login", json={"email": "zoe@example.org", "password": "zoe's password"}).status_code == 200


def test_users_create_bad_input_exits_2(clean_app):
    runner = clean_app.test_cli_runner()
    assert runner.invoke(args=["users", "create", "--email", "nope", "--password", "long enough pw", "--role", "staff"]).exit_code == 2
    assert runner.invoke(args=["users", "create", "--email", "a@example.org", "--password", "short", "--role", "staff"]).exit_code == 2
    assert runner.invoke(args=["users", "create", "--email", "a@example.org", "--password", "long enough pw", "--role", "king"]).exit_code == 2


def test_demo_seed_refused_in_production(clean_app, monkeypatch):
    runner = clean_app.test_cli_runner()
    monkeypatch.setitem(clean_app.config, "APP_ENV", "production")
    r = runner.invoke(args=["demo", "seed"])
    assert r.exit_code == 2


def test_demo_seed_creates_accounts_for_each_role(clean_app):
    runner = clean_app.test_cli_runner()
    r = runner.invoke(args=["demo", "seed"])
    assert r.exit_code == 0, r.output
    for role in ("resident", "moderator", "staff", "admin"):
        assert role in r.output
    again = runner.invoke(args=["demo", "seed", "--if-empty"])
    assert "nothing to do" in again.output


def _pabulib_file(name: str):
    from tests.conftest import SHARED_DATA

    path = SHARED_DATA / "pabulib" / name
    if not path.exists():
        import pytest

        pytest.skip(f"{path} not found: the shared Pabulib data sits beside the repository (../shared/data)")
    return path


def _tally(path) -> subprocess.CompletedProcess:
    """`flask budgets tally FILE` in a process of its own, as cron or a person would run it."""
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "budgets", "tally", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DATABASE_URL": "sqlite://"},
    )


def test_budgets_tally_prints_the_published_selection_of_assen(clean_app):
    from voting.pabulib import read_pabulib

    path = _pabulib_file("Netherlands_Assen_2024.pb")
    published = read_pabulib(path).published_selection()
    # A process of its own: the command must print the ids and nothing else on stdout.
    run = _tally(path)
    assert run.returncode == 0, run.stderr
    assert sorted(run.stdout.split()) == sorted(published)


def test_budgets_tally_refuses_ordinal_files(clean_app):
    path = _pabulib_file("Poland_Krakow_2018_Debniki.pb")
    run = _tally(path)
    assert run.returncode == 2 and run.stdout == "" and run.stderr


def test_db_purge_forgets_expired_idempotency_answers(clean_app, make_user, session):
    from datetime import timedelta

    from models.base import utcnow
    from models.idempotency import IdempotencyRecord

    user = make_user()
    session.add_all(
        [
            IdempotencyRecord(owner=f"user:{user.id}", user_id=user.id, key="old", request_fingerprint="a" * 64, created_at=utcnow() - timedelta(hours=25)),
            IdempotencyRecord(owner=f"user:{user.id}", user_id=user.id, key="new", request_fingerprint="b" * 64, created_at=utcnow()),
        ]
    )
    session.commit()
    result = clean_app.test_cli_runner().invoke(args=["db", "purge"])
    assert result.exit_code == 0 and "purged 1" in result.output
    session.expire_all()
    assert [r.key for r in session.query(IdempotencyRecord).all()] == ["new"]
