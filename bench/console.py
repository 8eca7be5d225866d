"""Console pages' server time at `make bench`'s demo data sizes (target: every page ≤ 100 ms).

    .venv/bin/python bench/console.py                                   # SQLite (seeded once, then reused)
    .venv/bin/python bench/console.py --postgres postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/console.py --ideas 10000 --reports 10000 --pending 1000 --no-write   # a quick look

Seeds a database with `flask --app wsgi demo seed --ideas N --reports N --pending N` at the
sizes bench/scenarios.py drives (100,000 ideas with about 1.2 million supports; 1,000,000
reports; 100,000 ideas waiting in the moderation queue), logs in through the console's own
forms with Flask's test client in-process (the demo moderator and staff; the demo admin after a
two-factor enrolment done here), and times each console page: the median and the slowest of
`--runs` GETs after two warm-ups, server time only (no network, no browser). The SQLite file is
kept in `--workdir` and reused while the sizes match; a PostgreSQL database is created fresh
on the given server and dropped afterwards. Prints a Markdown table and writes bench/CONSOLE.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))

TARGET_MS = 100.0
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

# (label, who, path): $name is filled from what the pages themselves link to (see `discover`).
# Who: anonymous, moderator, staff or admin (demo accounts). A page whose route this checkout
# does not have yet is listed as absent, not failed.
PAGES = [
    ("login", "anonymous", "/console/login"),
    ("moderation queue", "moderator", "/console/moderation"),
    ("moderation queue, pending ideas", "moderator", "/console/moderation?type=idea&state=pending"),
    ("moderation queue, flagged", "moderator", "/console/moderation?state=flagged"),
    ("moderation queue, next page", "moderator", "$queue_next"),
    ("moderation log", "moderator", "/console/moderation/log"),
    ("reports, open", "staff", "/console/reports"),
    ("reports, one department", "staff", "/console/reports?department=edg"),
    ("report page", "staff", "$report"),
    ("report page, centre (most nearby)", "staff", "$report_centre"),
    ("two-factor", "staff", "/console/two-factor"),
    ("ideas", "staff", "/console/ideas"),
    ("idea page", "staff", "$idea"),
    ("news", "staff", "/console/news"),
    ("blocks", "moderator", "/console/blocks"),
    ("news item", "staff", "$news_item"),
    ("budget rounds", "staff", "/console/budgets"),
    ("budget round", "staff", "$budget_round"),
    ("budget round results", "staff", "$budget_results"),
]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- databases
def flask_env(url: str, workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "APP_ENV", "FLASK_APP", "REQUEST_LOG")}
    env.update(DATABASE_URL=url, APP_ENV="development", MEDIA_DIR=str(workdir / "media"), REQUEST_LOG="0",
               PYTHONDONTWRITEBYTECODE="1")
    return env


def seed(url: str, workdir: Path, sizes: dict) -> float:
    flask = [str(Path(sys.executable).parent / "flask"), "--app", "wsgi"]
    env = flask_env(url, workdir)
    started = time.monotonic()
    for args in (["db", "upgrade"],
                 ["demo", "seed", "--ideas", str(sizes["ideas"]), "--reports", str(sizes["reports"]), "--pending", str(sizes["pending"])]):
        log(f"  flask --app wsgi {' '.join(args)}")
        done = subprocess.run(flask + args, env=env, cwd=REPO, capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            raise SystemExit(f"seed failed ({done.returncode}): {' '.join(args)}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return time.monotonic() - started


def sqlite_database(workdir: Path, sizes: dict) -> tuple[str, float | None]:
    path, stamp = workdir / "console.db", workdir / "console.db.json"
    url = f"sqlite:///{path}"
    if path.exists() and stamp.exists() and json.loads(stamp.read_text()) == sizes:
        log(f"SQLite: reusing {path} ({sizes}), migrated to this checkout")
        upgrade = subprocess.run([str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "db", "upgrade"],
                                 env=flask_env(url, workdir), cwd=REPO, capture_output=True, text=True, timeout=1800)
        if upgrade.returncode != 0:
            raise SystemExit(f"db upgrade of the kept database failed:\n{upgrade.stderr[-2000:]}")
        return url, None
    for leftover in workdir.glob("console.db*"):
        leftover.unlink()
    log(f"SQLite: seeding {path} ({sizes})")
    took = seed(url, workdir, sizes)
    stamp.write_text(json.dumps(sizes))
    return url, took


def postgres_database(server_url: str, workdir: Path, sizes: dict):
    import psycopg

    name = f"bench_console_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{server_url.rsplit('/', 1)[0]}/{name}"

    def drop():
        with psycopg.connect(server_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        log(f"PostgreSQL: dropped {name}")

    log(f"PostgreSQL: seeding {name} ({sizes})")
    try:
        took = seed(url, workdir, sizes)
    except BaseException:
        drop()
        raise
    return url, took, drop


# ---------------------------------------------------------------------------- logging in
def login(client, email: str, password: str, code: str | None = None) -> None:
    token = CSRF.search(client.get("/console/login").get_data(as_text=True)).group(1)
    answer = client.post("/console/login", data={"email": email, "password": password, "csrf_token": token})
    if code is not None and answer.headers.get("Location", "").endswith("/console/login/code"):
        token = CSRF.search(client.get("/console/login/code").get_data(as_text=True)).group(1)
        answer = client.post("/console/login/code", data={"code": code, "csrf_token": token})
    if answer.status_code != 302 or "/console/login" in answer.headers.get("Location", ""):
        raise SystemExit(f"console login of {email} failed: {answer.status_code} {answer.headers.get('Location')}")


def admin_recovery_code(app, email: str) -> str:
    """Enrol the demo admin in two-factor login here (required for admins); a recovery code logs in."""
    import pyotp
    from sqlalchemy import select

    from api.extensions import db
    from models import two_factor
    from models.users import User

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email_key == email))
        row = db.session.get(two_factor.TwoFactor, user.id)
        if row is not None and row.is_active:
            db.session.delete(row)
            db.session.flush()
        row = two_factor.enrolment(db.session, user.id)
        codes = two_factor.confirm_enrolment(db.session, row, pyotp.TOTP(row.secret).now())
        db.session.commit()
        db.session.remove()
    return codes[0]


def clients(app) -> dict:
    from api.demo import DEMO_ACCOUNTS

    accounts = {role: (email, password) for email, password, role in DEMO_ACCOUNTS}
    made = {"anonymous": app.test_client()}
    for role in ("moderator", "staff"):
        made[role] = app.test_client()
        login(made[role], *accounts[role])
    made["admin"] = app.test_client()
    login(made["admin"], *accounts["admin"], code=admin_recovery_code(app, accounts["admin"][0]))
    return made


def discover(app, made: dict) -> dict[str, str]:
    """Paths the pages link to: the queue's next page, a report, one in the busy centre, an idea, a round."""
    from sqlalchemy import select

    from api.extensions import db
    from models.reports import Report

    found: dict[str, str] = {}
    queue = made["moderator"].get("/console/moderation").get_data(as_text=True)
    more = re.search(r'href="(/console/moderation\?[^"]*cursor=[^"]+)"', queue)
    if more:
        found["queue_next"] = more.group(1).replace("&amp;", "&")
    if has_route(app, "/console/news/new") and not re.search(r'href="/console/news/\d+"', made["staff"].get("/console/news").get_data(as_text=True)):
        # The demo seed writes no news: one event through the console's own form.
        form = made["staff"].get("/console/news/new").get_data(as_text=True)
        made["staff"].post("/console/news", data={
            "csrf_token": CSRF.search(form).group(1), "kind": "event", "district": "hoerde", "title": "Bürgerforum Phoenix-See",
            "body": "Wie soll das Nordufer aussehen?", "starts_at": "2027-06-12T18:00", "ends_at": "2027-06-12T20:00", "place": "Hörde"})
    listing = made["staff"].get("/console/reports").get_data(as_text=True)
    first = re.search(r'href="(/console/reports/\d+)"', listing)
    if first:
        found["report"] = first.group(1)
    with app.app_context():
        # Alter Markt: the densest part of the demo city, so the most duplicate candidates nearby.
        centre = db.session.scalar(
            select(Report.id).where(Report.status == "open", Report.lat.between(51.510, 51.517), Report.lon.between(7.458, 7.472))
            .order_by(Report.id.desc()).limit(1))
        db.session.remove()
    if centre:
        found["report_centre"] = f"/console/reports/{centre}"
    for name, client, listing_path, pattern in (
        ("idea", made["staff"], "/console/ideas", r'href="(/console/ideas/\d+)"'),
        ("news_item", made["staff"], "/console/news", r'href="(/console/news/\d+)"'),
        ("budget_round", made["staff"], "/console/budgets", r'href="(/console/budgets/rounds/\d+)"'),
    ):
        answer = client.get(listing_path)
        hit = re.search(pattern, answer.get_data(as_text=True)) if answer.status_code == 200 else None
        if hit:
            found[name] = hit.group(1)
    if "budget_round" in found:
        found["budget_results"] = found["budget_round"] + "/results"
        if made["staff"].get(found["budget_results"]).status_code != 200:
            run_demo_round(made, found["budget_round"])
    return found


