"""Settings that change how the app sits behind a proxy or next to Redis.

Each case builds its own app in a separate process: the extensions are process-wide, and
the suite's app must not be reconfigured under the other tests' feet.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

SCRIPT_HEAD = """
import json, os, sys
from api import create_app
from api.extensions import db
from api.migrate import upgrade
from models.reference import sync_reference_data
from models.users import register

app = create_app({"APP_ENV": "test", "PASSWORD_HASH_TIME_COST": 1, "PASSWORD_HASH_MEMORY_COST": 1024, "REQUEST_LOG": False})
with app.app_context():
    upgrade(db.engine)
    sync_reference_data(db.session)
    register(db.session, "pat@example.org", "pat's long password", "Pat")
    db.session.commit()
client = app.test_client()
out = {}
"""


def run_app_script(tmp_path, body: str, database: str = "app.db", **env) -> dict:
    script = SCRIPT_HEAD + textwrap.dedent(body) + "\nprint(json.dumps(out))\n"
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / database}", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_client_address_comes_from_trusted_proxies_only(tmp_path):
    out = run_app_script(
        tmp_path,
        """
        def attempt(forwarded, remote="10.0.0.1"):
            return client.post(
                "/api/v1/auth/login",
                json={"email": "nobody@example.org", "password": "x"},
                headers={"X-Forwarded-For": forwarded},
                environ_base={"REMOTE_ADDR": remote},
            ).status_code
        # The load balancer appends the real client; with one trusted proxy that is it.
        out["first_client"] = [attempt("203.0.113.5") for _ in range(3)]
        out["same_client_spoofing"] = attempt("1.1.1.1, 203.0.113.5")
        out["other_client"] = attempt("203.0.113.6")
        """,
        TRUSTED_PROXY_COUNT="1",
        LOGIN_LIMIT_PER_ADDRESS="3 per hour",
        LOGIN_LIMIT_PER_ACCOUNT="100 per hour",
    )
    assert out["first_client"] == [401, 401, 401]
    # A forged left-most entry does not give the same client a fresh budget.
    assert out["same_client_spoofing"] == 429
    assert out["other_client"] == 401


def test_rate_limits_survive_an_unreachable_redis(tmp_path):
    out = run_app_script(
        tmp_path,
        """
        codes = [client.post("/api/v1/auth/login", json={"email": "pat@example.org", "password": "wrong"}).status_code for _ in range(4)]
        out["codes"] = codes
        out["ok_route"] = client.get("/api/v1/districts").status_code
        """,
        REDIS_URL="redis://127.0.0.1:1/0",
        LOGIN_LIMIT_PER_ACCOUNT="3 per hour",
    )
    # Never a 500: the limiter falls back to memory and still limits.
    assert out["codes"] == [401, 401, 401, 429]
    assert out["ok_route"] == 200


def test_rate_limits_use_redis_when_configured(tmp_path):
    import redis

    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/15", socket_connect_timeout=1).ping()
    except redis.RedisError:
        import pytest

        pytest.skip("Redis is not running at 127.0.0.1:6379")
    redis.Redis.from_url("redis://127.0.0.1:6379/15").flushdb()
    body = """
        out["codes"] = [client.post("/api/v1/auth/login", json={"email": "pat@example.org", "password": "wrong"}).status_code for _ in range(2)]
        """
    first = run_app_script(tmp_path, body, REDIS_URL="redis://127.0.0.1:6379/15", LOGIN_LIMIT_PER_ACCOUNT="3 per hour")
    # A second process (another worker) shares the counts through Redis.
    second = run_app_script(tmp_path, body, "other.db", REDIS_URL="redis://127.0.0.1:6379/15", LOGIN_LIMIT_PER_ACCOUNT="3 per hour")
    redis.Redis.from_url("redis://127.0.0.1:6379/15").flushdb()
    assert first["codes"] == [401, 401]
    assert second["codes"] == [401, 429]


def test_cors_allows_only_configured_origins(tmp_path):
    out = run_app_script(
        tmp_path,
        """
        allowed = client.get("/api/v1/districts", headers={"Origin": "https://app.dortmund.de"})
        other = client.get("/api/v1/districts", headers={"Origin": "https://evil.example"})
        out["allowed"] = allowed.headers.get("Access-Control-Allow-Origin")
        out["other"] = other.headers.get("Access-Control-Allow-Origin")
        """,
        CORS_ORIGINS="https://app.dortmund.de",
    )
    assert out == {"allowed": "https://app.dortmund.de", "other": None}
