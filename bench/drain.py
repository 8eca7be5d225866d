"""Drain benchmark: N notification events with 10 recipients each, delivered by two parallel
`flask notifications drain` processes through the `log` gateway; every push counted.

    .venv/bin/python bench/drain.py                        # 100,000 events, SQLite
    .venv/bin/python bench/drain.py --database postgres    # the same on PostgreSQL
    .venv/bin/python bench/drain.py --events 10000         # smaller

Each recipient has one phone, so every event means 10 inbox items and 10 pushes. Both drains
start at once on the same database; afterwards the two push logs are merged and every
(token, notification) pair must appear exactly once. Figures go to bench/NOTIFICATIONS.md
(rendered into bench/RESULTS.md by `bench/run.py`).
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RECIPIENTS = 10
USERS = 1000


def setup(env: dict, events: int) -> None:
    code = f"""
import random
from sqlalchemy import insert
from api import create_app
from api.extensions import db
from models import ideas, moderation
from models.ideas import IdeaPolicy
from models.notifications import Device, token_digest
from models.outbox import NotificationEvent
from models.users import User, create_or_promote
from models.base import utcnow

app = create_app()
with app.app_context():
    s = db.session
    author, _ = create_or_promote(s, "drain-author@example.org", "bench-password-1234", "resident")
    moderator, _ = create_or_promote(s, "drain-moderator@example.org", "bench-password-1234", "moderator")
    made = []
    for i in range(20):
        idea = ideas.submit_idea(s, author, IdeaPolicy(), title=f"Idee Nummer {{i}} für die Stadt",
                                 body="Ein Vorschlag für den Stadtbezirk, der vielen hilft.", category="mobility", district="hoerde")
        moderation.decide(s, moderator, "idea", idea.id, "approve", "ok", None)
        made.append(idea.id)
    s.commit()
    first = 10_000
    s.execute(insert(User), [{{"id": first + i, "email": f"r{{i}}@drain.example", "email_key": f"r{{i}}@drain.example",
                               "display_name": f"R {{i}}", "revision": 0}} for i in range({USERS})])
    s.execute(insert(Device), [{{"user_id": first + i, "token": f"drain-token-{{i}}", "token_digest": token_digest(f"drain-token-{{i}}"),
                                 "platform": "android", "locale": "de" if i % 3 else "en", "topics": [], "topics_due": False}}
                               for i in range({USERS})])
    s.commit()
    rng = random.Random(7)
    now = utcnow()
    batch = []
    for n in range({events}):
        idea_id = made[n % len(made)]
        batch.append({{"type": "idea_response", "object_type": "idea", "object_id": idea_id, "title": f"Idee Nummer {{n % 20}}",
                       "audience": {{"kind": "users", "ids": sorted(rng.sample(range(first, first + {USERS}), {RECIPIENTS}))}},
                       "exclude": [], "data": {{"idea_id": str(idea_id), "status": "under_review"}},
                       "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now}})
        if len(batch) == 5000:
            s.execute(insert(NotificationEvent), batch)
            batch = []
    if batch:
        s.execute(insert(NotificationEvent), batch)
    s.commit()
"""
    subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, check=True, timeout=3600)


def render(rows: dict) -> str:
    """bench/NOTIFICATIONS.md from bench/NOTIFICATIONS.json: the latest run per database."""
    out = [
        "## Notification drain: two drains at once (`bench/drain.py`)",
        "",
        f"N events × {RECIPIENTS} recipients with one phone each, expanded and delivered by two "
        "`flask --app wsgi notifications drain` processes started together (log gateway); the push logs "
        "are merged and every (token, notification) pair counted.",
        "",
        "| database | events | pushes expected | delivered | by drain 1 / drain 2 | sent twice | missing | seconds | pushes/s | result | measured | command |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---|---|---|",
    ]
    for r in rows.values():
        out.append(
            f"| {r['database']} | {r['events']:,} | {r['expected']:,} | {r['delivered']:,} | {r['per_drain'][0]:,} / {r['per_drain'][1]:,} | "
            f"{r['twice']} | {r['missing']:,} | {r['seconds']} | {r['rate']:,} | {'pass' if r['ok'] else '**FAIL**'} | "
            f"{r['measured']} ({r['cpus']} CPUs) | `{r['command']}` |"
        )
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--output", type=Path, default=BENCH / "NOTIFICATIONS.md")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-drain-"))
    drop = None
    if args.database == "sqlite":
        url = f"sqlite:///{work / 'drain.db'}"
    else:
        import psycopg

        name = f"bench_drain_{secrets.token_hex(4)}"
        with psycopg.connect(args.pg_server, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = args.pg_server.rsplit("/", 1)[0] + f"/{name}"

        def drop():
            with psycopg.connect(args.pg_server, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": url, "REQUEST_LOG": "0", "MAIL_BACKEND": "log",
           "MAIL_LOG_FILE": str(work / "mail.log"), "PUSH_BACKEND": "log", "PYTHONPATH": str(REPO)}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    try:
        subprocess.run([*flask, "db", "upgrade"], env=env, cwd=REPO, check=True, capture_output=True, timeout=600)
        started = time.monotonic()
        setup(env, args.events)
        print(f"setup: {args.events:,} events in {time.monotonic() - started:.0f} s", flush=True)
        logs = [work / f"push-{i}.log" for i in range(2)]
        started = time.monotonic()
        drains = [
            subprocess.Popen([*flask, "notifications", "drain"], env={**env, "PUSH_LOG_FILE": str(log)}, cwd=REPO,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for log in logs
        ]
        outputs = [d.communicate(timeout=7200)[0] for d in drains]
        seconds = time.monotonic() - started
        if any(d.returncode for d in drains):
            print("\n".join(outputs))
            return 1
        per_drain, pairs = [], Counter()
        for log in logs:
            lines = 0
            with log.open() as f:
                for line in f:
                    message = json.loads(line)
                    pairs[(message["token"], message["data"]["notification_id"])] += 1
                    lines += 1
            per_drain.append(lines)
        expected = args.events * RECIPIENTS
        twice = sum(1 for n in pairs.values() if n > 1)
        ok = twice == 0 and len(pairs) == expected
        row = {
            "database": args.database, "events": args.events, "expected": expected, "delivered": sum(per_drain),
            "per_drain": per_drain, "twice": twice, "missing": expected - len(pairs), "seconds": round(seconds),
            "rate": round(sum(per_drain) / seconds), "ok": ok,
            "command": f".venv/bin/python bench/drain.py --events {args.events} --database {args.database}",
            "measured": time.strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count(),
        }
        store = args.output.with_suffix(".json")
        rows = json.loads(store.read_text()) if store.exists() else {}
        rows[args.database] = row
        store.write_text(json.dumps(rows, indent=1) + "\n")
        report = render(rows)
        args.output.write_text(report)
        print(report)
        return 0 if ok else 1
    finally:
        if drop is not None:
            drop()
        # The database and push logs of a 100,000-event run take gigabytes.
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
