"""Benchmark scenarios for `bench/run.py`.

A scenario is: a name, a database (`sqlite` or `postgres`), setup steps that run against a
fresh database in a temporary directory, and the endpoints to drive with wrk. To add one,
append a `Scenario(...)` to `SCENARIOS` below; `bench/run.py --only NAME` runs just that one
and keeps every other scenario's figures in `bench/RESULTS.md`.

Setup steps
    Cli("db", "upgrade")                 `flask --app wsgi db upgrade` against the scenario's database
    Sh("... $FLASK demo seed ...")       a bash command; $FLASK, $PY, $DATABASE_URL, $WORKDIR, $REPO are set
    User("resident")                     `users create` with a generated e-mail/password; endpoints with
                                         `auth="resident"` send a Bearer token obtained by logging in
                                         over HTTP just before they are driven (tokens live 15 minutes)
    Py(func)                             func(ctx) in the harness process; ctx.database_url, ctx.workdir,
                                         ctx.env (dict passed to the servers) and ctx.vars (values for
                                         $placeholders in paths, bodies and Lua scripts)

Endpoints
    Endpoint(label, path, method="GET", auth=None, body=None, lua=None,
             target_ratio=None, target_p99_ms=None, expect_status=200)

    `body` (dict/list -> JSON, or str) is sent with every request (PUT/POST through a generated
    wrk Lua script). `lua` is a whole wrk script of your own instead (string.Template:
    $token, $path, $method and any ctx.vars). `target_ratio` is requests/s divided by the ceiling
    (the bare Flask app of `bench/bare_app.py` under the same gunicorn settings).

Example (a later issue's ballot; setup_ballot would be a Py step that creates the vote):

    Scenario(
        name="ballot-sqlite",
        database="sqlite",
        setup=[Cli("db", "upgrade"), Sh("$FLASK demo seed --ideas 1000"), User("resident"),
               Py(setup_ballot)],
        endpoints=[
            Endpoint("cast ballot", "/api/v1/votes/$vote_id/ballot", method="PUT", auth="resident",
                     body={"project_ids": [1, 2, 3]}, target_ratio=0.3),
        ],
    )
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


# --------------------------------------------------------------------------- setup steps
@dataclass(frozen=True)
class Cli:
    """`flask --app wsgi ARGS...` against the scenario's fresh database."""

    args: tuple[str, ...]
    timeout: float = 1800.0

    def __init__(self, *args: str, timeout: float = 1800.0) -> None:
        object.__setattr__(self, "args", tuple(args))
        object.__setattr__(self, "timeout", timeout)

    def describe(self) -> str:
        return "flask --app wsgi " + " ".join(self.args)


@dataclass(frozen=True)
class Sh:
    """A bash command; $FLASK, $PY, $DATABASE_URL, $WORKDIR and $REPO are in its environment."""

    command: str
    timeout: float = 1800.0

    def describe(self) -> str:
        return self.command


@dataclass(frozen=True)
class User:
    """An account with this role, created by `users create`; `auth=role` endpoints log in as it."""

    role: str
    email: str | None = None
    password: str = "bench-password-1234"

    def describe(self) -> str:
        return f"users create --role {self.role}"


@dataclass(frozen=True)
class Py:
    """A Python function called with the run context (see module docstring)."""

    func: Callable[[Any], None]
    timeout: float = 1800.0  # informational; Python steps run in-process

    def describe(self) -> str:
        return f"python {getattr(self.func, '__name__', repr(self.func))}()"


Step = Cli | Sh | User | Py


# --------------------------------------------------------------------------- endpoints
@dataclass(frozen=True)
class Endpoint:
    label: str
    path: str
    method: str = "GET"
    auth: str | None = None  # role of a User step whose token is sent
    body: Any = None  # dict/list (sent as JSON) or str, for PUT/POST
    lua: str | None = None  # a whole wrk script instead of the generated one
    target_ratio: float | None = None  # requests/s >= target_ratio * ceiling
    target_p99_ms: float | None = None  # p99 latency <= this
    # (label, factor): requests/s at least the other endpoint's (same scenario) ÷ factor, e.g.
    # ("response, no followers", 1.2) for "within 1.2× of the same with no followers"; or
    # ("other-scenario/label", factor) for a row of another scenario (run both together).
    within_of: tuple[str, float] | None = None
    expect_status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


@dataclass(frozen=True)
class Scenario:
    name: str
    database: str  # "sqlite" or "postgres"
    setup: list[Step]
    endpoints: list[Endpoint]
    description: str = ""
    env: dict[str, str] = field(default_factory=dict)  # extra environment for the app server

    def __post_init__(self) -> None:
        if self.database not in ("sqlite", "postgres"):
            raise ValueError(f"scenario {self.name}: database must be sqlite or postgres")
        labels = [e.label for e in self.endpoints]
        if len(labels) != len(set(labels)):
            raise ValueError(f"scenario {self.name}: endpoint labels must be unique")
        roles = {s.role for s in self.setup if isinstance(s, User)}
        for e in self.endpoints:
            if e.auth and e.auth not in roles:
                raise ValueError(f"scenario {self.name}: endpoint {e.label!r} needs a User({e.auth!r}) setup step")