def run_demo_round(made: dict, round_path: str) -> None:
    """The demo seed's round takes proposals: vote (the demo resident, through the API), count, publish."""
    from api.demo import DEMO_ACCOUNTS

    staff = made["staff"]
    round_id = int(round_path.rsplit("/", 1)[1])

    def move(to: str) -> None:
        token = CSRF.search(staff.get(round_path).get_data(as_text=True)).group(1)
        answer = staff.post(f"{round_path}/transition", data={"csrf_token": token, "to": to})
        if answer.status_code != 302:
            raise SystemExit(f"moving the demo round to {to} answered {answer.status_code}")

    move("voting")
    email, password = next((e, p) for e, p, role in DEMO_ACCOUNTS if role == "resident")
    resident = made["anonymous"]
    token = resident.post("/api/v1/auth/login", json={"email": email, "password": password}).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    items = [item["id"] for item in resident.get(f"/api/v1/rounds/{round_id}", headers=headers).get_json()["items"]]
    answer = resident.put(f"/api/v1/rounds/{round_id}/ballot", json={"item_ids": items[:2]}, headers=headers)
    if answer.status_code != 200:
        raise SystemExit(f"the demo resident's ballot answered {answer.status_code}: {answer.get_json()}")
    move("closed")
    move("published")


# ---------------------------------------------------------------------------- timing
def has_route(app, page_path: str) -> bool:
    from werkzeug.exceptions import MethodNotAllowed, NotFound

    try:
        app.url_map.bind("localhost").match(page_path.split("?")[0], method="GET")
    except (NotFound, MethodNotAllowed):
        return False
    except Exception:  # noqa: BLE001 - a redirect (RequestRedirect) still names a route
        return True
    return True


