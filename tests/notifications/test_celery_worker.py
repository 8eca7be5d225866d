"""A real Celery worker on the Redis at 127.0.0.1 delivers through the same drain."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
BROKER = "redis://127.0.0.1:6379/13"


def _redis_or_skip():
    import redis

    try:
        client = redis.Redis.from_url(BROKER, socket_connect_timeout=1)
        client.ping()
    except redis.RedisError:
        pytest.skip("Redis is not running at 127.0.0.1:6379")
    client.flushdb()
    return client


@pytest.mark.slow
def test_a_celery_worker_delivers_a_followers_push(client, app, make_user, flow, tmp_path):
    broker = _redis_or_skip()
    author = make_user()
    idea = flow.published(author)
    follower = make_user()
    client.put(f"/api/v1/ideas/{idea['id']}/follow", headers=follower.headers)
    r = client.post("/api/v1/devices", json={"token": "celery-token", "platform": "android", "locale": "de"}, headers=follower.headers)
    assert r.status_code == 201
    r = client.post(f"/api/v1/ideas/{idea['id']}/response", json={"status": "under_review", "body": "Wir prüfen."}, headers=flow.staff.headers)
    assert r.status_code == 200
    from api.extensions import db

    db.session.commit()
    push_log = tmp_path / "push.log"
    env = {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": app.config["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://"),
        "REDIS_URL": BROKER,
        "CELERY_BROKER_URL": BROKER,
        "CELERY_DRAIN_SECONDS": "0.5",
        "PUSH_BACKEND": "log",
        "PUSH_LOG_FILE": str(push_log),
        "MAIL_BACKEND": "log",
        "MAIL_LOG_FILE": str(tmp_path / "mail.log"),
        "REQUEST_LOG": "0",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "notifications.tasks", "worker", "--beat", "--pool=solo",
         "--loglevel=info", f"--schedule={tmp_path / 'beat-schedule'}", "--without-mingle", "--without-gossip"],
        cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        lines = []
        while time.monotonic() < deadline:
            if push_log.exists():
                lines = [json.loads(line) for line in push_log.read_text().splitlines() if line.strip()]
                if any(line.get("token") == "celery-token" for line in lines):
                    break
            if worker.poll() is not None:
                break
            time.sleep(0.3)
    finally:
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
        broker.flushdb()
    mine = [line for line in lines if line.get("token") == "celery-token"]
    assert mine, output[-3000:]
    assert mine[0]["title"] == idea["title"] and mine[0]["data"]["type"] in ("idea_response", "moderation_decision")
    assert {line["data"]["type"] for line in mine} >= {"idea_response"}
    # Each message once, however many passes ran.
    assert len({line["data"]["notification_id"] for line in mine}) == len(mine)