# --------------------------------------------------------------------------- setup helpers
def open_ballot_round(ctx) -> None:
    """A Jugendparlament round in voting, with the bench resident as a current member."""
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    email = "bench-resident@example.org"
    out = subprocess.run(
        [sys.executable, str(repo / "bench" / "setup_ballot.py"), email],
        env={**ctx.env, "DATABASE_URL": ctx.database_url},
        capture_output=True,
        text=True,
        check=True,
        cwd=repo,
        timeout=300,
    ).stdout
    for line in out.splitlines():
        key, _, value = line.partition("=")
        ctx.vars[key] = value


def _ideas(name: str, database: str, ideas: int, target: float | None, description: str) -> Scenario:
    return Scenario(
        name=name,
        database=database,
        description=description,
        setup=[Cli("db", "upgrade"), Cli("demo", "seed", "--ideas", str(ideas)), User("resident")],
        endpoints=[
            Endpoint("ideas anonymous", "/api/v1/ideas", target_ratio=target),
            Endpoint("ideas top anonymous", "/api/v1/ideas?sort=top"),
            Endpoint("ideas logged in", "/api/v1/ideas", auth="resident"),
            Endpoint("ideas search", "/api/v1/ideas?district=hoerde&q=spielplatz"),
        ],
    )


FOLLOWERS = 10_000


def ideas_with_and_without_followers(ctx) -> None:
    """Two public ideas, one followed by 10,000 residents, one by nobody but its author."""
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, str(repo / "bench" / "setup_followers.py"), str(FOLLOWERS)],
        env={**ctx.env, "DATABASE_URL": ctx.database_url},
        capture_output=True, text=True, check=True, cwd=repo, timeout=600,
    ).stdout
    for line in out.splitlines():
        key, _, value = line.partition("=")
        ctx.vars[key] = value


def _responses(name: str, database: str) -> Scenario:
    body = {"status": "under_review", "body": "Die Verwaltung prüft den Vorschlag."}
    return Scenario(
        name=name,
        database=database,
        description=f"POST /ideas/{{id}}/response by staff: an idea with {FOLLOWERS:,} followers against one with none. "
                    "The request records one event; the worker fans it out later (issue: notifications).",
        setup=[Cli("db", "upgrade"), User("staff"), Py(ideas_with_and_without_followers)],
        endpoints=[
            Endpoint("response, no followers", "/api/v1/ideas/$quiet_idea/response", method="POST", auth="staff", body=body),
            Endpoint(f"response, {FOLLOWERS:,} followers", "/api/v1/ideas/$busy_idea/response", method="POST", auth="staff",
                     body=body, within_of=("response, no followers", 1.2)),
        ],
    )