def time_pages(url: str, runs: int) -> dict[str, dict]:
    from api import create_app

    app = create_app({"APP_ENV": "development", "DATABASE_URL": url, "REQUEST_LOG": False,
                      "THROTTLE_STORAGE_URI": "memory://", "PUSH_BACKEND": "memory"})
    made = clients(app)
    found = discover(app, made)
    results: dict[str, dict] = {}
    for label, who, page_path in PAGES:
        if page_path.startswith("$"):
            page_path = found.get(page_path[1:])
            if page_path is None:
                results[label] = {"absent": True}
                continue
        if not has_route(app, page_path):
            results[label] = {"absent": True}
            continue
        client = made[who]
        first = client.get(page_path)
        if first.status_code != 200:
            # A page of a state the demo data does not have (results of a round still taking proposals).
            results[label] = {"path": page_path, "who": who, "status": first.status_code}
            log(f"  {label:<38} answered {first.status_code}, not timed  {page_path}")
            continue
        client.get(page_path)
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            answer = client.get(page_path)
            answer.get_data()
            times.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200, (label, answer.status_code)
        results[label] = {"path": page_path, "who": who, "median": statistics.median(times), "max": max(times),
                          "bytes": len(first.get_data())}
        log(f"  {label:<38} {results[label]['median']:7.1f} ms median, {results[label]['max']:7.1f} ms slowest  {page_path}")
    from api.extensions import db

    db.engine.dispose()
    return results


def counts(url: str) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        out = {table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
               for table in ("ideas", "supports", "reports", "moderation_queue", "moderation_decisions")}
    engine.dispose()
    return out


# ---------------------------------------------------------------------------- the table
def table(runs: dict[str, dict[str, dict]]) -> list[str]:
    databases = list(runs)
    head = "| page | as | path | " + " | ".join(f"{d} median ms | {d} slowest ms" for d in databases) + " | ≤ 100 ms |"
    lines = [head, "|" + "---|" * 3 + "---:|---:|" * len(databases) + ":---:|"]
    for label, who, _ in PAGES:
        cells, ok, shown_path = [], True, ""
        for database in databases:
            row = runs[database].get(label, {"absent": True})
            if row.get("absent"):
                cells += ["–", "–"]
                continue
            if "status" in row:
                shown_path = row["path"]
                cells += [f"answered {row['status']}", "–"]
                continue
            shown_path = row["path"]
            cells += [f"{row['median']:.1f}", f"{row['max']:.1f}"]
            ok = ok and row["median"] <= TARGET_MS
        if shown_path == "":
            continue  # a page this checkout does not have
        lines.append(f"| {label} | {who} | `{shown_path}` | " + " | ".join(cells) + f" | {'yes' if ok else '**no**'} |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ideas", type=int, default=100_000)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--postgres", metavar="SERVER_URL", help="also on PostgreSQL (a fresh database on this server)")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench-console"))
    parser.add_argument("--out", type=Path, default=BENCH / "CONSOLE.md")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    sizes = {"ideas": args.ideas, "reports": args.reports, "pending": args.pending}
    args.workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()

    runs: dict[str, dict] = {}
    notes: list[str] = []
    if not args.no_sqlite:
        url, took = sqlite_database(args.workdir, sizes)
        notes.append(f"SQLite: {counts(url)}; seeded in {took:.0f} s" if took else f"SQLite: {counts(url)}; seeded earlier (reused)")
        log("SQLite: timing")
        runs["SQLite"] = time_pages(url, args.runs)
    if args.postgres:
        url, took, drop = postgres_database(args.postgres, args.workdir, sizes)
        try:
            notes.append(f"PostgreSQL: {counts(url)}; seeded in {took:.0f} s")
            log("PostgreSQL: timing")
            runs["PostgreSQL"] = time_pages(url, args.runs)
        finally:
            drop()

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "console", "models", "api"], cwd=REPO, capture_output=True, text=True).stdout
    command = "bench/console.py " + " ".join(sys.argv[1:])
    out = [
        "# Console pages: server time",
        "",
        f"Target (issue \"Staff console\"): every console page renders in ≤ {TARGET_MS:.0f} ms server time at the demo data "
        "sizes of `make bench`. Measured in-process with Flask's test client (logged in through the console's forms), "
        f"the median and the slowest of {args.runs} GETs after two warm-ups; no network, no browser.",
        "",
        f"Data: `flask --app wsgi demo seed --ideas {args.ideas} --reports {args.reports} --pending {args.pending}`.",
        "",
        *table(runs),
        "",
        *[f"- {note}" for note in notes],
        f"- measured {datetime.now(timezone.utc).isoformat(timespec='seconds')} on commit {commit}{'+uncommitted' if dirty else ''}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, load average at the end "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; whole run {time.monotonic() - started:.0f} s",
        f"- command: `.venv/bin/python {command.strip()}`",
        "",
    ]
    print("\n".join(out))
    if not args.no_write:
        args.out.write_text("\n".join(out))
        log(f"wrote {args.out}")
    slow = [label for database in runs.values() for label, row in database.items() if "median" in row and row["median"] > TARGET_MS]
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