def _last_months(count: int) -> tuple[str, str]:
    """The first and last of the `count` months up to this one, in Europe/Berlin (YYYY-MM)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo("Europe/Berlin"))
    first = today.year * 12 + today.month - 1 - (count - 1)
    return f"{first // 12:04d}-{first % 12 + 1:02d}", f"{today.year:04d}-{today.month:02d}"


# The demo seed files reports over the last two years: the statistics of all of them.
STATS_FROM, STATS_TO = _last_months(24)

# A 1 km² square (500 m each way) around Alter Markt, the city centre: minLon,minLat,maxLon,maxLat.
ALTER_MARKT_BOX = "7.458075,51.509103,7.472525,51.518097"
BOX_LABEL = "reports 1 km² box"


def _reports(name: str, database: str, reports: int, reference: str | None, description: str) -> Scenario:
    """Map reads on `reports` demo reports spread over the city's area (`demo seed --reports`).

    `reference` names the 10,000-report scenario the big one's box page must stay within
    1.3× of (a row of another scenario: run both in one invocation, `--only 'reports-sqlite-*'`).
    """
    return Scenario(
        name=name,
        database=database,
        description=description,
        # Photos of the seed land in the run's temporary directory, not in instance/.
        setup=[Cli("db", "upgrade"), Sh(f"MEDIA_DIR=$WORKDIR/media $FLASK demo seed --reports {reports}", timeout=1800)],
        endpoints=[
            Endpoint(BOX_LABEL, f"/api/v1/reports?bbox={ALTER_MARKT_BOX}&limit=50",
                     target_ratio=0.4 if reference else None,
                     within_of=(f"{reference}/{BOX_LABEL}", 1.3) if reference else None),
            Endpoint("clusters whole city, zoom 11", "/api/v1/reports/clusters?zoom=11",
                     target_ratio=0.3 if reference else None),
            Endpoint("reports whole city, newest 50", "/api/v1/reports?limit=50"),
            # Served from the worker's copy (STATS_CACHE_SECONDS) after the first request; the
            # computation from the kept counts is timed in-process (bench/REPORTS.md).
            Endpoint("stats whole city, two years", f"/api/v1/stats/reports?from={STATS_FROM}&to={STATS_TO}",
                     target_ratio=0.5 if reference else None),
            # GeoReport v2's defaults: the newest 1,000 requests of the last 90 days.
            Endpoint("open311 requests.json, spec defaults", "/open311/v2/requests.json",
                     target_ratio=0.1 if reference else None),
            Endpoint("open311 requests.xml, spec defaults", "/open311/v2/requests.xml"),
        ],
    )


# --------------------------------------------------------------------------- the scenarios
SCENARIOS: list[Scenario] = [
    Scenario(
        name="foundation",
        database="sqlite",
        description="Reference data and probes on a freshly migrated SQLite database (issue: foundation).",
        setup=[Cli("db", "upgrade")],
        endpoints=[
            Endpoint("districts", "/api/v1/districts", target_ratio=0.7, target_p99_ms=10.0),
            Endpoint("healthz", "/healthz"),
            Endpoint("categories", "/api/v1/categories"),
        ],
    ),
    Scenario(
        name="foundation-postgres",
        database="postgres",
        description="The same reference-data reads on PostgreSQL (fresh database, dropped afterwards).",
        setup=[Cli("db", "upgrade"), User("resident")],
        endpoints=[
            Endpoint("districts", "/api/v1/districts", target_ratio=0.7, target_p99_ms=10.0),
            Endpoint("me (resident)", "/api/v1/me", auth="resident"),
        ],
    ),
    _ideas(
        "ideas-sqlite-100k",
        "sqlite",
        100_000,
        0.35,
        "GET /ideas (20 per page, with counts) on 100,000 ideas with about 1.2 million supports (issue: ideas).",
    ),
    _ideas(
        "ideas-sqlite-10k",
        "sqlite",
        10_000,
        None,
        "The same requests on 10,000 ideas: the 100,000-idea figures should be within 1.3× of these.",
    ),
    _ideas(
        "ideas-postgres-100k",
        "postgres",
        100_000,
        0.25,
        "GET /ideas on PostgreSQL, 100,000 ideas with about 1.2 million supports (issue: ideas).",
    ),
    Scenario(
        name="moderation-queue",
        database="sqlite",
        description="GET /moderation/queue with 100,000 ideas waiting for pre-moderation (issue: ideas).",
        setup=[Cli("db", "upgrade"), Cli("demo", "seed", "--pending", "100000"), User("moderator")],
        endpoints=[
            Endpoint("queue", "/api/v1/moderation/queue", auth="moderator", target_ratio=0.3),
            Endpoint("queue pending ideas", "/api/v1/moderation/queue?type=idea&state=pending", auth="moderator"),
        ],
    ),
    Scenario(
        name="ballot",
        database="sqlite",
        description="PUT /rounds/{id}/ballot: a member replaces their approval ballot (issue: budgets).",
        setup=[Cli("db", "upgrade"), Cli("demo", "seed"), User("resident"), Py(open_ballot_round)],
        endpoints=[
            Endpoint(
                "cast ballot",
                "/api/v1/rounds/$round_id/ballot",
                method="PUT",
                auth="resident",
                body='{"item_ids": [$item_ids]}',
                target_ratio=0.4,
            ),
        ],
    ),
    _responses("idea-response-sqlite", "sqlite"),
    _responses("idea-response-postgres", "postgres"),
    _reports(
        "reports-sqlite-10k",
        "sqlite",
        10_000,
        None,
        "The map on 10,000 reports (about 36 in the 1 km² box around Alter Markt): the reference for the million.",
    ),
    _reports(
        "reports-sqlite-1m",
        "sqlite",
        1_000_000,
        "reports-sqlite-10k",
        "GET /reports in a 1 km² box around Alter Markt (about 3,500 reports) and the whole city's clusters at zoom 11, "
        "on 1,000,000 reports spread over the city's area (issue: reports).",
    ),
    _reports(
        "reports-postgres-10k",
        "postgres",
        10_000,
        None,
        "The same map reads on PostgreSQL, 10,000 reports: the reference for the million.",
    ),
    _reports(
        "reports-postgres-1m",
        "postgres",
        1_000_000,
        "reports-postgres-10k",
        "The same map reads on PostgreSQL (PostGIS installed), 1,000,000 reports (issue: reports).",
    ),
]
